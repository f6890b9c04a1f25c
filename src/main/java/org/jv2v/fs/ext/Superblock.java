package org.jv2v.fs.ext;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The ext2/3/4 superblock: 1024 bytes at byte 1024 of the filesystem. Offsets within it. */
record Superblock(
        long inodesCount, long blocksCount, long freeBlocks, long freeInodes, long firstDataBlock,
        int logBlockSize, int logClusterSize, long blocksPerGroup, long clustersPerGroup, long inodesPerGroup,
        int magic, int state, long revLevel, long firstIno, int inodeSize, int featureCompat, int featureIncompat,
        int featureRoCompat, byte[] uuid, String volumeName, int reservedGdtBlocks, long journalInum,
        int descSize, long firstMetaBg, int minExtraIsize, long mmpBlock, int logGroupsPerFlex,
        int checksumType, long[] backupBgs, int checksumSeed, int checksum, long lastOrphan) {

    static final int OFFSET = 1024;
    static final int SIZE = 1024;
    static final int MAGIC = 0xef53;

    // feature_compat
    static final int COMPAT_HAS_JOURNAL = 0x4;
    static final int COMPAT_DIR_INDEX = 0x20;
    static final int COMPAT_SPARSE_SUPER2 = 0x200;
    // feature_incompat
    static final int INCOMPAT_COMPRESSION = 0x1;
    static final int INCOMPAT_FILETYPE = 0x2;
    static final int INCOMPAT_RECOVER = 0x4;
    static final int INCOMPAT_JOURNAL_DEV = 0x8;
    static final int INCOMPAT_META_BG = 0x10;
    static final int INCOMPAT_EXTENTS = 0x40;
    static final int INCOMPAT_64BIT = 0x80;
    static final int INCOMPAT_MMP = 0x100;
    static final int INCOMPAT_FLEX_BG = 0x200;
    static final int INCOMPAT_EA_INODE = 0x400;
    static final int INCOMPAT_DIRDATA = 0x1000;
    static final int INCOMPAT_CSUM_SEED = 0x2000;
    static final int INCOMPAT_LARGEDIR = 0x4000;
    static final int INCOMPAT_INLINE_DATA = 0x8000;
    static final int INCOMPAT_ENCRYPT = 0x10000;
    static final int INCOMPAT_CASEFOLD = 0x20000;
    /** What this reader understands; any other incompat bit means the layout may differ. */
    static final int INCOMPAT_SUPPORTED = INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_META_BG | INCOMPAT_EXTENTS
            | INCOMPAT_64BIT | INCOMPAT_MMP | INCOMPAT_FLEX_BG | INCOMPAT_EA_INODE | INCOMPAT_CSUM_SEED
            | INCOMPAT_LARGEDIR | INCOMPAT_INLINE_DATA | INCOMPAT_ENCRYPT | INCOMPAT_CASEFOLD;
    // feature_ro_compat
    static final int RO_COMPAT_SPARSE_SUPER = 0x1;
    static final int RO_COMPAT_LARGE_FILE = 0x2;
    static final int RO_COMPAT_BTREE_DIR = 0x4;
    static final int RO_COMPAT_HUGE_FILE = 0x8;
    static final int RO_COMPAT_GDT_CSUM = 0x10;
    static final int RO_COMPAT_BIGALLOC = 0x200;
    static final int RO_COMPAT_METADATA_CSUM = 0x400;

    static Superblock read(ByteBuffer b) {
        byte[] uuid = new byte[16];
        b.get(0x68, uuid);                                  // 0x68 s_uuid
        byte[] name = new byte[16];
        b.get(0x78, name);                                  // 0x78 s_volume_name
        int n = 0;
        while (n < 16 && name[n] != 0) {
            n++;
        }
        boolean is64 = (b.getInt(0x60) & INCOMPAT_64BIT) != 0;
        return new Superblock(
                u32(b, 0x00),                               // 0x00 s_inodes_count
                u32(b, 0x04) | (is64 ? u32(b, 0x150) << 32 : 0), // 0x04 s_blocks_count_lo, 0x150 _hi
                u32(b, 0x0c) | (is64 ? u32(b, 0x158) << 32 : 0), // 0x0c s_free_blocks_count_lo, 0x158 _hi
                u32(b, 0x10),                               // 0x10 s_free_inodes_count
                u32(b, 0x14),                               // 0x14 s_first_data_block
                b.getInt(0x18),                             // 0x18 s_log_block_size
                b.getInt(0x1c),                             // 0x1c s_log_cluster_size
                u32(b, 0x20),                               // 0x20 s_blocks_per_group
                u32(b, 0x24),                               // 0x24 s_clusters_per_group
                u32(b, 0x28),                               // 0x28 s_inodes_per_group
                b.getShort(0x38) & 0xffff,                  // 0x38 s_magic
                b.getShort(0x3a) & 0xffff,                  // 0x3a s_state
                u32(b, 0x4c),                               // 0x4c s_rev_level
                u32(b, 0x54),                               // 0x54 s_first_ino
                b.getShort(0x58) & 0xffff,                  // 0x58 s_inode_size
                b.getInt(0x5c),                             // 0x5c s_feature_compat
                b.getInt(0x60),                             // 0x60 s_feature_incompat
                b.getInt(0x64),                             // 0x64 s_feature_ro_compat
                uuid,
                new String(name, 0, n, StandardCharsets.UTF_8),
                b.getShort(0xce) & 0xffff,                  // 0xce s_reserved_gdt_blocks
                u32(b, 0xe0),                               // 0xe0 s_journal_inum
                b.getShort(0xfe) & 0xffff,                  // 0xfe s_desc_size
                u32(b, 0x104),                              // 0x104 s_first_meta_bg
                b.getShort(0x15c) & 0xffff,                 // 0x15c s_min_extra_isize
                b.getLong(0x168),                           // 0x168 s_mmp_block
                b.get(0x174) & 0xff,                        // 0x174 s_log_groups_per_flex
                b.get(0x175) & 0xff,                        // 0x175 s_checksum_type
                new long[] {u32(b, 0x24c), u32(b, 0x250)},  // 0x24c s_backup_bgs[2]
                b.getInt(0x270),                            // 0x270 s_checksum_seed
                b.getInt(0x3fc),                            // 0x3fc s_checksum
                u32(b, 0xe8));                              // 0xe8 s_last_orphan
    }

    static long u32(ByteBuffer b, int at) {
        return b.getInt(at) & 0xffffffffL;
    }

    boolean hasIncompat(int f) {
        return (featureIncompat & f) != 0;
    }

    boolean hasRoCompat(int f) {
        return (featureRoCompat & f) != 0;
    }

    boolean hasCompat(int f) {
        return (featureCompat & f) != 0;
    }

    long blockSize() {
        return 1024L << logBlockSize;
    }

    long clusterSize() {
        return hasRoCompat(RO_COMPAT_BIGALLOC) ? 1024L << logClusterSize : blockSize();
    }

    /** Descriptor size: 32 bytes unless 64bit, then s_desc_size. */
    int groupDescSize() {
        return hasIncompat(INCOMPAT_64BIT) ? descSize : 32;
    }

    long groupCount() {
        return (blocksCount - firstDataBlock + blocksPerGroup - 1) / blocksPerGroup;
    }
}
