package org.jv2v.fs.btrfs;

/**
 * The btrfs superblock (struct btrfs_super_block), 4096 bytes at 64 KiB of every device, with
 * copies at 64 MiB and 256 GiB.
 */
record Superblock(
        byte[] fsid,               // 0x020 fsid[16]
        long bytenr,               // 0x030 physical address of this copy
        long flags,                // 0x038
        long magic,                // 0x040 "_BHRfS_M"
        long generation,           // 0x048
        long root,                 // 0x050 root tree root (logical)
        long chunkRoot,            // 0x058 chunk tree root (logical)
        long logRoot,              // 0x060 log root tree (logical), 0 when there is no log
        long totalBytes,           // 0x070
        long bytesUsed,            // 0x078
        long numDevices,           // 0x088
        int sectorSize,            // 0x090
        int nodeSize,              // 0x094
        int sysChunkArraySize,     // 0x0A0
        long chunkRootGeneration,  // 0x0A4
        long compatRoFlags,        // 0x0B4
        long incompatFlags,        // 0x0BC
        int csumType,              // 0x0C4 u16
        int rootLevel,             // 0x0C6
        int chunkRootLevel,        // 0x0C7
        long devId,                // 0x0C9 dev_item.devid
        long devTotalBytes,        // 0x0D1 dev_item.total_bytes
        byte[] devUuid,            // 0x10B dev_item.uuid[16]
        byte[] label,              // 0x12B label[256]
        byte[] metadataUuid,       // 0x23B metadata_uuid[16]
        byte[] sysChunkArray) {    // 0x32B sys_chunk_array[2048]

    static final long OFFSET = 0x10000;
    static final int SIZE = 4096;
    static final long MAGIC = 0x4D5F53665248425FL; // "_BHRfS_M" little-endian
    static final int MAX_SYS_CHUNK_ARRAY = 2048;
    /** Mirrors of the superblock (the primary is at 64 KiB). */
    static final long[] MIRRORS = {0x4000000L, 0x4000000000L};

    static final long INCOMPAT_MIXED_BACKREF = 1L;
    static final long INCOMPAT_DEFAULT_SUBVOL = 1L << 1;
    static final long INCOMPAT_MIXED_GROUPS = 1L << 2;
    static final long INCOMPAT_COMPRESS_LZO = 1L << 3;
    static final long INCOMPAT_COMPRESS_ZSTD = 1L << 4;
    static final long INCOMPAT_BIG_METADATA = 1L << 5;
    static final long INCOMPAT_EXTENDED_IREF = 1L << 6;
    static final long INCOMPAT_RAID56 = 1L << 7;
    static final long INCOMPAT_SKINNY_METADATA = 1L << 8;
    static final long INCOMPAT_NO_HOLES = 1L << 9;
    static final long INCOMPAT_METADATA_UUID = 1L << 10;
    static final long INCOMPAT_RAID1C34 = 1L << 11;
    static final long INCOMPAT_ZONED = 1L << 12;
    static final long INCOMPAT_EXTENT_TREE_V2 = 1L << 13;
    static final long INCOMPAT_RAID_STRIPE_TREE = 1L << 14;
    static final long INCOMPAT_SIMPLE_QUOTA = 1L << 16;
    /** Features this reader understands; others change the format in ways it cannot follow. */
    static final long INCOMPAT_SUPPORTED = INCOMPAT_MIXED_BACKREF | INCOMPAT_DEFAULT_SUBVOL | INCOMPAT_MIXED_GROUPS
            | INCOMPAT_COMPRESS_LZO | INCOMPAT_COMPRESS_ZSTD | INCOMPAT_BIG_METADATA | INCOMPAT_EXTENDED_IREF
            | INCOMPAT_RAID56 | INCOMPAT_SKINNY_METADATA | INCOMPAT_NO_HOLES | INCOMPAT_METADATA_UUID
            | INCOMPAT_RAID1C34 | INCOMPAT_SIMPLE_QUOTA;

    static Superblock read(byte[] b) {
        return new Superblock(
                slice(b, 0x20, 16), Hashes.le64(b, 0x30), Hashes.le64(b, 0x38), Hashes.le64(b, 0x40),
                Hashes.le64(b, 0x48), Hashes.le64(b, 0x50), Hashes.le64(b, 0x58), Hashes.le64(b, 0x60),
                Hashes.le64(b, 0x70), Hashes.le64(b, 0x78), Hashes.le64(b, 0x88), Hashes.le32(b, 0x90),
                Hashes.le32(b, 0x94), Hashes.le32(b, 0xA0), Hashes.le64(b, 0xA4), Hashes.le64(b, 0xB4),
                Hashes.le64(b, 0xBC), Hashes.le16(b, 0xC4), b[0xC6] & 0xFF, b[0xC7] & 0xFF,
                Hashes.le64(b, 0xC9), Hashes.le64(b, 0xD1), slice(b, 0x10B, 16), slice(b, 0x12B, 256),
                slice(b, 0x23B, 16), slice(b, 0x32B, MAX_SYS_CHUNK_ARRAY));
    }

    /** The UUID tree blocks carry: metadata_uuid when that feature is on, else the fsid. */
    byte[] metadataFsid() {
        return (incompatFlags & INCOMPAT_METADATA_UUID) != 0 ? metadataUuid : fsid;
    }

    static byte[] slice(byte[] b, int off, int len) {
        return java.util.Arrays.copyOfRange(b, off, off + len);
    }

    static String uuidString(byte[] u) {
        String h = java.util.HexFormat.of().formatHex(u);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20)
                + "-" + h.substring(20);
    }
}
