package org.jv2v.fs.xfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Extended attributes in every form: shortform (inside the inode), a single leaf block, and a
 * dir/attr B+tree (da-btree) of leaves, with values stored locally or in remote blocks. Names get
 * the Linux namespace prefix of their flags: "trusted." (XFS_ATTR_ROOT), "security."
 * (XFS_ATTR_SECURE) or "user.".
 */
final class Attributes {
    /** Linux caps one value at 64 KiB (XATTR_SIZE_MAX). */
    static final int MAX_VALUE = 65536;
    /** All names and values of one file; far beyond anything real, refused beyond. */
    static final long MAX_TOTAL_BYTES = 64L << 20;
    /** The kernel's XFS_DA_NODE_MAXDEPTH. */
    static final int MAX_DA_DEPTH = 5;

    static final int FLAG_LOCAL = 0x01;
    static final int FLAG_ROOT = 0x02;
    static final int FLAG_SECURE = 0x04;
    static final int FLAG_PARENT = 0x08;
    static final int FLAG_INCOMPLETE = 0x80;

    static final int LEAF_MAGIC = 0xfbee;
    static final int LEAF3_MAGIC = 0x3bee;
    static final int NODE_MAGIC = 0xfebe;
    static final int NODE3_MAGIC = 0x3ebe;
    static final int RMT3_MAGIC = 0x5841524d; // "XARM"
    static final int LEAF_HDR = 0x20;
    static final int LEAF3_HDR = 0x50;
    static final int NODE_HDR = 0x10;
    static final int NODE3_HDR = 0x40;
    static final int DA3_CRC = 0x0c;
    static final int RMT3_HDR = 0x38;

    private final Volume v;
    private final Inode inode;
    private final Map<String, byte[]> out = new LinkedHashMap<>();
    private long total;
    private Fork fork;

    private Attributes(Volume v, Inode inode) {
        this.v = v;
        this.inode = inode;
    }

    static Map<String, byte[]> read(Volume v, Inode inode) throws IOException {
        Attributes a = new Attributes(v, inode);
        if (inode.attrFork() != null) {
            switch (inode.aformat()) {
                case Inode.FMT_LOCAL -> a.shortform();
                case Inode.FMT_EXTENTS, Inode.FMT_BTREE -> a.tree();
                default -> throw v.corrupt("attribute fork of " + inode.describe(), inode.offset(),
                        "format " + inode.aformat());
            }
        }
        return a.out;
    }

    private void add(int flags, byte[] name, byte[] value, long where) {
        if ((flags & (FLAG_INCOMPLETE | FLAG_PARENT)) != 0) {
            return; // half-written, or a parent pointer (filesystem-internal)
        }
        total += name.length + value.length;
        if (total > MAX_TOTAL_BYTES) {
            throw v.corrupt("attributes of " + inode.describe(), where, "more than " + MAX_TOTAL_BYTES + " bytes");
        }
        String prefix = (flags & FLAG_ROOT) != 0 ? "trusted." : (flags & FLAG_SECURE) != 0 ? "security." : "user.";
        out.put(prefix + new String(name, StandardCharsets.UTF_8), value);
    }

    private void shortform() {
        ByteBuffer b = inode.attrFork();
        String field = "shortform attributes of " + inode.describe();
        int totsize = Superblock.u16(b, 0);
        int count = Superblock.u8(b, 2);
        if (totsize < 4 || totsize > b.capacity()) {
            throw v.corrupt(field, inode.offset(), "total size " + totsize + " does not fit the fork ("
                    + b.capacity() + " bytes)");
        }
        int pos = 4;
        for (int i = 0; i < count; i++) {
            if (pos + 3 > totsize) {
                throw v.corrupt(field, inode.offset(), "entry " + i + " of " + count + " starts past the end");
            }
            int nameLen = Superblock.u8(b, pos);
            int valueLen = Superblock.u8(b, pos + 1);
            int flags = Superblock.u8(b, pos + 2);
            if (pos + 3 + nameLen + valueLen > totsize) {
                throw v.corrupt(field, inode.offset(), "entry " + i + " runs past the end");
            }
            byte[] name = new byte[nameLen];
            byte[] value = new byte[valueLen];
            b.get(pos + 3, name).get(pos + 3 + nameLen, value);
            add(flags, name, value, inode.offset());
            pos += 3 + nameLen + valueLen;
        }
    }

    private void tree() throws IOException {
        if (inode.aformat() == Inode.FMT_EXTENTS && inode.anextents() == 0) {
            // an extents fork with no extents: its attributes were all removed (or none was ever
            // added), as xfs_repair and the kernel read it; nothing to list
            return;
        }
        fork = Fork.attr(v, inode);
        walk(0, 0, new HashSet<>());
    }

    /** Visits attribute-fork block {@code dablk}: a leaf, or a node whose children are visited in order. */
    private void walk(long dablk, int depth, Set<Long> seen) throws IOException {
        if (!seen.add(dablk)) {
            throw v.corrupt("attribute B+tree of " + inode.describe(), inode.offset(),
                    "block " + dablk + " is reached twice: loop");
        }
        long off = fork.blockOffsets(dablk, 1, "attribute block of " + inode.describe())[0];
        String field = "attribute block " + dablk + " of " + inode.describe();
        ByteBuffer b = v.metaBlock(off, field);
        boolean v5 = v.sb.isV5();
        int magic = Superblock.u16(b, 0x08);
        if (v5 && (magic == LEAF3_MAGIC || magic == NODE3_MAGIC)) {
            v.checkCrc(b, v.blockSize, DA3_CRC, field, off);
            v.checkSelf(b, 0x20, 0x10, off, 0x30, 8, inode.ino(), field);
        }
        if (magic == (v5 ? LEAF3_MAGIC : LEAF_MAGIC)) {
            leaf(b, off, field);
        } else if (magic == (v5 ? NODE3_MAGIC : NODE_MAGIC)) {
            if (depth >= MAX_DA_DEPTH) {
                throw v.corrupt(field, off, "B+tree deeper than " + MAX_DA_DEPTH + " levels");
            }
            int hdr = v5 ? NODE3_HDR : NODE_HDR;
            int count = Superblock.u16(b, hdr - (v5 ? 8 : 4));
            if (count > (v.blockSize - hdr) / 8) {
                throw v.corrupt(field, off, "node count " + count + " does not fit the block");
            }
            for (int i = 0; i < count; i++) {
                walk(Superblock.u32(b, hdr + i * 8 + 4), depth + 1, seen);
            }
        } else {
            throw v.corrupt(field, off, "bad magic 0x" + Integer.toHexString(magic));
        }
    }

    private void leaf(ByteBuffer b, long off, String field) throws IOException {
        boolean v5 = v.sb.isV5();
        int hdr = v5 ? LEAF3_HDR : LEAF_HDR;
        int count = Superblock.u16(b, v5 ? 0x38 : 0x0c);
        int bs = v.blockSize;
        if (count > (bs - hdr) / 8) {
            throw v.corrupt(field, off, "entry count " + count + " does not fit the block");
        }
        for (int i = 0; i < count; i++) {
            int e = hdr + i * 8;
            int nameIdx = Superblock.u16(b, e + 4);
            int flags = Superblock.u8(b, e + 6);
            if (nameIdx < hdr + count * 8 || nameIdx >= bs) {
                throw v.corrupt(field, off + e, "name offset " + nameIdx + " is outside the name area");
            }
            if ((flags & FLAG_LOCAL) != 0) {
                if (nameIdx + 3 > bs) {
                    throw v.corrupt(field, off + nameIdx, "local entry runs past the block");
                }
                int valueLen = Superblock.u16(b, nameIdx);
                int nameLen = Superblock.u8(b, nameIdx + 2);
                if (nameIdx + 3 + nameLen + valueLen > bs) {
                    throw v.corrupt(field, off + nameIdx, "local entry of " + (nameLen + valueLen) + " bytes runs past the block");
                }
                byte[] name = new byte[nameLen];
                byte[] value = new byte[valueLen];
                b.get(nameIdx + 3, name).get(nameIdx + 3 + nameLen, value);
                add(flags, name, value, off + nameIdx);
            } else {
                if (nameIdx + 9 > bs) {
                    throw v.corrupt(field, off + nameIdx, "remote entry runs past the block");
                }
                long valueBlk = Superblock.u32(b, nameIdx);
                long valueLen = Superblock.u32(b, nameIdx + 4);
                int nameLen = Superblock.u8(b, nameIdx + 8);
                if (nameIdx + 9 + nameLen > bs) {
                    throw v.corrupt(field, off + nameIdx, "remote entry name runs past the block");
                }
                if (valueLen > MAX_VALUE) {
                    throw v.corrupt(field, off + nameIdx, "remote value of " + valueLen + " bytes (at most " + MAX_VALUE + ")");
                }
                byte[] name = new byte[nameLen];
                b.get(nameIdx + 9, name);
                if ((flags & (FLAG_INCOMPLETE | FLAG_PARENT)) != 0) {
                    continue;
                }
                add(flags, name, remote(valueBlk, (int) valueLen, off + nameIdx), off + nameIdx);
            }
        }
    }

    /** A value kept in its own blocks; on v5 each filesystem block starts with a checked header. */
    private byte[] remote(long firstBlock, int length, long where) throws IOException {
        byte[] value = new byte[length];
        boolean v5 = v.sb.isV5();
        int bs = v.blockSize;
        int perBlock = v5 ? bs - RMT3_HDR : bs;
        int done = 0;
        for (long blk = firstBlock; done < length; blk++) {
            long off = fork.blockOffsets(blk, 1, "remote attribute value of " + inode.describe())[0];
            String field = "remote attribute value block of " + inode.describe();
            ByteBuffer b = v.metaBlock(off, field);
            int n = Math.min(perBlock, length - done);
            int dataOff = 0;
            if (v5) {
                if (b.getInt(0) != RMT3_MAGIC) {
                    throw v.corrupt(field, off, "bad magic 0x" + Integer.toHexString(b.getInt(0)));
                }
                v.checkCrc(b, bs, 0x0c, field, off);
                v.checkSelf(b, 0x10, 0x28, off, 0x20, 8, inode.ino(), field);
                long rmOffset = Superblock.u32(b, 0x04);
                long rmBytes = Superblock.u32(b, 0x08);
                if (rmOffset != done || rmBytes != n) {
                    throw v.corrupt(field, off, "holds bytes [" + rmOffset + ", +" + rmBytes + ") of the value, expected ["
                            + done + ", +" + n + ")");
                }
                dataOff = RMT3_HDR;
            }
            b.get(dataOff, value, done, n);
            done += n;
        }
        return value;
    }
}
