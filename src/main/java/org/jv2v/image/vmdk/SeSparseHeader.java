package org.jv2v.image.vmdk;


import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The SEsparse ("space efficient") constant header, ESXi 6.5+ snapshot deltas. VMware has not
 * published the format; the layout is the one ESXi logs in hostd.log and qemu reads. All fields are
 * little-endian 64-bit; offsets and sizes are in sectors. The volatile header (at
 * {@link #volatileHeaderOffset()}) says whether a journal must be replayed first.
 */
record SeSparseHeader(long version, long capacity, long grainSize, long grainTableSize, long flags,
                      long volatileHeaderOffset, long grainDirOffset, long grainDirSize,
                      long grainTablesOffset, long grainTablesSize, long grainsOffset, long grainsSize) {

    static final int SIZE = 512;
    static final long CONST_MAGIC = 0xcafebabeL;
    static final long VOLATILE_MAGIC = 0xcafecafeL;
    static final long VERSION_2_1 = 0x0000000200000001L;

    static SeSparseHeader read(ByteBuffer b, Source src) {
        if (b.remaining() < SIZE) {
            throw src.bad("SEsparse header", 0, "file too short for an SEsparse header");
        }
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.getLong(0x00) != CONST_MAGIC) {                    // 0x00 constMagic
            throw src.bad("constMagic", 0, "not an SEsparse extent");
        }
        for (int off = 0x30; off < 0x50; off += 8) {            // 0x30..0x48 reserved1..4
            if (b.getLong(off) != 0) {
                throw src.bad("reserved", off, "non-zero reserved field: unknown SEsparse variant");
            }
        }
        return new SeSparseHeader(
                b.getLong(0x08),      // 0x08 version (2.1)
                b.getLong(0x10),      // 0x10 capacity
                b.getLong(0x18),      // 0x18 grainSize
                b.getLong(0x20),      // 0x20 grainTableSize
                b.getLong(0x28),      // 0x28 flags
                b.getLong(0x50),      // 0x50 volatileHeaderOffset (0x58 volatileHeaderSize)
                // 0x60 journalHeaderOffset, 0x68 journalHeaderSize, 0x70 journalOffset, 0x78 journalSize
                b.getLong(0x80),      // 0x80 grainDirOffset
                b.getLong(0x88),      // 0x88 grainDirSize
                b.getLong(0x90),      // 0x90 grainTablesOffset
                b.getLong(0x98),      // 0x98 grainTablesSize
                // 0xa0 freeBitmapOffset, 0xa8 freeBitmapSize, 0xb0 backmapOffset, 0xb8 backmapSize
                b.getLong(0xc0),      // 0xc0 grainsOffset
                b.getLong(0xc8));     // 0xc8 grainsSize
    }

    /**
     * Checks the volatile header ({@code 0x00 volatileMagic, 0x08 freeGTNumber,
     * 0x10 nextTxnSeqNumber, 0x18 replayJournal}): a journal to replay means the delta is dirty.
     */
    static void checkVolatile(ByteBuffer b, Source src, long at) {
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.getLong(0x00) != VOLATILE_MAGIC) {
            throw src.bad("volatileMagic", at, "bad SEsparse volatile header magic");
        }
        if (b.getLong(0x18) != 0) {
            throw src.bad("replayJournal", at + 0x18, "the SEsparse journal must be "
                    + "replayed first (the snapshot was not closed cleanly): consolidate it on ESXi");
        }
    }
}
