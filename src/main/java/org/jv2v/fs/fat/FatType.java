package org.jv2v.fs.fat;

/** The width of the file allocation table's entries. */
public enum FatType {
    FAT12(12, 0xFF7),
    FAT16(16, 0xFFF7),
    FAT32(32, 0x0FFF_FFF7);

    private final int bits;
    private final long bad;

    FatType(int bits, long bad) {
        this.bits = bits;
        this.bad = bad;
    }

    public int bits() {
        return bits;
    }

    /** The entry value that marks a bad cluster; larger values end a chain. */
    long badCluster() {
        return bad;
    }

    /** Values from here on end a chain (the spec's EOC range). */
    long endOfChain() {
        return bad + 1;
    }
}
