package org.jv2v.fs.xfs;

import java.nio.ByteBuffer;

/**
 * One packed 128-bit extent record (xfs_bmbt_rec): bit 127 the unwritten flag, bits 126..73 the
 * file block, 72..21 the filesystem block, 20..0 the length in blocks.
 */
record BmapExtent(long fileBlock, long fsBlock, long blockCount, boolean unwritten) {

    static final int SIZE = 16;

    static BmapExtent read(ByteBuffer b, int off) {
        long l0 = b.getLong(off);
        long l1 = b.getLong(off + 8);
        boolean unwritten = l0 < 0;
        long fileBlock = (l0 >>> 9) & ((1L << 54) - 1);
        long fsBlock = ((l0 & 0x1ff) << 43) | (l1 >>> 21);
        long count = l1 & 0x1fffff;
        return new BmapExtent(fileBlock, fsBlock, count, unwritten);
    }

    long endBlock() {
        return fileBlock + blockCount;
    }
}
