package org.jv2v.fs.ext;

/** The CRC-16 (polynomial 0x8005, reflected) of the older gdt_csum group descriptor checksum. */
final class Crc16 {
    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ 0xa001 : c >>> 1;
            }
            TABLE[i] = c;
        }
    }

    private Crc16() {}

    static int update(int crc, byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            crc = (TABLE[(crc ^ b[i]) & 0xff] ^ (crc >>> 8)) & 0xffff;
        }
        return crc;
    }
}
