package org.jv2v.image.qcow2;

import io.airlift.compress.v3.MalformedInputException;
import io.airlift.compress.v3.zstd.ZstdJavaCompressor;
import io.airlift.compress.v3.zstd.ZstdJavaDecompressor;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * How compressed clusters are stored (header field compression_type): raw deflate streams (zlib's
 * format without its header, as qemu writes them) or zstd frames. The pure-Java zstd of
 * aircompressor is used, never its native library.
 */
enum Compression {
    ZLIB,
    ZSTD;

    /** Deflate level 6, zlib's default, which qemu uses. */
    private static final int DEFLATE_LEVEL = 6;

    /**
     * zlib streams hold native memory that only a GC would free, so they are pooled rather than kept
     * per thread (a copier may run many short-lived or virtual threads). Beyond this many idle ones,
     * a returned stream is ended.
     */
    private static final int POOL_MAX = 2 * Runtime.getRuntime().availableProcessors() + 2;
    private static final ConcurrentLinkedDeque<Inflater> INFLATERS = new ConcurrentLinkedDeque<>();
    private static final ConcurrentLinkedDeque<Deflater> DEFLATERS = new ConcurrentLinkedDeque<>();

    /** A stored cluster that does not decode to exactly one cluster. */
    static final class CorruptDataException extends Exception {
        CorruptDataException(String message) {
            super(message);
        }
    }

    static Compression ofType(int type) {
        return switch (type) {
            case 0 -> ZLIB;
            case 1 -> ZSTD;
            default -> throw new IllegalArgumentException("unknown compression type " + type);
        };
    }

    int type() {
        return ordinal();
    }

    String displayName() {
        return this == ZLIB ? "zlib" : "zstd";
    }

    /**
     * Decodes {@code src[0, len)} (which may run on past the stream into the next cluster's bytes)
     * into exactly {@code dst[0, clusterSize)}.
     */
    void decompress(byte[] src, int len, byte[] dst, int clusterSize) throws CorruptDataException {
        switch (this) {
            case ZLIB -> inflate(src, len, dst, clusterSize);
            case ZSTD -> unzstd(src, len, dst, clusterSize);
        }
    }

    /**
     * Compresses {@code src[off, off + len)} into {@code dst}; returns the compressed length, or -1
     * when it would not fit in {@code maxLen} bytes (not worth storing compressed).
     */
    int compress(byte[] src, int off, int len, byte[] dst, int maxLen) {
        return switch (this) {
            case ZLIB -> deflate(src, off, len, dst, maxLen);
            case ZSTD -> zstd(src, off, len, dst, maxLen);
        };
    }

    private static void inflate(byte[] src, int len, byte[] dst, int clusterSize) throws CorruptDataException {
        Inflater inf = INFLATERS.pollFirst();
        if (inf == null) {
            inf = new Inflater(true);
        }
        int n = 0;
        try {
            inf.setInput(src, 0, len);
            while (n < clusterSize) {
                int r = inf.inflate(dst, n, clusterSize - n);
                n += r;
                if (r == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) {
                    break;
                }
            }
        } catch (DataFormatException e) {
            throw new CorruptDataException("bad deflate stream: " + e.getMessage());
        } finally {
            inf.reset();
            if (INFLATERS.size() < POOL_MAX) {
                INFLATERS.offerFirst(inf);
            } else {
                inf.end();
            }
        }
        if (n < clusterSize) {
            throw new CorruptDataException("deflate stream ends after " + n + " of " + clusterSize + " bytes");
        }
    }

    private static int deflate(byte[] src, int off, int len, byte[] dst, int maxLen) {
        Deflater def = DEFLATERS.pollFirst();
        if (def == null) {
            def = new Deflater(DEFLATE_LEVEL, true);
        }
        try {
            def.setInput(src, off, len);
            def.finish();
            int n = 0;
            while (!def.finished() && n < maxLen) {
                n += def.deflate(dst, n, maxLen - n);
            }
            return def.finished() ? n : -1;
        } finally {
            def.reset();
            if (DEFLATERS.size() < POOL_MAX) {
                DEFLATERS.offerFirst(def);
            } else {
                def.end();
            }
        }
    }

    private static void unzstd(byte[] src, int len, byte[] dst, int clusterSize) throws CorruptDataException {
        ZstdJavaDecompressor z = new ZstdJavaDecompressor();
        int in = 0;
        int out = 0;
        // qemu writes one frame; consecutive frames are accepted as zstd's streaming decoder would.
        while (out < clusterSize) {
            int frame = ZstdFrames.frameLength(src, in, len - in);
            try {
                out += z.decompress(src, in, frame, dst, out, clusterSize - out);
            } catch (MalformedInputException | IllegalArgumentException | IndexOutOfBoundsException e) {
                throw new CorruptDataException("bad zstd frame at byte " + in + ": " + e.getMessage());
            }
            in += frame;
        }
    }

    private static int zstd(byte[] src, int off, int len, byte[] dst, int maxLen) {
        ZstdJavaCompressor z = new ZstdJavaCompressor();
        byte[] out = new byte[z.maxCompressedLength(len)];
        int n = z.compress(src, off, len, out, 0, out.length);
        if (n > maxLen) {
            return -1;
        }
        System.arraycopy(out, 0, dst, 0, n);
        return n;
    }
}
