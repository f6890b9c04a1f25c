package org.jv2v.fs.ext;

import org.jv2v.fs.FileKind;

import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * One inode as read from the inode table; {@code raw} keeps all of its bytes (in-inode extended
 * attributes live after the fixed fields). Offsets within the inode.
 */
record Inode(long number, long offset, int mode, int uid, int gid, long size, long links, long blocks, int flags,
             long fileAcl, int extraIsize, Instant atime, Instant mtime, Instant ctime, byte[] iblock, byte[] raw) {

    static final int GOOD_OLD_SIZE = 128;
    static final int IBLOCK_SIZE = 60;
    // i_flags
    static final int FL_ENCRYPT = 0x800;
    static final int FL_INDEX = 0x1000;
    static final int FL_EXTENTS = 0x80000;
    static final int FL_EA_INODE = 0x200000;
    static final int FL_INLINE_DATA = 0x10000000;
    static final int FL_CASEFOLD = 0x40000000;

    static Inode read(long number, long offset, ByteBuffer b) {
        int size = b.limit();
        int extra = size > GOOD_OLD_SIZE ? b.getShort(0x80) & 0xffff : 0;   // 0x80 i_extra_isize
        int fixedEnd = Math.min(GOOD_OLD_SIZE + extra, size); // a too-large i_extra_isize is caught by Xattrs
        byte[] iblock = new byte[IBLOCK_SIZE];
        b.get(0x28, iblock);                                                // 0x28 i_block[15]
        byte[] raw = new byte[size];
        b.get(0, raw);
        return new Inode(number, offset,
                b.getShort(0x00) & 0xffff,                                  // 0x00 i_mode
                (b.getShort(0x02) & 0xffff) | (b.getShort(0x78) & 0xffff) << 16, // 0x02 i_uid, 0x78 l_i_uid_high
                (b.getShort(0x18) & 0xffff) | (b.getShort(0x7a) & 0xffff) << 16, // 0x18 i_gid, 0x7a l_i_gid_high
                Superblock.u32(b, 0x04) | Superblock.u32(b, 0x6c) << 32,    // 0x04 i_size_lo, 0x6c i_size_high
                b.getShort(0x1a) & 0xffff,                                  // 0x1a i_links_count
                Superblock.u32(b, 0x1c) | (long) (b.getShort(0x74) & 0xffff) << 32, // 0x1c i_blocks_lo, 0x74 _high
                b.getInt(0x20),                                             // 0x20 i_flags
                Superblock.u32(b, 0x68) | (long) (b.getShort(0x76) & 0xffff) << 32, // 0x68 i_file_acl_lo, 0x76 _high
                extra,
                time(b, 0x08, 0x8c, fixedEnd),                              // 0x08 i_atime, 0x8c i_atime_extra
                time(b, 0x10, 0x88, fixedEnd),                              // 0x10 i_mtime, 0x88 i_mtime_extra
                time(b, 0x0c, 0x84, fixedEnd),                              // 0x0c i_ctime, 0x84 i_ctime_extra
                iblock, raw);
    }

    /** Seconds are signed 32-bit; the extra field adds two epoch bits and nanoseconds when present. */
    private static Instant time(ByteBuffer b, int at, int extraAt, int fixedEnd) {
        long sec = b.getInt(at);
        long nanos = 0;
        if (extraAt + 4 <= fixedEnd) {
            int extra = b.getInt(extraAt);
            sec += (long) (extra & 3) << 32;
            nanos = Math.min((extra & 0xffffffffL) >>> 2, 999_999_999L);
        }
        return Instant.ofEpochSecond(sec, nanos);
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** The kind from the mode's type bits, or null when they name no kind. */
    FileKind kind() {
        return switch (mode & 0xf000) {
            case 0x8000 -> FileKind.REGULAR;
            case 0x4000 -> FileKind.DIRECTORY;
            case 0xa000 -> FileKind.SYMLINK;
            case 0x2000 -> FileKind.CHAR_DEVICE;
            case 0x6000 -> FileKind.BLOCK_DEVICE;
            case 0x1000 -> FileKind.FIFO;
            case 0xc000 -> FileKind.SOCKET;
            default -> null;
        };
    }

    int iblockInt(int i) {
        return ByteBuffer.wrap(iblock).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(4 * i);
    }

    /** The device number as glibc's makedev encodes it, from the old or the new on-disk encoding. */
    long rdev() {
        int old = iblockInt(0);
        long major;
        long minor;
        if (old != 0) {
            major = (old >> 8) & 0xff;
            minor = old & 0xff;
        } else {
            int neu = iblockInt(1);
            major = (neu & 0xfff00) >> 8;
            minor = (neu & 0xff) | ((neu >> 12) & 0xfff00);
        }
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12)
                | (minor & 0xffL);
    }
}
