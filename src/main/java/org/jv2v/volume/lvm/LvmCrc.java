package org.jv2v.volume.lvm;

/**
 * lvm2's checksum: the CRC-32 of zlib (reflected polynomial 0xedb88320) started from 0xf597a6cf and
 * without the final inversion, so java.util.zip.CRC32 cannot compute it.
 */
final class LvmCrc {
    static final int INITIAL = 0xf597a6cf;
    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
            }
            TABLE[i] = c;
        }
    }

    private LvmCrc() {}

    static int update(int crc, byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            crc = TABLE[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
        }
        return crc;
    }
}
