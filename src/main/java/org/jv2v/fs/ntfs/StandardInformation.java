package org.jv2v.fs.ntfs;

import java.nio.ByteBuffer;

/** The $STANDARD_INFORMATION value: the times and attribute flags stat reports. */
record StandardInformation(long created, long modified, long mftChanged, long accessed, int attributes) {

    static final int MIN_SIZE = 0x30;

    static StandardInformation read(byte[] value, String device, String what, long diskOffset) {
        if (value.length < MIN_SIZE) {
            throw Ntfs.bad(device, what, diskOffset, "$STANDARD_INFORMATION of " + value.length + " bytes is too short");
        }
        ByteBuffer b = Ntfs.le(value);
        return new StandardInformation(
                b.getLong(0x00),                                // 0x00 creation time
                b.getLong(0x08),                                // 0x08 last data change time
                b.getLong(0x10),                                // 0x10 last MFT change time
                b.getLong(0x18),                                // 0x18 last access time
                b.getInt(0x20));                                // 0x20 file attributes
    }
}
