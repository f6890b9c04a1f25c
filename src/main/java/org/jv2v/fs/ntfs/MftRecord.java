package org.jv2v.fs.ntfs;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One FILE record of the MFT, fixups applied, with its attribute records parsed.
 *
 * @param baseRef  0 for a base record, else the reference of the base record this one extends
 */
record MftRecord(long number, int sequence, int linkCount, int flags, long baseRef, List<Attr> attrs) {

    static final int FLAG_IN_USE = 0x0001;
    static final int FLAG_DIRECTORY = 0x0002;

    boolean inUse() {
        return (flags & FLAG_IN_USE) != 0;
    }

    boolean directory() {
        return (flags & FLAG_DIRECTORY) != 0;
    }

    /** The geometry the parser checks records against. */
    record Geometry(String device, int recordSize, long clusters) {}

    /** Parses the record {@code number} read from {@code diskOffset}; {@code raw} is modified (fixups). */
    static MftRecord parse(byte[] raw, long number, long diskOffset, Geometry g) {
        String what = "MFT record " + number;
        ByteBuffer b = Ntfs.le(raw);
        String magic = new String(raw, 0, 4, StandardCharsets.US_ASCII);
        if (magic.equals("BAAD")) {
            throw Ntfs.bad(g.device(), what, diskOffset, "marked BAAD (a torn write chkdsk found)");
        }
        if (!magic.equals("FILE")) {
            if (allZero(raw)) {
                return new MftRecord(number, 0, 0, 0, 0, List.of());
            }
            throw Ntfs.bad(g.device(), what + " magic", diskOffset, "\"" + printable(magic) + "\" is not \"FILE\"");
        }
        Fixups.apply(b, g.recordSize(), g.device(), what, diskOffset);
        int sequence = Ntfs.u16(b, 0x10);                      // 0x10 sequence number
        int links = Ntfs.u16(b, 0x12);                         // 0x12 hard link count
        int attrsOffset = Ntfs.u16(b, 0x14);                   // 0x14 first attribute
        int flags = Ntfs.u16(b, 0x16);                         // 0x16 flags
        long bytesInUse = Ntfs.u32(b, 0x18);                   // 0x18 bytes in use
        long baseRef = b.getLong(0x20);                        // 0x20 base record reference
        if (bytesInUse > g.recordSize() || bytesInUse < 0x30) {
            throw Ntfs.bad(g.device(), what + " bytes in use", diskOffset + 0x18,
                    bytesInUse + " outside 48.." + g.recordSize());
        }
        if ((attrsOffset & 7) != 0 || attrsOffset < 0x2A || attrsOffset + 4 > bytesInUse) {
            throw Ntfs.bad(g.device(), what + " attribute offset", diskOffset + 0x14,
                    "0x" + Integer.toHexString(attrsOffset) + " outside the record's " + bytesInUse + " bytes in use");
        }
        if ((flags & FLAG_IN_USE) == 0) {
            return new MftRecord(number, sequence, links, flags, baseRef, List.of());
        }
        List<Attr> attrs = new ArrayList<>();
        int off = attrsOffset;
        int end = (int) bytesInUse;
        while (true) {
            if (off + 4 > end) {
                throw Ntfs.bad(g.device(), what + " attributes", diskOffset + off, "no end marker before the end of the record");
            }
            int type = b.getInt(off);
            if (type == Ntfs.AT_END) {
                break;
            }
            attrs.add(parseAttr(b, off, end, number, diskOffset, g));
            off += b.getInt(off + 4);
        }
        return new MftRecord(number, sequence, links, flags, baseRef, List.copyOf(attrs));
    }

    private static Attr parseAttr(ByteBuffer b, int off, int end, long number, long diskOffset, MftRecord.Geometry g) {
        String what = "MFT record " + number;
        int type = b.getInt(off);                              // 0x00 type
        long len = Ntfs.u32(b, off + 0x04);                    // 0x04 record length
        if (len < 0x18 || (len & 7) != 0 || off + len > end) {
            throw Ntfs.bad(g.device(), what + " attribute length", diskOffset + off + 4,
                    len + " is not a multiple of 8 within the record");
        }
        int attrEnd = (int) (off + len);
        int nonResident = Ntfs.u8(b, off + 0x08);              // 0x08 non-resident flag
        int nameLen = Ntfs.u8(b, off + 0x09);                  // 0x09 name length (UTF-16 units)
        int nameOff = Ntfs.u16(b, off + 0x0A);                 // 0x0A name offset
        int flags = Ntfs.u16(b, off + 0x0C);                   // 0x0C flags
        int instance = Ntfs.u16(b, off + 0x0E);                // 0x0E instance
        String name = "";
        if (nameLen > 0) {
            if (nameOff + 2L * nameLen > len) {
                throw Ntfs.bad(g.device(), what + " attribute name", diskOffset + off + 0x0A, "name runs past the attribute");
            }
            name = Ntfs.utf16(b, off + nameOff, nameLen);
        }
        String attrWhat = what + " " + Ntfs.typeName(type) + (name.isEmpty() ? "" : " \"" + name + "\"");
        long attrDisk = diskOffset + off;
        if (nonResident == 0) {
            long valueLen = Ntfs.u32(b, off + 0x10);           // 0x10 value length
            int valueOff = Ntfs.u16(b, off + 0x14);            // 0x14 value offset
            if (valueOff < 0x18 || valueOff + valueLen > len) {
                throw Ntfs.bad(g.device(), attrWhat + " resident value", attrDisk + 0x10,
                        valueLen + " bytes at +0x" + Integer.toHexString(valueOff) + " run past the attribute");
            }
            byte[] value = new byte[(int) valueLen];
            b.get(off + valueOff, value);
            return new Attr(type, name, flags, instance, number, attrDisk, value, 0, 0, 0,
                    valueLen, valueLen, valueLen, List.of());
        }
        if (len < 0x40) {
            throw Ntfs.bad(g.device(), attrWhat + " length", attrDisk + 4, len + " too short for a non-resident attribute");
        }
        long lowestVcn = b.getLong(off + 0x10);                // 0x10 lowest VCN
        long highestVcn = b.getLong(off + 0x18);               // 0x18 highest VCN
        int mpOff = Ntfs.u16(b, off + 0x20);                   // 0x20 mapping pairs offset
        int cu = Ntfs.u8(b, off + 0x22);                       // 0x22 compression unit (log2 clusters)
        long allocated = b.getLong(off + 0x28);                // 0x28 allocated size
        long dataSize = b.getLong(off + 0x30);                 // 0x30 data size
        long initSize = b.getLong(off + 0x38);                 // 0x38 initialized size
        if (lowestVcn < 0 || highestVcn < -1 || highestVcn >= g.clusters() || lowestVcn > highestVcn + 1) {
            throw Ntfs.bad(g.device(), attrWhat + " VCN range", attrDisk + 0x10,
                    lowestVcn + ".." + highestVcn + " is not a range of the volume's " + g.clusters() + " clusters");
        }
        if (lowestVcn == 0 && (dataSize < 0 || initSize < 0 || allocated < 0 || initSize > dataSize)) {
            throw Ntfs.bad(g.device(), attrWhat + " sizes", attrDisk + 0x28, "allocated " + allocated + ", data "
                    + dataSize + ", initialized " + initSize + " are inconsistent");
        }
        if (mpOff < 0x40 || mpOff >= len) {
            throw Ntfs.bad(g.device(), attrWhat + " mapping pairs offset", attrDisk + 0x20,
                    "0x" + Integer.toHexString(mpOff) + " outside the attribute");
        }
        List<Run> runs = Runlist.decode(b, off + mpOff, attrEnd, lowestVcn, highestVcn, g.clusters(),
                g.device(), attrWhat, diskOffset);
        return new Attr(type, name, flags, instance, number, attrDisk, null, lowestVcn, highestVcn, cu,
                allocated, dataSize, initSize, List.copyOf(runs));
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            sb.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        }
        return sb.toString();
    }
}
