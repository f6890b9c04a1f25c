package org.jv2v.fs.btrfs;

import io.airlift.compress.v3.zstd.ZstdInputStream;
import org.jv2v.BadInputException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The three compressions btrfs writes: zlib (one zlib stream per extent), LZO (btrfs's own
 * framing: a total length, then per-sector segments, each with its length, never with a length
 * that straddles a sector boundary) and zstd (one frame). Output shorter than the extent's
 * uncompressed size reads as zeros after the end, as in the kernel.
 */
final class Decompress {
    static final int NONE = 0;
    static final int ZLIB = 1;
    static final int LZO = 2;
    static final int ZSTD = 3;
    /** BTRFS_MAX_UNCOMPRESSED and BTRFS_MAX_COMPRESSED: compressed extents are at most 128 KiB either way. */
    static final int MAX_EXTENT = 128 * 1024;

    private Decompress() {}

    static String name(int type) {
        return switch (type) {
            case ZLIB -> "zlib";
            case LZO -> "lzo";
            case ZSTD -> "zstd";
            default -> "compression type " + type;
        };
    }

    /** Decompresses {@code src[off, off + len)} to exactly {@code ramBytes} bytes; {@code where} names it. */
    static byte[] decompress(int type, byte[] src, int off, int len, int ramBytes, int sectorSize, String where) {
        byte[] out = new byte[ramBytes];
        try {
            switch (type) {
                case ZLIB -> zlib(src, off, len, out);
                case LZO -> lzo(src, off, len, out, sectorSize, where);
                case ZSTD -> zstd(src, off, len, out, where);
                default -> throw BadInputException.of(where + ": " + name(type) + " is not a compression btrfs has");
            }
        } catch (DataFormatException | IOException | RuntimeException e) {
            if (e instanceof BadInputException b) {
                throw b;
            }
            throw BadInputException.of(where + ": " + name(type) + " data is damaged (" + e.getMessage() + ")");
        }
        return out;
    }

    private static void zlib(byte[] src, int off, int len, byte[] out) throws DataFormatException {
        Inflater inf = new Inflater();
        try {
            inf.setInput(src, off, len);
            int n = 0;
            while (n < out.length && !inf.finished()) {
                int k = inf.inflate(out, n, out.length - n);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new DataFormatException("stream ends early, after " + n + " bytes");
                }
                n += k;
            }
        } finally {
            inf.end();
        }
    }

    private static void zstd(byte[] src, int off, int len, byte[] out, String where) throws IOException {
        // the frame is followed by padding up to the sector, which a zstd reader would take for
        // the start of another frame: give it the frame alone
        int frame = zstdFrameLength(src, off, len, where);
        try (ZstdInputStream in = new ZstdInputStream(new ByteArrayInputStream(src, off, frame))) {
            in.readNBytes(out, 0, out.length);
        }
    }

    /** The length of the zstd frame at {@code src[off]} (RFC 8878: header, then blocks, then an optional checksum). */
    static int zstdFrameLength(byte[] src, int off, int len, String where) {
        if (len < 6 || Hashes.le32(src, off) != 0xFD2FB528) {
            throw BadInputException.of(where + ": zstd data does not start with a frame");
        }
        int fhd = src[off + 4] & 0xFF;
        int fcsFlag = fhd >>> 6;
        boolean single = (fhd & 0x20) != 0;
        boolean checksum = (fhd & 0x04) != 0;
        int dictFlag = fhd & 0x03;
        int p = 5 + (single ? 0 : 1) + new int[] {0, 1, 2, 4}[dictFlag]
                + (fcsFlag == 0 ? (single ? 1 : 0) : 1 << fcsFlag);
        while (true) {
            if (p + 3 > len) {
                throw BadInputException.of(where + ": zstd frame runs past the extent (block header at byte " + p + ")");
            }
            int h = (src[off + p] & 0xFF) | (src[off + p + 1] & 0xFF) << 8 | (src[off + p + 2] & 0xFF) << 16;
            boolean last = (h & 1) != 0;
            int type = (h >>> 1) & 3;
            int size = h >>> 3;
            if (type == 3) {
                throw BadInputException.of(where + ": zstd block at byte " + p + " has the reserved type");
            }
            p += 3 + (type == 1 ? 1 : size);
            if (p > len) {
                throw BadInputException.of(where + ": zstd block of " + size + " bytes runs past the extent");
            }
            if (last) {
                break;
            }
        }
        p += checksum ? 4 : 0;
        if (p > len) {
            throw BadInputException.of(where + ": zstd frame checksum runs past the extent");
        }
        return p;
    }

    private static void lzo(byte[] src, int off, int len, byte[] out, int sectorSize, String where) {
        if (len < 4) {
            throw BadInputException.of(where + ": lzo data of " + len + " bytes has no header");
        }
        long total = Hashes.le32(src, off) & 0xFFFF_FFFFL;
        if (total > len || total < 4) {
            throw BadInputException.of(where + ": lzo total length " + total + " outside 4.." + len);
        }
        int p = 4;
        int o = 0;
        while (p < total && o < out.length) {
            int left = sectorSize - p % sectorSize;
            if (left < 4) {
                p += left; // a segment header never straddles a sector: the sector's tail is padding
                if (p >= total) {
                    break;
                }
            }
            if (p + 4 > total) {
                throw BadInputException.of(where + ": lzo segment header at byte " + p + " runs past the data");
            }
            long seg = Hashes.le32(src, off + p) & 0xFFFF_FFFFL;
            p += 4;
            if (seg > total - p) {
                throw BadInputException.of(where + ": lzo segment of " + seg + " bytes at byte " + (p - 4)
                        + " runs past the data");
            }
            int want = Math.min(sectorSize, out.length - o);
            try {
                o += Lzo1x.decompress(src, off + p, off + p + (int) seg, out, o, o + want);
            } catch (Lzo1x.FormatException e) {
                throw BadInputException.of(where + ": lzo segment at byte " + (p - 4) + ": " + e.getMessage());
            }
            p += (int) seg;
        }
    }
}
