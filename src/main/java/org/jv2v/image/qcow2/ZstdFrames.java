package org.jv2v.image.qcow2;

/**
 * Finds where a zstd frame ends (RFC 8878, section 3.1.1) by walking its header and block headers,
 * so the frame can be decoded alone: a compressed qcow2 cluster is followed, in the same sector,
 * by unrelated bytes that a whole-buffer decoder would take for another frame.
 */
final class ZstdFrames {
    private static final int MAGIC = 0xFD2FB528;

    private ZstdFrames() {}

    /** The length of the frame at {@code b[off, off + len)}; it must lie entirely within. */
    static int frameLength(byte[] b, int off, int len) throws Compression.CorruptDataException {
        int end = off + len;
        int p = off;
        need(p + 5, end, "frame header");
        int magic = (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24;
        if (magic != MAGIC) {
            throw new Compression.CorruptDataException(String.format("no zstd frame (magic 0x%08x)", magic));
        }
        p += 4;
        int descriptor = b[p++] & 0xff;
        int contentSizeFlag = descriptor >>> 6;
        boolean singleSegment = (descriptor & 0x20) != 0;
        boolean checksum = (descriptor & 0x04) != 0;
        int dictIdFlag = descriptor & 0x03;
        if ((descriptor & 0x08) != 0) {
            throw new Compression.CorruptDataException("zstd frame header has its reserved bit set");
        }
        p += singleSegment ? 0 : 1; // window descriptor
        p += new int[] {0, 1, 2, 4}[dictIdFlag];
        p += switch (contentSizeFlag) {
            case 0 -> singleSegment ? 1 : 0;
            case 1 -> 2;
            case 2 -> 4;
            default -> 8;
        };
        // Each block header is 3 bytes and moves p forward, so this ends within len / 3 rounds.
        for (;;) {
            need(p + 3, end, "block header");
            int header = (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16;
            p += 3;
            boolean last = (header & 1) != 0;
            int type = (header >>> 1) & 3;
            int size = header >>> 3;
            p += switch (type) {
                case 0, 2 -> size; // raw, compressed
                case 1 -> 1; // RLE: one byte repeated
                default -> throw new Compression.CorruptDataException("zstd block of reserved type 3");
            };
            need(p, end, "block");
            if (last) {
                break;
            }
        }
        p += checksum ? 4 : 0;
        need(p, end, "checksum");
        return p - off;
    }

    private static void need(long upTo, int end, String what) throws Compression.CorruptDataException {
        if (upTo > end) {
            throw new Compression.CorruptDataException("zstd " + what + " runs past the stored bytes");
        }
    }
}
