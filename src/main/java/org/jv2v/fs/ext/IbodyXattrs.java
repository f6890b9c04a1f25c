package org.jv2v.fs.ext;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The extended attributes stored in an inode after its fixed fields, for editing: parsed into
 * entries and written back packed (entries from the front, values from the end), which is how
 * inline data's "system.data" grows, shrinks or goes away. Entries other than the one changed
 * keep their names, values and hashes.
 */
final class IbodyXattrs {
    /** One entry; {@code valueInum} is non-zero when the value lives in an inode (ea_inode). */
    record Entry(int index, byte[] name, byte[] value, int hash, long valueInum, int valueSize) {}

    static final int ENTRY_HEADER = 16;
    static final byte[] DATA = "data".getBytes(StandardCharsets.US_ASCII);

    private IbodyXattrs() {}

    private static int pad4(int n) {
        return (n + 3) & ~3;
    }

    /** The entries, or an empty list when the inode has no in-inode attribute area. */
    static List<Entry> parse(ExtFileSystem fs, InodeRecord in) {
        byte[] raw = in.raw;
        List<Entry> out = new ArrayList<>();
        int start = Inode.GOOD_OLD_SIZE + in.extraIsize();
        if (raw.length <= Inode.GOOD_OLD_SIZE || start + 4 > raw.length || Le.i32(raw, start) != Xattrs.MAGIC) {
            return out;
        }
        int base = start + 4;
        int p = base;
        while (p + 4 <= raw.length && Le.i32(raw, p) != 0) {
            if (p + ENTRY_HEADER > raw.length) {
                throw fs.bad("inode " + in.number + " xattr entry", in.diskOffset() + p, "runs past the inode");
            }
            int nameLen = Le.u8(raw, p);                             // 0x00 e_name_len
            int index = Le.u8(raw, p + 1);                           // 0x01 e_name_index
            int offs = Le.u16(raw, p + 2);                           // 0x02 e_value_offs
            long inum = Le.u32(raw, p + 4);                          // 0x04 e_value_inum
            long size = Le.u32(raw, p + 8);                          // 0x08 e_value_size
            int hash = Le.i32(raw, p + 12);                          // 0x0c e_hash
            if (p + ENTRY_HEADER + nameLen > raw.length || nameLen == 0) {
                throw fs.bad("inode " + in.number + " xattr entry e_name_len", in.diskOffset() + p,
                        nameLen + " does not fit the inode");
            }
            byte[] name = Arrays.copyOfRange(raw, p + ENTRY_HEADER, p + ENTRY_HEADER + nameLen);
            byte[] value = new byte[0];
            if (inum == 0) {
                if (size > raw.length || base + offs + size > raw.length) {
                    throw fs.bad("inode " + in.number + " xattr entry e_value_offs", in.diskOffset() + p + 2,
                            "value [" + offs + ", +" + size + ") lies outside the inode");
                }
                value = Arrays.copyOfRange(raw, base + offs, base + offs + (int) size);
            }
            out.add(new Entry(index, name, value, hash, inum, (int) Math.min(size, Integer.MAX_VALUE)));
            p += pad4(ENTRY_HEADER + nameLen);
        }
        return out;
    }

    /** The index of inline data's "system.data" entry, or -1. */
    static int findData(List<Entry> entries) {
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (e.index() == Xattrs.INDEX_SYSTEM && Arrays.equals(e.name(), DATA)) {
                return i;
            }
        }
        return -1;
    }

    /** An entry whose hash matches its name and value (the hash e2fsck checks). */
    static Entry entry(int index, byte[] name, byte[] value) {
        int h = 0;
        for (byte b : name) {
            h = (h << 5) ^ (h >>> 27) ^ (b & 0xff);
        }
        byte[] padded = Arrays.copyOf(value, pad4(value.length));
        for (int i = 0; i < padded.length; i += 4) {
            h = (h << 16) ^ (h >>> 16) ^ Le.i32(padded, i);
        }
        return new Entry(index, name, value, h, 0, value.length);
    }

    /** Writes {@code entries} as the inode's attribute area; false when they do not fit. */
    static boolean write(InodeRecord in, List<Entry> entries) {
        byte[] raw = in.raw;
        int start = Inode.GOOD_OLD_SIZE + in.extraIsize();
        if (raw.length <= Inode.GOOD_OLD_SIZE || start + 4 > raw.length) {
            return entries.isEmpty();
        }
        int base = start + 4;
        int headers = 0;
        int values = 0;
        for (Entry e : entries) {
            headers += pad4(ENTRY_HEADER + e.name().length);
            if (e.valueInum() == 0) {
                values += pad4(e.value().length);
            }
        }
        if (base + headers + 4 + values > raw.length) {
            return false;
        }
        Arrays.fill(raw, start, raw.length, (byte) 0);
        if (entries.isEmpty()) {
            return true; // no magic: no attribute area in use
        }
        Le.put32(raw, start, Xattrs.MAGIC);
        int p = base;
        int vEnd = raw.length;
        for (Entry e : entries) {
            int offs = 0;
            if (e.valueInum() == 0 && e.value().length > 0) {
                vEnd -= pad4(e.value().length);
                System.arraycopy(e.value(), 0, raw, vEnd, e.value().length);
                offs = vEnd - base;
            }
            Le.put8(raw, p, e.name().length);
            Le.put8(raw, p + 1, e.index());
            Le.put16(raw, p + 2, offs);
            Le.put32(raw, p + 4, e.valueInum());
            Le.put32(raw, p + 8, e.valueInum() == 0 ? e.value().length : e.valueSize());
            Le.put32(raw, p + 12, e.hash());
            System.arraycopy(e.name(), 0, raw, p + ENTRY_HEADER, e.name().length);
            p += pad4(ENTRY_HEADER + e.name().length);
        }
        return true;
    }
}
