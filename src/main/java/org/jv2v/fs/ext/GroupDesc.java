package org.jv2v.fs.ext;

import java.nio.ByteBuffer;

/** One block group descriptor (32 bytes, or s_desc_size with 64bit). Offsets within it. */
record GroupDesc(long blockBitmap, long inodeBitmap, long inodeTable, long freeBlocks, int flags,
                 int blockBitmapCsum, boolean csumHi) {
    static final int INODE_UNINIT = 0x1;
    static final int BLOCK_UNINIT = 0x2;

    static GroupDesc read(ByteBuffer b, int at, boolean wide) {
        long bb = Superblock.u32(b, at);                          // 0x00 bg_block_bitmap_lo
        long ib = Superblock.u32(b, at + 0x04);                   // 0x04 bg_inode_bitmap_lo
        long it = Superblock.u32(b, at + 0x08);                   // 0x08 bg_inode_table_lo
        long free = b.getShort(at + 0x0c) & 0xffff;               // 0x0c bg_free_blocks_count_lo
        int flags = b.getShort(at + 0x12) & 0xffff;               // 0x12 bg_flags
        int bbCsum = b.getShort(at + 0x18) & 0xffff;              // 0x18 bg_block_bitmap_csum_lo
        if (wide) {
            bb |= Superblock.u32(b, at + 0x20) << 32;             // 0x20 bg_block_bitmap_hi
            ib |= Superblock.u32(b, at + 0x24) << 32;             // 0x24 bg_inode_bitmap_hi
            it |= Superblock.u32(b, at + 0x28) << 32;             // 0x28 bg_inode_table_hi
            free |= (long) (b.getShort(at + 0x2c) & 0xffff) << 16; // 0x2c bg_free_blocks_count_hi
            bbCsum |= (b.getShort(at + 0x38) & 0xffff) << 16;     // 0x38 bg_block_bitmap_csum_hi
        }
        return new GroupDesc(bb, ib, it, free, flags, bbCsum, wide);
    }
}
