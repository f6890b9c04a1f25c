package org.jv2v.image;

/** What a range of a {@link BlockDevice} holds, as far as its format knows without reading it. */
public enum ExtentType {
    /** May hold non-zero bytes: must be read. */
    DATA,
    /** Known to read as zeros (allocated or not). */
    ZERO,
    /** Not allocated anywhere in the device (or its backing chain): reads as zeros. */
    UNALLOCATED;

    /** True when the range can be skipped by a sparse copy. */
    public boolean readsAsZero() {
        return this != DATA;
    }
}
