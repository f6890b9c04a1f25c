package org.jv2v.fs.ntfs;

/**
 * LZNT1, the compression of NTFS compressed files: a compression unit is a sequence of chunks, each
 * a 16-bit header (bits 0-11: chunk bytes - 3, bit 15: compressed) and up to 4096 bytes of output.
 * A compressed chunk is groups of a flag byte and eight tokens: a literal byte, or a 16-bit
 * back-reference whose split between offset and length bits grows with the position in the chunk.
 */
final class Lznt1 {
    static final int CHUNK = 4096;

    private Lznt1() {}

    /** Thrown for malformed input; the caller adds the file and offset. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message);
        }
    }

    /**
     * Decompresses {@code src[0, srcLen)} into {@code dst[0, dst.length)}; output past the last
     * chunk, and the tail of a chunk shorter than 4096 bytes, reads as zeros.
     */
    static void decompress(byte[] src, int srcLen, byte[] dst) throws Malformed {
        java.util.Arrays.fill(dst, (byte) 0);
        int in = 0;
        int chunkStart = 0;
        while (in + 2 <= srcLen && chunkStart < dst.length) {
            int header = (src[in] & 0xFF) | (src[in + 1] & 0xFF) << 8;
            if (header == 0) {
                return;
            }
            int size = (header & 0x0FFF) + 1;
            in += 2;
            if (in + size > srcLen) {
                throw new Malformed("chunk of " + size + " bytes at +" + (in - 2) + " runs past the compression unit");
            }
            int chunkEnd = Math.min(chunkStart + CHUNK, dst.length);
            if ((header & 0x8000) == 0) {
                System.arraycopy(src, in, dst, chunkStart, Math.min(size, chunkEnd - chunkStart));
            } else {
                decompressChunk(src, in, in + size, dst, chunkStart, chunkEnd);
            }
            in += size;
            chunkStart += CHUNK;
        }
    }

    private static void decompressChunk(byte[] src, int in, int inEnd, byte[] dst, int start, int end)
            throws Malformed {
        int out = start;
        while (in < inEnd && out < end) {
            int flags = src[in++] & 0xFF;
            for (int bit = 0; bit < 8 && in < inEnd && out < end; bit++, flags >>>= 1) {
                if ((flags & 1) == 0) {
                    dst[out++] = src[in++];
                    continue;
                }
                if (in + 2 > inEnd) {
                    throw new Malformed("back-reference cut short at the end of a chunk");
                }
                int token = (src[in] & 0xFF) | (src[in + 1] & 0xFF) << 8;
                in += 2;
                int pos = out - start;
                if (pos == 0) {
                    throw new Malformed("back-reference at the start of a chunk");
                }
                // Offset bits: enough to reach back to the chunk start (at least 4); length gets the rest.
                int lg = 0;
                for (int i = pos - 1; i >= 0x10; i >>>= 1) {
                    lg++;
                }
                int offset = (token >>> (12 - lg)) + 1;
                int length = (token & (0x0FFF >>> lg)) + 3;
                if (offset > pos) {
                    throw new Malformed("back-reference " + offset + " bytes before position " + pos + " of a chunk");
                }
                if (out + length > end) {
                    throw new Malformed("back-reference of " + length + " bytes runs past the end of a chunk");
                }
                for (int i = 0; i < length; i++, out++) {
                    dst[out] = dst[out - offset];
                }
            }
        }
    }
}
