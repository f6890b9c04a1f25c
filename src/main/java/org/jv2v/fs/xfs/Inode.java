package org.jv2v.fs.xfs;

import org.jv2v.fs.FileKind;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * One on-disk inode: the core (v1/v2 on v4 filesystems, v3 on v5) and the two forks of its literal
 * area. Field offsets in hex as in the on-disk format documentation.
 */
record Inode(
        long ino,
        long offset,        // byte offset of the inode on the device
        int mode,           // 0x02 di_mode (type and permissions)
        int version,        // 0x04
        int format,         // 0x05 data fork format
        long nlink,         // 0x06 (v1) or 0x10 (v2, v3)
        int uid,            // 0x08
        int gid,            // 0x0c
        Instant atime,      // 0x20
        Instant mtime,      // 0x28
        Instant ctime,      // 0x30
        long size,          // 0x38
        long nblocks,       // 0x40
        long nextents,      // 0x4c (or 0x18 with NREXT64)
        long anextents,     // 0x50 (or 0x4c with NREXT64)
        int forkOff,        // 0x52, in 8-byte units
        int aformat,        // 0x53 attribute fork format
        int flags,          // 0x5a
        long flags2,        // 0x78 (v3)
        Instant crtime,     // 0x90 (v3)
        ByteBuffer dataFork,
        ByteBuffer attrFork) {  // null when there is no attribute fork

    static final int MAGIC = 0x494e; // "IN"
    static final int CORE_V2 = 0x64;
    static final int CORE_V3 = 0xb0;
    static final int CRC_OFFSET = 0x64;

    static final int FMT_DEV = 0;
    static final int FMT_LOCAL = 1;
    static final int FMT_EXTENTS = 2;
    static final int FMT_BTREE = 3;

    static final int FLAG_REALTIME = 0x1;
    static final long FLAG2_BIGTIME = 0x8;
    static final long FLAG2_NREXT64 = 0x10;

    static final int S_IFMT = 0170000;

    /** Seconds between the bigtime epoch (the lowest 32-bit time, 1901-12-13) and 1970. */
    private static final long BIGTIME_EPOCH_OFFSET = 1L << 31;

    /**
     * Reads and verifies inode {@code ino}; {@code referrer} and {@code referrerOffset} name where the
     * number came from (a directory entry, the superblock), for the error when it is out of range.
     */
    static Inode read(Volume v, long ino, String referrer, long referrerOffset) throws IOException {
        Location at = locate(v, ino, referrer, referrerOffset);
        String field = "inode " + ino;
        ByteBuffer block = v.metaBlock(at.blockOffset(), field);
        ByteBuffer b = block.slice(at.index() * v.sb.inodeSize(), v.sb.inodeSize());
        return parse(v, ino, at.offset(v), b, field);
    }

    /** Where an inode lies: the device offset of its block and its index among the block's inodes. */
    record Location(long blockOffset, int index) {
        long offset(Volume v) {
            return blockOffset + (long) index * v.sb.inodeSize();
        }
    }

    /**
     * Finds inode {@code ino} from its number (AG, block in the AG, index in the block), checked
     * against the geometry; {@code referrer} and {@code referrerOffset} name where the number came from.
     */
    static Location locate(Volume v, long ino, String referrer, long referrerOffset) {
        Superblock sb = v.sb;
        int inoBits = sb.agBlkLog() + sb.inopbLog();
        long agno = ino >>> inoBits;
        long agino = ino & ((1L << inoBits) - 1);
        long agbno = agino >>> sb.inopbLog();
        int index = (int) (agino & ((1L << sb.inopbLog()) - 1));
        if (ino <= 0 || agno >= sb.agCount() || agbno >= sb.agBlocks() || agbno == 0) {
            throw v.corrupt(referrer, referrerOffset, "inode " + ino + " (AG " + agno + " block " + agbno
                    + ") is outside the filesystem");
        }
        return new Location(v.agBlockOffset(agno, agbno), index);
    }

    static Inode parse(Volume v, long ino, long offset, ByteBuffer b, String field) {
        Superblock sb = v.sb;
        if (Superblock.u16(b, 0x00) != MAGIC) {
            throw v.corrupt(field, offset, "bad magic 0x" + Integer.toHexString(Superblock.u16(b, 0x00)));
        }
        int version = Superblock.u8(b, 0x04);
        if (sb.isV5() ? version != 3 : version != 1 && version != 2) {
            throw v.corrupt(field, offset, "inode version " + version + " on a v" + (sb.isV5() ? 5 : 4)
                    + " filesystem");
        }
        long flags2 = 0;
        if (version == 3) {
            v.checkCrc(b, sb.inodeSize(), CRC_OFFSET, field, offset);
            long stored = b.getLong(0x98);
            if (stored != ino) {
                throw v.corrupt(field, offset, "header says it is inode " + stored);
            }
            if (!Superblock.uuid(b, 0xa0).equals(sb.metadataUuid())) {
                throw v.corrupt(field, offset, "belongs to filesystem " + Superblock.uuid(b, 0xa0));
            }
            flags2 = b.getLong(0x78);
        }
        int mode = Superblock.u16(b, 0x02);
        if (kindOf(mode) == null) {
            throw v.corrupt(field, offset, "not in use or bad file type (mode 0" + Integer.toOctalString(mode) + ")");
        }
        int format = Superblock.u8(b, 0x05);
        int aformat = Superblock.u8(b, 0x53);
        int forkOff = Superblock.u8(b, 0x52);
        boolean bigTime = version == 3 && (flags2 & FLAG2_BIGTIME) != 0;
        boolean nrext64 = version == 3 && (flags2 & FLAG2_NREXT64) != 0;
        if (nrext64 && !sb.hasNrext64()) {
            throw v.corrupt(field, offset, "uses 64-bit extent counters but the filesystem lacks the nrext64 feature");
        }
        long nextents = nrext64 ? b.getLong(0x18) : Superblock.u32(b, 0x4c);
        long anextents = nrext64 ? Superblock.u32(b, 0x4c) : Superblock.u16(b, 0x50);
        long nlink = version == 1 ? Superblock.u16(b, 0x06) : Superblock.u32(b, 0x10);
        long size = b.getLong(0x38);
        if (size < 0) {
            throw v.corrupt(field, offset, "negative size " + size);
        }

        int core = version == 3 ? CORE_V3 : CORE_V2;
        int literal = sb.inodeSize() - core;
        ByteBuffer dataFork;
        ByteBuffer attrFork = null;
        if (forkOff == 0) {
            dataFork = b.slice(core, literal);
        } else {
            int split = forkOff * 8;
            if (split >= literal) {
                throw v.corrupt(field, offset, "attribute fork offset " + split + " is past the literal area ("
                        + literal + " bytes)");
            }
            dataFork = b.slice(core, split);
            attrFork = b.slice(core + split, literal - split);
        }
        return new Inode(ino, offset, mode, version, format, nlink, b.getInt(0x08), b.getInt(0x0c),
                time(b, 0x20, bigTime), time(b, 0x28, bigTime), time(b, 0x30, bigTime), size, b.getLong(0x40),
                nextents, anextents, forkOff, aformat, Superblock.u16(b, 0x5a), flags2,
                version == 3 ? time(b, 0x90, bigTime) : null, dataFork.asReadOnlyBuffer(),
                attrFork == null ? null : attrFork.asReadOnlyBuffer());
    }

    private static Instant time(ByteBuffer b, int off, boolean bigTime) {
        if (bigTime) {
            long ns = b.getLong(off);
            long secs = Long.divideUnsigned(ns, 1_000_000_000L) - BIGTIME_EPOCH_OFFSET;
            return Instant.ofEpochSecond(secs, Long.remainderUnsigned(ns, 1_000_000_000L));
        }
        return Instant.ofEpochSecond(b.getInt(off), b.getInt(off + 4) & 0xffffffffL);
    }

    static FileKind kindOf(int mode) {
        return switch (mode & S_IFMT) {
            case 0100000 -> FileKind.REGULAR;
            case 0040000 -> FileKind.DIRECTORY;
            case 0120000 -> FileKind.SYMLINK;
            case 0020000 -> FileKind.CHAR_DEVICE;
            case 0060000 -> FileKind.BLOCK_DEVICE;
            case 0010000 -> FileKind.FIFO;
            case 0140000 -> FileKind.SOCKET;
            default -> null;
        };
    }

    FileKind kind() {
        return kindOf(mode);
    }

    boolean isRealtime() {
        return (flags & FLAG_REALTIME) != 0;
    }

    /** Device number (major, minor) of a device inode, from the Linux sysv encoding XFS stores. */
    long rdev() {
        FileKind k = kind();
        if ((k != FileKind.CHAR_DEVICE && k != FileKind.BLOCK_DEVICE) || dataFork.capacity() < 4) {
            return 0;
        }
        long dev = dataFork.getInt(0) & 0xffffffffL;
        long major = (dev >>> 18) & 0x3fff;
        long minor = dev & 0x3ffff;
        // the st_rdev value glibc's makedev(3) builds
        return ((major & 0xfffff000L) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xff);
    }

    String describe() {
        return "inode " + ino;
    }
}
