package org.jv2v.image.qcow2;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The fixed part of a qcow2 header (docs/interop/qcow2.txt, "Header"), big-endian. Unsigned 32-bit
 * fields are held in {@code long}s so that caps compare them correctly. Fields a version does not
 * have read as their defaults (v2: no features, refcount_order 4, 72 bytes, zlib).
 */
record Qcow2Header(
        int version,                  // 0x04
        long backingFileOffset,       // 0x08
        long backingFileSize,         // 0x10 (u32)
        long clusterBits,             // 0x14 (u32)
        long size,                    // 0x18
        long cryptMethod,             // 0x20 (u32)
        long l1Size,                  // 0x24 (u32)
        long l1TableOffset,           // 0x28
        long refcountTableOffset,     // 0x30
        long refcountTableClusters,   // 0x38 (u32)
        long nbSnapshots,             // 0x3c (u32)
        long snapshotsOffset,         // 0x40
        long incompatibleFeatures,    // 0x48 (v3)
        long compatibleFeatures,      // 0x50 (v3)
        long autoclearFeatures,       // 0x58 (v3)
        long refcountOrder,           // 0x60 (u32, v3)
        long headerLength,            // 0x64 (u32, v3)
        int compressionType) {        // 0x68 (u8, v3 when header_length > 0x68)

    static final int MAGIC = 0x514649fb; // "QFI\xfb"

    // Field offsets, for error messages.
    static final int OFF_VERSION = 0x04;
    static final int OFF_BACKING_FILE_OFFSET = 0x08;
    static final int OFF_BACKING_FILE_SIZE = 0x10;
    static final int OFF_CLUSTER_BITS = 0x14;
    static final int OFF_SIZE = 0x18;
    static final int OFF_CRYPT_METHOD = 0x20;
    static final int OFF_L1_SIZE = 0x24;
    static final int OFF_L1_TABLE_OFFSET = 0x28;
    static final int OFF_REFCOUNT_TABLE_OFFSET = 0x30;
    static final int OFF_REFCOUNT_TABLE_CLUSTERS = 0x38;
    static final int OFF_NB_SNAPSHOTS = 0x3c;
    static final int OFF_SNAPSHOTS_OFFSET = 0x40;
    static final int OFF_INCOMPATIBLE_FEATURES = 0x48;
    static final int OFF_AUTOCLEAR_FEATURES = 0x58;
    static final int OFF_REFCOUNT_ORDER = 0x60;
    static final int OFF_HEADER_LENGTH = 0x64;
    static final int OFF_COMPRESSION_TYPE = 0x68;

    /** Incompatible feature bits. */
    static final long INCOMPAT_DIRTY = 1L;
    static final long INCOMPAT_CORRUPT = 1L << 1;
    static final long INCOMPAT_DATA_FILE = 1L << 2;
    static final long INCOMPAT_COMPRESSION = 1L << 3;
    static final long INCOMPAT_EXTENDED_L2 = 1L << 4;
    static final long INCOMPAT_KNOWN = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE
            | INCOMPAT_COMPRESSION | INCOMPAT_EXTENDED_L2;

    /** What jv2v writes: the v3 header with the compression type byte, padded to 8. */
    static final int V3_WRITTEN_LENGTH = 112;

    /** The first bytes of the file hold the magic. */
    static boolean hasMagic(ByteBuffer head) {
        return head.remaining() >= 8 && head.order(ByteOrder.BIG_ENDIAN).getInt(head.position()) == MAGIC;
    }

    /**
     * Reads the header from {@code buf} (from its position, at least 72 bytes, 112 for a full v3
     * header). Only decodes: the caller checks the values.
     */
    static Qcow2Header read(ByteBuffer buf) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.BIG_ENDIAN);
        int p = b.position();
        int version = b.getInt(p + 0x04);
        long backingFileOffset = b.getLong(p + 0x08);
        long backingFileSize = u32(b, p + 0x10);
        long clusterBits = u32(b, p + 0x14);
        long size = b.getLong(p + 0x18);
        long cryptMethod = u32(b, p + 0x20);
        long l1Size = u32(b, p + 0x24);
        long l1TableOffset = b.getLong(p + 0x28);
        long refcountTableOffset = b.getLong(p + 0x30);
        long refcountTableClusters = u32(b, p + 0x38);
        long nbSnapshots = u32(b, p + 0x3c);
        long snapshotsOffset = b.getLong(p + 0x40);
        if (version < 3 || b.remaining() < Qcow2Limits.V3_MIN_HEADER_LENGTH) {
            return new Qcow2Header(version, backingFileOffset, backingFileSize, clusterBits, size, cryptMethod,
                    l1Size, l1TableOffset, refcountTableOffset, refcountTableClusters, nbSnapshots, snapshotsOffset,
                    0, 0, 0, 4, Qcow2Limits.V2_HEADER_LENGTH, 0);
        }
        long headerLength = u32(b, p + 0x64);
        int compressionType = headerLength > 0x68 && b.remaining() > 0x68 ? b.get(p + 0x68) & 0xff : 0;
        return new Qcow2Header(version, backingFileOffset, backingFileSize, clusterBits, size, cryptMethod,
                l1Size, l1TableOffset, refcountTableOffset, refcountTableClusters, nbSnapshots, snapshotsOffset,
                b.getLong(p + 0x48), b.getLong(p + 0x50), b.getLong(p + 0x58), u32(b, p + 0x60), headerLength,
                compressionType);
    }

    /**
     * Writes a v3 header at {@code buf}'s position: {@code min(headerLength, 112)} bytes, so that
     * rewriting the header of an image with a longer one keeps the fields jv2v does not know.
     */
    void write(ByteBuffer buf) {
        if (version != 3) {
            throw new IllegalStateException("jv2v writes only qcow2 version 3 headers");
        }
        ByteBuffer b = buf.duplicate().order(ByteOrder.BIG_ENDIAN);
        int p = b.position();
        b.putInt(p, MAGIC);
        b.putInt(p + 0x04, version);
        b.putLong(p + 0x08, backingFileOffset);
        b.putInt(p + 0x10, (int) backingFileSize);
        b.putInt(p + 0x14, (int) clusterBits);
        b.putLong(p + 0x18, size);
        b.putInt(p + 0x20, (int) cryptMethod);
        b.putInt(p + 0x24, (int) l1Size);
        b.putLong(p + 0x28, l1TableOffset);
        b.putLong(p + 0x30, refcountTableOffset);
        b.putInt(p + 0x38, (int) refcountTableClusters);
        b.putInt(p + 0x3c, (int) nbSnapshots);
        b.putLong(p + 0x40, snapshotsOffset);
        b.putLong(p + 0x48, incompatibleFeatures);
        b.putLong(p + 0x50, compatibleFeatures);
        b.putLong(p + 0x58, autoclearFeatures);
        b.putInt(p + 0x60, (int) refcountOrder);
        b.putInt(p + 0x64, (int) headerLength);
        if (headerLength > 0x68) {
            b.put(p + 0x68, (byte) compressionType);
            for (int i = 0x69; i < Math.min(headerLength, V3_WRITTEN_LENGTH); i++) {
                b.put(p + i, (byte) 0); // padding must be zero
            }
        }
    }

    /** How many bytes {@link #write} writes. */
    int writtenLength() {
        return (int) Math.min(headerLength, V3_WRITTEN_LENGTH);
    }

    Qcow2Header withIncompatibleFeatures(long features) {
        return new Qcow2Header(version, backingFileOffset, backingFileSize, clusterBits, size, cryptMethod, l1Size,
                l1TableOffset, refcountTableOffset, refcountTableClusters, nbSnapshots, snapshotsOffset, features,
                compatibleFeatures, autoclearFeatures, refcountOrder, headerLength, compressionType);
    }

    Qcow2Header withRefcountTable(long offset, long clusters) {
        return new Qcow2Header(version, backingFileOffset, backingFileSize, clusterBits, size, cryptMethod, l1Size,
                l1TableOffset, offset, clusters, nbSnapshots, snapshotsOffset, incompatibleFeatures,
                compatibleFeatures, autoclearFeatures, refcountOrder, headerLength, compressionType);
    }

    private static long u32(ByteBuffer b, int at) {
        return Integer.toUnsignedLong(b.getInt(at));
    }
}
