package org.jv2v.fs.ntfs;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A $REPARSE_POINT value: a tag saying who interprets the file, and that owner's data. */
record Reparse(int tag, byte[] data) {
    static final int TAG_MOUNT_POINT = 0xA0000003;   // directory junction, volume mount point
    static final int TAG_SYMLINK = 0xA000000C;
    static final int TAG_DEDUP = 0x80000013;         // Windows Server data deduplication
    static final int TAG_WOF = 0x80000017;           // Windows Overlay Filter: "compact OS" system compression
    static final int TAG_LX_SYMLINK = 0xA000001D;    // WSL symbolic link
    static final int TAG_AF_UNIX = 0x80000023;
    static final int TAG_LX_FIFO = 0x80000024;
    static final int TAG_LX_CHR = 0x80000025;
    static final int TAG_LX_BLK = 0x80000026;
    static final int SYMLINK_FLAG_RELATIVE = 1;

    static Reparse read(byte[] v, String device, String what, long diskOffset) {
        if (v.length < 8) {
            throw Ntfs.bad(device, what, diskOffset, "reparse point of " + v.length + " bytes is too short");
        }
        ByteBuffer b = Ntfs.le(v);
        int tag = b.getInt(0);                                 // 0x00 reparse tag
        int len = Ntfs.u16(b, 4);                              // 0x04 reparse data length
        if (8 + len > v.length) {
            throw Ntfs.bad(device, what, diskOffset, "reparse data of " + len + " bytes runs past the attribute");
        }
        byte[] data = new byte[len];
        b.get(8, data);                                        // 0x08 data
        return new Reparse(tag, data);
    }

    boolean symlinkLike() {
        return tag == TAG_SYMLINK || tag == TAG_MOUNT_POINT || tag == TAG_LX_SYMLINK;
    }

    /** The substitute name of a symlink or junction (the path Windows follows). */
    String substituteName(String device, String what) {
        ByteBuffer b = Ntfs.le(data);
        int header = tag == TAG_SYMLINK ? 12 : 8;              // symlinks carry 4 more bytes of flags
        if (data.length < header) {
            throw Ntfs.bad(device, what + ": reparse data of " + data.length + " bytes is too short");
        }
        int off = Ntfs.u16(b, 0);                              // 0x00 substitute name offset in the path buffer
        int len = Ntfs.u16(b, 2);                              // 0x02 substitute name length (bytes)
        if ((len & 1) != 0 || header + off + len > data.length) {
            throw Ntfs.bad(device, what + ": substitute name (" + len + " bytes at +" + off + ") runs past the reparse data");
        }
        return Ntfs.utf16(b, header + off, len / 2);
    }

    boolean relative() {
        return tag == TAG_SYMLINK && data.length >= 12 && (Ntfs.le(data).getInt(8) & SYMLINK_FLAG_RELATIVE) != 0;
    }

    /** A WSL symlink's target: format version 2, then UTF-8. */
    String wslTarget(String device, String what) {
        if (data.length < 4 || Ntfs.le(data).getInt(0) != 2) {
            throw Ntfs.bad(device, what + ": WSL symlink of an unknown format");
        }
        return new String(data, 4, data.length - 4, StandardCharsets.UTF_8);
    }
}
