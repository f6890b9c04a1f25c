package org.jv2v.fs.ntfs;

import java.util.List;

/**
 * One attribute record of an MFT record. Resident attributes carry their value; non-resident ones
 * the decoded runs of their segment ({@code [lowestVcn, highestVcn]}); the sizes are meaningful in
 * the segment whose {@code lowestVcn} is 0.
 *
 * @param recordNo   the MFT record holding this attribute record (for messages)
 * @param diskOffset where the attribute record lies on the device (for messages)
 */
record Attr(int type, String name, int flags, int instance, long recordNo, long diskOffset,
            byte[] value, long lowestVcn, long highestVcn, int compressionUnit,
            long allocatedSize, long dataSize, long initializedSize, List<Run> runs) {

    boolean resident() {
        return value != null;
    }

    boolean compressed() {
        return (flags & Ntfs.ATTR_COMPRESSION_MASK) != 0;
    }

    boolean encrypted() {
        return (flags & Ntfs.ATTR_IS_ENCRYPTED) != 0;
    }

    boolean is(int t, String n) {
        return type == t && name.equals(n);
    }

    String describe() {
        return "MFT record " + recordNo + " " + Ntfs.typeName(type) + (name.isEmpty() ? "" : " \"" + name + "\"");
    }
}
