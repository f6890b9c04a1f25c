package org.jv2v.fs.ext;

import java.util.zip.CRC32C;

/**
 * CRC-32C (Castagnoli) as ext4 chains it: an explicit seed and no final inversion, which
 * java.util.zip.CRC32C (fixed seed, inverted result) cannot express directly. Longer inputs still
 * go through the JDK's class (a CPU instruction, about a hundred times faster than a table): four
 * bytes fed first bring its register from its fixed start to the wanted seed, since four bytes of
 * input can put a CRC register into any state.
 */
final class Crc32c {
    private static final int[] TABLE = new int[256];
    /** For each top byte of a table entry, its index (the top bytes are all different). */
    private static final int[] BY_TOP_BYTE = new int[256];
    /** Below this, the table is cheaper than setting up the JDK's class. */
    private static final int INTRINSIC_FROM = 64;

    static {
        java.util.Arrays.fill(BY_TOP_BYTE, -1);
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
            }
            TABLE[i] = c;
            if (BY_TOP_BYTE[c >>> 24] >= 0) {
                throw new AssertionError("CRC table top bytes repeat");
            }
            BY_TOP_BYTE[c >>> 24] = i;
        }
    }

    private Crc32c() {}

    static int update(int crc, byte[] b, int off, int len) {
        if (len < INTRINSIC_FROM) {
            return table(crc, b, off, len);
        }
        CRC32C z = new CRC32C();
        z.update(prefix(crc));
        z.update(b, off, len);
        return ~(int) z.getValue();
    }

    static int table(int crc, byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            crc = TABLE[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
        }
        return crc;
    }

    /**
     * Four bytes that take a register starting at all ones (the JDK's start) to {@code seed}.
     * Feeding four bytes P equals feeding four zero bytes to the register XOR P (little-endian);
     * four zero bytes are a bijection, undone one byte at a time through the top-byte index.
     */
    private static byte[] prefix(int seed) {
        int x = seed;
        for (int k = 0; k < 4; k++) {
            int i = BY_TOP_BYTE[x >>> 24];
            x = ((x ^ TABLE[i]) << 8) | i;
        }
        int p = ~x;
        return new byte[] {(byte) p, (byte) (p >>> 8), (byte) (p >>> 16), (byte) (p >>> 24)};
    }
}
