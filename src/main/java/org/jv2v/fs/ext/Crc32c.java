package org.jv2v.fs.ext;

/**
 * CRC-32C (Castagnoli) as ext4 chains it: an explicit seed and no final inversion, which
 * java.util.zip.CRC32C (fixed seed, inverted result) cannot express.
 */
final class Crc32c {
    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
            }
            TABLE[i] = c;
        }
    }

    private Crc32c() {}

    static int update(int crc, byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            crc = TABLE[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
        }
        return crc;
    }
}
