package org.jv2v.convert.linux.compress;

import org.jv2v.BadInputException;

/**
 * The extent of one zstd frame (RFC 8878 section 3.1.1), found by walking its block headers
 * without decoding: the kernel decodes exactly one frame per initramfs part, and what follows the
 * frame is the next part.
 */
record ZstdFrame(int length, long windowSize) {
    private static final int MAGIC = 0xFD2FB528;
    private static final int BLOCK_RLE = 1;
    private static final int BLOCK_RESERVED = 3;

    static ZstdFrame scan(byte[] in, int off, int len, String where) {
        int end = off + len;
        if (len < 6 || (int) Codecs.le32(in, off) != MAGIC) {
            throw BadInputException.of(where + ": not a zstd frame");
        }
        int fhd = in[off + 4] & 0xff;              // 0x04 Frame_Header_Descriptor
        int fcsFlag = fhd >>> 6;
        boolean singleSegment = (fhd & 0x20) != 0;
        if ((fhd & 0x08) != 0) {
            throw BadInputException.of(where + ": zstd frame header descriptor 0x" + Integer.toHexString(fhd)
                    + " at offset +0x4 has the reserved bit set");
        }
        boolean checksum = (fhd & 0x04) != 0;
        int didSize = new int[] {0, 1, 2, 4}[fhd & 3];
        int fcsSize = new int[] {singleSegment ? 1 : 0, 2, 4, 8}[fcsFlag];
        int p = off + 5;
        long window = 0;
        if (!singleSegment) {                      // 0x05 Window_Descriptor
            int wd = in[p++] & 0xff;
            int exponent = wd >>> 3;
            int mantissa = wd & 7;
            long base = 1L << (10 + exponent);
            window = base + (base / 8) * mantissa;
        }
        p += didSize;
        if (p + fcsSize > end) {
            throw BadInputException.of(where + ": zstd frame header is truncated");
        }
        if (singleSegment) {                        // the window is the whole content
            long fcs = 0;
            for (int i = fcsSize - 1; i >= 0; i--) {
                fcs = fcs << 8 | (in[p + i] & 0xff);
            }
            window = fcsSize == 2 ? fcs + 256 : fcs;
        }
        p += fcsSize;
        while (true) {
            if (p + 3 > end) {
                throw BadInputException.of(where + ": zstd data is truncated (block header at offset +0x"
                        + Integer.toHexString(p - off) + ")");
            }
            int bh = (in[p] & 0xff) | (in[p + 1] & 0xff) << 8 | (in[p + 2] & 0xff) << 16;
            boolean last = (bh & 1) != 0;
            int type = (bh >>> 1) & 3;
            int size = bh >>> 3;
            if (type == BLOCK_RESERVED) {
                throw BadInputException.of(where + ": zstd block at offset +0x" + Integer.toHexString(p - off)
                        + " has the reserved block type");
            }
            p += 3;
            long next = (long) p + (type == BLOCK_RLE ? 1 : size);
            if (next > end) {
                throw BadInputException.of(where + ": zstd data is truncated (block at offset +0x"
                        + Integer.toHexString(p - 3 - off) + " needs " + (type == BLOCK_RLE ? 1 : size) + " bytes)");
            }
            p = (int) next;
            if (last) {
                break;
            }
        }
        if (checksum) {
            if (p + 4 > end) {
                throw BadInputException.of(where + ": zstd data is truncated (no content checksum)");
            }
            p += 4;
        }
        return new ZstdFrame(p - off, window);
    }
}
