package org.jv2v.image;

/** How much of a new image is allocated up front (qemu-img's -o preallocation=, virt-v2v's -oa). */
public enum Preallocation {
    /** Sparse: only written data takes space. */
    OFF,
    /** Format metadata (e.g. qcow2 tables) written for the whole disk, data sparse. */
    METADATA,
    /** Space reserved with fallocate, not written. */
    FALLOC,
    /** Every byte written. */
    FULL
}
