package org.jv2v.fs.xfs;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The primary superblock (sector 0 of AG 0), big-endian. Only the fields the reader needs; field
 * offsets in hex as in the XFS on-disk format documentation.
 */
record Superblock(
        int magic,              // 0x00 "XFSB"
        long blockSize,         // 0x04
        long dataBlocks,        // 0x08 dblocks
        long rtBlocks,          // 0x10 rblocks
        UUID uuid,              // 0x20
        long logStart,          // 0x30 fs block of the internal log, 0 for an external log
        long rootIno,           // 0x38
        long agBlocks,          // 0x54
        long agCount,           // 0x58
        long logBlocks,         // 0x60
        int versionNum,         // 0x64
        int sectSize,           // 0x66
        int inodeSize,          // 0x68
        int inodesPerBlock,     // 0x6a
        byte[] fname,           // 0x6c label, 12 bytes
        int blockLog,           // 0x78
        int sectLog,            // 0x79
        int inodeLog,           // 0x7a
        int inopbLog,           // 0x7b
        int agBlkLog,           // 0x7c
        int inProgress,         // 0x7e
        long icount,            // 0x80
        long ifree,             // 0x88
        long fdblocks,          // 0x90
        int qflags,             // 0xb0 quota flags
        long inoAlignment,      // 0xb4 inode chunk alignment in blocks
        int dirBlkLog,          // 0xc0
        int logSectLog,         // 0xc1
        long features2,         // 0xc8
        long featuresCompat,    // 0xd0 (v5)
        long featuresRoCompat,  // 0xd4 (v5)
        long featuresIncompat,  // 0xd8 (v5)
        long featuresLogIncompat, // 0xdc (v5)
        UUID metaUuid) {        // 0xf8 (v5, with META_UUID)

    static final int MAGIC = 0x58465342; // "XFSB"
    static final int CRC_OFFSET = 0xe0;

    static final int VERSION_NUMBITS = 0x000f;
    static final int VERSION_LOGV2 = 0x0400;
    static final int VERSION_DIRV2 = 0x2000;
    static final int VERSION_BORG = 0x4000; // ASCII case-insensitive names
    static final int VERSION_MOREBITS = 0x8000;
    static final long FEATURES2_FTYPE = 0x200;
    static final long FEATURES2_ATTR2 = 0x08;

    static final long INCOMPAT_FTYPE = 0x1;
    static final long INCOMPAT_SPINODES = 0x2;
    static final long INCOMPAT_META_UUID = 0x4;
    static final long INCOMPAT_BIGTIME = 0x8;
    static final long INCOMPAT_NEEDSREPAIR = 0x10;
    static final long INCOMPAT_NREXT64 = 0x20;
    static final long INCOMPAT_EXCHRANGE = 0x40;
    static final long INCOMPAT_PARENT = 0x80;
    /** Incompatible features this reader understands; any other bit is refused, as the kernel does. */
    static final long INCOMPAT_KNOWN = INCOMPAT_FTYPE | INCOMPAT_SPINODES | INCOMPAT_META_UUID | INCOMPAT_BIGTIME
            | INCOMPAT_NEEDSREPAIR | INCOMPAT_NREXT64 | INCOMPAT_EXCHRANGE | INCOMPAT_PARENT;

    static Superblock read(ByteBuffer b) {
        byte[] fname = new byte[12];
        b.get(0x6c, fname);
        return new Superblock(
                b.getInt(0x00),
                u32(b, 0x04),
                b.getLong(0x08),
                b.getLong(0x10),
                uuid(b, 0x20),
                b.getLong(0x30),
                b.getLong(0x38),
                u32(b, 0x54),
                u32(b, 0x58),
                u32(b, 0x60),
                u16(b, 0x64),
                u16(b, 0x66),
                u16(b, 0x68),
                u16(b, 0x6a),
                fname,
                u8(b, 0x78),
                u8(b, 0x79),
                u8(b, 0x7a),
                u8(b, 0x7b),
                u8(b, 0x7c),
                u8(b, 0x7e),
                b.getLong(0x80),
                b.getLong(0x88),
                b.getLong(0x90),
                u16(b, 0xb0),
                u32(b, 0xb4),
                u8(b, 0xc0),
                u8(b, 0xc1),
                u32(b, 0xc8),
                u32(b, 0xd0),
                u32(b, 0xd4),
                u32(b, 0xd8),
                u32(b, 0xdc),
                uuid(b, 0xf8));
    }

    /**
     * Why this superblock cannot be read, or null when it is sane: every geometry field the
     * reader computes with is checked here, before anything is sized from it, and then the
     * features.
     */
    String problem() {
        String geometry = geometryProblem();
        if (geometry != null) {
            return geometry;
        }
        int version = versionNum & VERSION_NUMBITS;
        if (version == 4 && (versionNum & VERSION_DIRV2) == 0) {
            return "version 1 directories are not supported";
        }
        if (version == 5 && (featuresIncompat & ~INCOMPAT_KNOWN) != 0) {
            return "unknown incompatible features 0x" + Long.toHexString(featuresIncompat & ~INCOMPAT_KNOWN);
        }
        return null;
    }

    /** Why this is not a plausible XFS superblock at all (probing), or null. */
    String geometryProblem() {
        if (magic != MAGIC) {
            return "bad magic 0x" + Integer.toHexString(magic);
        }
        int version = versionNum & VERSION_NUMBITS;
        if (version != 4 && version != 5) {
            return "unsupported version " + version + " (only v4 and v5 filesystems exist today)";
        }
        if (blockLog < 9 || blockLog > 16 || blockSize != 1L << blockLog) {
            return "block size " + blockSize + " (log " + blockLog + ") is not a power of two in 512..65536";
        }
        if (sectLog < 9 || sectLog > 15 || sectSize != 1 << sectLog || sectSize > blockSize) {
            return "sector size " + sectSize + " (log " + sectLog + ") is not a power of two in 512..32768";
        }
        if (inodeLog < 8 || inodeLog > 11 || inodeSize != 1 << inodeLog || inodeSize > blockSize) {
            return "inode size " + inodeSize + " (log " + inodeLog + ") is not a power of two in 256..2048";
        }
        if (inopbLog != blockLog - inodeLog || inodesPerBlock != 1 << inopbLog) {
            return "inodes per block " + inodesPerBlock + " (log " + inopbLog + ") does not match block and inode sizes";
        }
        if (agBlocks < 64 || agBlocks > 0x7fffffffL) {
            return "AG size " + agBlocks + " blocks outside 64..2^31-1";
        }
        if (agBlkLog < 1 || agBlkLog > 31 || (1L << agBlkLog) < agBlocks || (1L << (agBlkLog - 1)) >= agBlocks) {
            return "AG block log " + agBlkLog + " does not match the AG size " + agBlocks;
        }
        if (agBlkLog + inopbLog > 32) {
            return "AG-relative inode numbers would need " + (agBlkLog + inopbLog) + " bits";
        }
        if (agCount < 1 || agCount > 1_000_000) {
            return "AG count " + agCount + " outside 1..1000000";
        }
        if (dataBlocks <= (agCount - 1) * agBlocks || dataBlocks > agCount * agBlocks) {
            return "data block count " + dataBlocks + " does not fit " + agCount + " AGs of " + agBlocks + " blocks";
        }
        if (blockLog + dirBlkLog > 16) {
            return "directory block size 2^" + (blockLog + dirBlkLog) + " exceeds 64 KiB";
        }
        if (inProgress != 0) {
            return "mkfs did not finish (sb_inprogress is set)";
        }
        if (logStart != 0 && (logBlocks < 64 || logStart >= agCount * (1L << agBlkLog))) {
            return "internal log at block " + logStart + " of " + logBlocks + " blocks is not plausible";
        }
        return null;
    }

    boolean isV5() {
        return (versionNum & VERSION_NUMBITS) == 5;
    }

    boolean hasFtype() {
        return isV5() ? (featuresIncompat & INCOMPAT_FTYPE) != 0
                : (versionNum & VERSION_MOREBITS) != 0 && (features2 & FEATURES2_FTYPE) != 0;
    }

    /** Variable attribute fork offsets (always on v5). */
    boolean hasAttr2() {
        return isV5() || (versionNum & VERSION_MOREBITS) != 0 && (features2 & FEATURES2_ATTR2) != 0;
    }

    boolean hasLogV2() {
        return isV5() || (versionNum & VERSION_LOGV2) != 0;
    }

    boolean hasBigTime() {
        return isV5() && (featuresIncompat & INCOMPAT_BIGTIME) != 0;
    }

    boolean hasNrext64() {
        return isV5() && (featuresIncompat & INCOMPAT_NREXT64) != 0;
    }

    boolean needsRepair() {
        return isV5() && (featuresIncompat & INCOMPAT_NEEDSREPAIR) != 0;
    }

    /** The UUID stamped into v5 metadata blocks. */
    UUID metadataUuid() {
        return isV5() && (featuresIncompat & INCOMPAT_META_UUID) != 0 ? metaUuid : uuid;
    }

    int dirBlockSize() {
        return 1 << (blockLog + dirBlkLog);
    }

    String label() {
        int n = 0;
        while (n < fname.length && fname[n] != 0) {
            n++;
        }
        return new String(fname, 0, n, StandardCharsets.UTF_8);
    }

    static long u32(ByteBuffer b, int off) {
        return b.getInt(off) & 0xffffffffL;
    }

    static int u16(ByteBuffer b, int off) {
        return b.getShort(off) & 0xffff;
    }

    static int u8(ByteBuffer b, int off) {
        return b.get(off) & 0xff;
    }

    static UUID uuid(ByteBuffer b, int off) {
        return new UUID(b.getLong(off), b.getLong(off + 8));
    }
}
