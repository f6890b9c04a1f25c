package org.jv2v.image.qcow2;

/**
 * Caps on the values a qcow2 header may ask for, checked before anything is sized from them. A
 * malicious image must not make jv2v allocate more than these, loop, or read outside the file.
 */
final class Qcow2Limits {
    private Qcow2Limits() {}

    /** The spec's minimum: 512-byte clusters. */
    static final int MIN_CLUSTER_BITS = 9;

    /**
     * qemu refuses clusters above 2 MiB; an L2 table is one cluster, so this also bounds every table
     * and decompression buffer to 2 MiB (4 MiB for a compressed cluster's stored bytes).
     */
    static final int MAX_CLUSTER_BITS = 21;

    /** The spec: images with extended L2 entries have clusters of at least 16 KiB. */
    static final int MIN_EXTENDED_L2_CLUSTER_BITS = 14;

    /**
     * qemu's limit on the active L1 table (32 MiB of entries): it addresses 2^63 bytes with 2 MiB
     * clusters, so no real image needs more, and it bounds the one table read whole at open.
     */
    static final long MAX_L1_ENTRIES = 32L * 1024 * 1024 / Long.BYTES;

    /** The spec: a backing file name is at most 1023 bytes. */
    static final int MAX_BACKING_NAME_BYTES = 1023;

    /** Format names are short ("qcow2", "raw", "vmdk"); qemu keeps them in a 16-byte buffer. */
    static final int MAX_BACKING_FORMAT_BYTES = 15;

    /** qemu's limit on internal snapshots (we never read them, but a bigger count is nonsense). */
    static final long MAX_SNAPSHOTS = 65536;

    /** The spec: refcount_order at most 6 (64-bit refcounts). */
    static final int MAX_REFCOUNT_ORDER = 6;

    /**
     * qemu's limit on the refcount table (8 MiB): only the writer reads it whole, when it resumes
     * an image, and that many entries already address exabytes.
     */
    static final long MAX_REFCOUNT_TABLE_BYTES = 8L * 1024 * 1024;

    /** v2 headers are exactly this long. */
    static final int V2_HEADER_LENGTH = 72;

    /** v3 headers are at least this long (through header_length). */
    static final int V3_MIN_HEADER_LENGTH = 104;

    /** A feature name table entry: type, bit, 46 bytes of name. */
    static final int FEATURE_ENTRY_BYTES = 48;

    /**
     * Virtual sizes beyond 2^61 bytes cannot be populated by any cluster size (the spec notes 2 EB
     * as qemu's limit with 2 MiB clusters); it also keeps offset arithmetic far from overflow.
     */
    static final long MAX_VIRTUAL_SIZE = 1L << 61;

    /**
     * L2 tables a reader keeps decoded (per image in a chain): 2 MiB, which with 64 KiB clusters
     * maps 16 GiB of disk; sequential copies need only the current table.
     */
    static final long READ_L2_CACHE_BYTES = 2L * 1024 * 1024;

    /**
     * L2 tables the writer keeps in memory before writing the least recently used one back: 4 MiB
     * maps 32 GiB of disk with 64 KiB clusters. A copy fills its tables in disk order, so each is
     * written back once, when full; a larger budget only delays that.
     */
    static final long WRITE_L2_CACHE_BYTES = 4L * 1024 * 1024;

    /** Refcount blocks the writer keeps in memory: 2 MiB, each 64 KiB block covers 2 GiB of file. */
    static final long WRITE_REFCOUNT_CACHE_BYTES = 2L * 1024 * 1024;
}
