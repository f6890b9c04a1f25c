package org.jv2v.image.vmdk;


import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The hosted sparse extent header ("KDMV", VMware Virtual Disk Format 5.0, SparseExtentHeader):
 * monolithicSparse, twoGbMaxExtentSparse pieces and streamOptimized. Little-endian, 512 bytes; a
 * streamOptimized footer repeats it near the end of the file.
 */
record SparseHeader(int version, int flags, long capacity, long grainSize, long descriptorOffset,
                    long descriptorSize, int numGTEsPerGT, long rgdOffset, long gdOffset, long overhead,
                    int compressAlgorithm) {

    static final int SIZE = 512;
    static final int FLAG_VALID_NEWLINE_TEST = 1;
    static final int FLAG_REDUNDANT_GT = 1 << 1;
    static final int FLAG_ZEROED_GRAIN_GTE = 1 << 2;
    static final int FLAG_COMPRESSED = 1 << 16;
    static final int FLAG_MARKERS = 1 << 17;
    static final int COMPRESSION_NONE = 0;
    static final int COMPRESSION_DEFLATE = 1;
    /** gdOffset of a streamOptimized header whose real grain directory offset is in the footer. */
    static final long GD_AT_END = -1L;

    /** Reads a header from the start of {@code b} (at {@code at} in {@code file}, for messages). */
    static SparseHeader read(ByteBuffer b, Source src, long at) {
        if (b.remaining() < SIZE) {
            throw src.bad("sparse extent header", at, "file too short for a sparse header ("
                    + b.remaining() + " bytes)");
        }
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        if (b.getInt(p) != VmdkDescriptor.SPARSE_MAGIC) {                    // 0x00 magicNumber "KDMV"
            throw src.bad("magicNumber", at, "not a VMDK sparse extent header");
        }
        return new SparseHeader(
                b.getInt(p + 0x04),       // 0x04 version
                b.getInt(p + 0x08),       // 0x08 flags
                b.getLong(p + 0x0c),      // 0x0c capacity (sectors)
                b.getLong(p + 0x14),      // 0x14 grainSize (sectors)
                b.getLong(p + 0x1c),      // 0x1c descriptorOffset (sectors)
                b.getLong(p + 0x24),      // 0x24 descriptorSize (sectors)
                b.getInt(p + 0x2c),       // 0x2c numGTEsPerGT
                b.getLong(p + 0x30),      // 0x30 rgdOffset (sectors)
                b.getLong(p + 0x38),      // 0x38 gdOffset (sectors)
                b.getLong(p + 0x40),      // 0x40 overHead (sectors)
                // 0x48 uncleanShutdown, 0x49..0x4c newline-detection characters
                Short.toUnsignedInt(b.getShort(p + 0x4d)));  // 0x4d compressAlgorithm
    }

    boolean compressed() {
        return compressAlgorithm == COMPRESSION_DEFLATE;
    }

    boolean markers() {
        return (flags & FLAG_MARKERS) != 0;
    }

    boolean zeroedGrainGte() {
        return (flags & FLAG_ZEROED_GRAIN_GTE) != 0;
    }
}
