package org.jv2v.fs.ntfs;

import java.nio.ByteBuffer;

/**
 * A $FILE_NAME value (also the key of every directory index entry).
 *
 * @param parentRef   reference (record number and sequence) of the directory holding this name
 * @param attributes  file attribute flags as last duplicated into the name
 * @param reparseTag  the reparse tag when the file is a reparse point (shares the EA size field)
 * @param namespace   0 POSIX, 1 Win32, 2 DOS (8.3 alias), 3 Win32 and DOS at once
 */
record FileName(long parentRef, long created, long modified, long mftChanged, long accessed,
                long allocatedSize, long dataSize, int attributes, int reparseTag, int namespace, String name) {

    static final int HEADER = 0x42;

    static FileName read(ByteBuffer b, int off, int length, String device, String what, long diskOffset) {
        if (length < HEADER) {
            throw Ntfs.bad(device, what, diskOffset, "$FILE_NAME of " + length + " bytes is too short");
        }
        int nameLen = Ntfs.u8(b, off + 0x40);                  // 0x40 name length (UTF-16 units)
        if (HEADER + 2 * nameLen > length) {
            throw Ntfs.bad(device, what, diskOffset + 0x40, "name of " + nameLen + " characters runs past the $FILE_NAME");
        }
        return new FileName(
                b.getLong(off),                                 // 0x00 parent directory reference
                b.getLong(off + 0x08),                          // 0x08 creation time
                b.getLong(off + 0x10),                          // 0x10 last data change time
                b.getLong(off + 0x18),                          // 0x18 last MFT change time
                b.getLong(off + 0x20),                          // 0x20 last access time
                b.getLong(off + 0x28),                          // 0x28 allocated size
                b.getLong(off + 0x30),                          // 0x30 data size
                b.getInt(off + 0x38),                           // 0x38 file attributes
                b.getInt(off + 0x3C),                           // 0x3C EA size / reparse tag
                Ntfs.u8(b, off + 0x41),                         // 0x41 namespace
                Ntfs.utf16(b, off + HEADER, nameLen));          // 0x42 name
    }

    boolean dosOnly() {
        return namespace == Ntfs.NS_DOS;
    }

    boolean directory() {
        return (attributes & Ntfs.FILE_ATTR_DUP_FILE_NAME_INDEX_PRESENT) != 0;
    }
}
