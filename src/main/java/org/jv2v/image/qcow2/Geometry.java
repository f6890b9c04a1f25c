package org.jv2v.image.qcow2;

/**
 * The shape of a qcow2 image's mapping: cluster size, virtual size, table sizes, and how L1, L2
 * and compressed cluster entries encode offsets (docs/interop/qcow2.txt, "Cluster mapping").
 */
record Geometry(int clusterBits, long size, boolean extendedL2) {

    /** L1 and standard L2 entries: bits 9-55 hold a cluster-aligned host offset. */
    static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;
    /** L1/L2 entry bit 63: the table or cluster has refcount exactly one. */
    static final long COPIED = 1L << 63;
    /** L2 entry bit 62: a compressed cluster. */
    static final long COMPRESSED = 1L << 62;
    /** Standard cluster descriptor bit 0: reads as zeros (v3, not with extended L2 entries). */
    static final long ZERO = 1L;
    /** Bytes of a sector, the unit of compressed cluster lengths. */
    static final int SECTOR = 512;
    /** Subclusters per cluster with extended L2 entries. */
    static final int SUBCLUSTERS = 32;

    int clusterSize() {
        return 1 << clusterBits;
    }

    /** Entries in one L2 table (one cluster). */
    int l2Entries() {
        return clusterSize() / (extendedL2 ? 16 : 8);
    }

    int l2Bits() {
        return Integer.numberOfTrailingZeros(l2Entries());
    }

    /** Guest bytes one L2 table maps. */
    long l2Coverage() {
        return (long) l2Entries() << clusterBits;
    }

    /** Guest clusters, the last one possibly partial. */
    long clusters() {
        return (size + clusterSize() - 1) >>> clusterBits;
    }

    /** L1 entries the virtual size needs. */
    long l1Needed() {
        return (clusters() + l2Entries() - 1) >>> l2Bits();
    }

    int subclusterBits() {
        return clusterBits - 5;
    }

    /** Bit where a compressed descriptor's sector count starts (x = 62 - (cluster_bits - 8)). */
    int compressedShift() {
        return 62 - (clusterBits - 8);
    }

    long compressedOffset(long entry) {
        return entry & ((1L << compressedShift()) - 1);
    }

    /** Bytes a compressed descriptor spans: its sectors, less the part of the first before the offset. */
    int compressedLength(long entry) {
        long sectors = ((entry >>> compressedShift()) & ((1L << (clusterBits - 8)) - 1)) + 1;
        return (int) (sectors * SECTOR - (compressedOffset(entry) & (SECTOR - 1)));
    }

    /** The descriptor for {@code length} compressed bytes at host {@code offset}. */
    long compressedEntry(long offset, int length) {
        long extraSectors = ((offset + length - 1) / SECTOR) - (offset / SECTOR);
        return COMPRESSED | extraSectors << compressedShift() | offset;
    }
}
