package org.jv2v.convert.linux.compress;

import io.airlift.compress.v3.MalformedInputException;
import io.airlift.compress.v3.lz4.Lz4JavaCompressor;
import io.airlift.compress.v3.lz4.Lz4JavaDecompressor;
import io.airlift.compress.v3.zstd.ZstdInputStream;
import io.airlift.compress.v3.zstd.ZstdJavaCompressor;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.jv2v.BadInputException;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.LZMAInputStream;
import org.tukaani.xz.LZMAOutputStream;
import org.tukaani.xz.MemoryLimitException;
import org.tukaani.xz.SingleXZInputStream;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * Decodes one compressed stream from the middle of a buffer, telling how many bytes it used (the
 * kernel unpacks an initramfs as a chain of parts, each starting where the previous one ended),
 * and encodes data the way the kernel can read it back.
 */
public final class Codecs {
    /**
     * Memory an xz or lzma dictionary may ask for while decoding. {@code xz -9} needs 65 MiB; the
     * kernel's own decoder allocates the dictionary the header asks for, so a larger claim is
     * either corrupt or hostile.
     */
    static final int XZ_MEMORY_LIMIT_KIB = 256 * 1024;
    /** lz4 legacy frames cut the input into chunks of 8 MiB (fixed by the format, see the kernel's unlz4). */
    static final int LZ4_CHUNK = 8 << 20;
    /** LZ4_COMPRESSBOUND of one chunk: a larger compressed chunk size is corrupt. */
    static final int LZ4_MAX_COMPRESSED_CHUNK = LZ4_CHUNK + LZ4_CHUNK / 255 + 16;
    /** The kernel's zstd decoder refuses windows above 128 MiB (ZSTD_WINDOWSIZE_MAX in decompress_unzstd.c). */
    static final long ZSTD_KERNEL_MAX_WINDOW = 128L << 20;
    /**
     * gzip level 6, gzip's default, which mkinitramfs uses; dracut's -9 saves under 1% more and
     * takes three times as long.
     */
    static final int GZIP_LEVEL = 6;
    /**
     * xz/lzma preset 1 (fast mode, 1 MiB dictionary). mkinitramfs uses xz's default, preset 6; on a
     * 37 MB initramfs Java's encoder needs 30 s of CPU at 6 and 5.6 s at 1, for an image 10% larger.
     */
    static final int XZ_PRESET = 1;

    private Codecs() {}

    /** A decoded stream and the number of input bytes it spanned. */
    public record Decoded(byte[] data, int consumed) {}

    /**
     * Decodes the stream of {@code c} that starts at {@code off}, reading at most {@code len} bytes
     * and producing at most {@code maxOut} bytes. {@code where} names the stream in errors.
     */
    public static Decoded decode(Compression c, byte[] in, int off, int len, long maxOut, String where) {
        CappedBuffer out = new CappedBuffer(maxOut, where);
        try {
            int used = switch (c) {
                case NONE -> {
                    out.write(in, off, len);
                    yield len;
                }
                case GZIP -> gunzip(in, off, len, out, where);
                case XZ -> viaStream(in, off, len, out, s -> new SingleXZInputStream(s, XZ_MEMORY_LIMIT_KIB));
                case LZMA -> viaStream(in, off, len, out, s -> new LZMAInputStream(s, XZ_MEMORY_LIMIT_KIB));
                case BZIP2 -> viaStream(in, off, len, out, s -> new BZip2CompressorInputStream(s, false));
                case ZSTD -> unzstd(in, off, len, out, where);
                case LZ4_LEGACY -> unlz4(in, off, len, out, where);
                case LZO -> throw BadInputException.of(where
                        + ": LZO compression is not supported by jv2v (the guest's kernel reads it, Java has no LZO)");
            };
            return new Decoded(out.toByteArray(), used);
        } catch (MemoryLimitException e) {
            throw BadInputException.of(where + ": " + c + " data asks for " + e.getMemoryNeeded()
                    + " KiB of dictionary, more than the " + XZ_MEMORY_LIMIT_KIB + " KiB allowed");
        } catch (java.io.EOFException e) {
            throw BadInputException.of(where + ": " + c + " data is truncated");
        } catch (IOException | MalformedInputException | UncheckedIOException | IllegalStateException
                 | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw BadInputException.of(where + ": " + c + " data is corrupt (" + oneLine(e) + ")");
        }
    }

    /** Compresses {@code data[off, off+len)} as one stream of {@code c} that the kernel decodes. */
    public static byte[] encode(Compression c, byte[] data, int off, int len) {
        try {
            return switch (c) {
                case NONE -> java.util.Arrays.copyOfRange(data, off, off + len);
                case GZIP -> gzip(data, off, len);
                case XZ -> viaOutputStream(data, off, len,
                        // The kernel's xz decoder knows only the CRC32 and "none" integrity checks.
                        o -> new XZOutputStream(o, new LZMA2Options(XZ_PRESET), XZ.CHECK_CRC32));
                case LZMA -> viaOutputStream(data, off, len, o -> new LZMAOutputStream(o, new LZMA2Options(XZ_PRESET), len));
                case BZIP2 -> viaOutputStream(data, off, len, o -> new BZip2CompressorOutputStream(o, 9));
                case ZSTD -> zstd(data, off, len);
                case LZ4_LEGACY -> lz4Legacy(data, off, len);
                case LZO -> throw new UnsupportedOperationException("jv2v cannot write LZO");
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in-memory streams do not fail
        }
    }

    // ---- gzip (RFC 1952), parsed by hand to know exactly where the member ends

    private static int gunzip(byte[] in, int off, int len, CappedBuffer out, String where) throws IOException {
        int end = off + len;
        int p = off;
        if (len < 18) {
            throw BadInputException.of(where + ": gzip data is truncated");
        }
        int method = in[p + 2] & 0xff;             // 0x02 CM
        int flags = in[p + 3] & 0xff;              // 0x03 FLG
        if (method != 8) {
            throw BadInputException.of(where + ": gzip compression method " + method + " at offset +0x2 (only 8, deflate, exists)");
        }
        if ((flags & 0xe0) != 0) {
            throw BadInputException.of(where + ": gzip header flags 0x" + Integer.toHexString(flags)
                    + " at offset +0x3 have reserved bits set");
        }
        p += 10;                                   // 0x04 MTIME, 0x08 XFL, 0x09 OS
        if ((flags & 0x04) != 0) {                 // FEXTRA: XLEN then the field
            need(p + 2, end, where);
            int xlen = (in[p] & 0xff) | (in[p + 1] & 0xff) << 8;
            p += 2 + xlen;
        }
        if ((flags & 0x08) != 0) {                 // FNAME, NUL-terminated
            p = skipString(in, p, end, where);
        }
        if ((flags & 0x10) != 0) {                 // FCOMMENT, NUL-terminated
            p = skipString(in, p, end, where);
        }
        if ((flags & 0x02) != 0) {                 // FHCRC
            p += 2;
        }
        need(p, end, where);
        Inflater inf = new Inflater(true);
        CRC32 crc = new CRC32();
        try {
            inf.setInput(in, p, end - p);
            byte[] chunk = new byte[1 << 16];
            while (!inf.finished()) {
                int n = inf.inflate(chunk);
                if (n > 0) {
                    crc.update(chunk, 0, n);
                    out.write(chunk, 0, n);
                } else if (inf.needsInput()) {
                    throw BadInputException.of(where + ": gzip data is truncated (the deflate stream does not end)");
                } else if (inf.needsDictionary()) {
                    throw BadInputException.of(where + ": gzip data is corrupt (asks for a preset dictionary)");
                }
            }
            int trailer = end - inf.getRemaining();
            if (trailer + 8 > end) {
                throw BadInputException.of(where + ": gzip data is truncated (no CRC32/ISIZE trailer)");
            }
            long storedCrc = le32(in, trailer);
            long storedSize = le32(in, trailer + 4);
            if (storedCrc != crc.getValue()) {
                throw BadInputException.of(where + ": gzip CRC32 at offset +0x" + Integer.toHexString(trailer - off)
                        + " is 0x" + Long.toHexString(storedCrc) + ", the data gives 0x" + Long.toHexString(crc.getValue()));
            }
            if (storedSize != (out.size() & 0xffffffffL)) {
                throw BadInputException.of(where + ": gzip ISIZE at offset +0x" + Integer.toHexString(trailer + 4 - off)
                        + " is " + storedSize + ", the data is " + out.size() + " bytes");
            }
            return trailer + 8 - off;
        } catch (DataFormatException e) {
            throw BadInputException.of(where + ": gzip data is corrupt (" + oneLine(e) + ")");
        } finally {
            inf.end();
        }
    }

    private static int skipString(byte[] in, int p, int end, String where) {
        while (p < end && in[p] != 0) {
            p++;
        }
        need(p + 1, end, where);
        return p + 1;
    }

    private static void need(int p, int end, String where) {
        if (p > end) {
            throw BadInputException.of(where + ": gzip data is truncated (in the header)");
        }
    }

    private static byte[] gzip(byte[] data, int off, int len) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(len / 3 + 64);
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix): reproducible output.
        o.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3});
        Deflater def = new Deflater(GZIP_LEVEL, true);
        try {
            def.setInput(data, off, len);
            def.finish();
            byte[] chunk = new byte[1 << 16];
            while (!def.finished()) {
                int n = def.deflate(chunk);
                o.write(chunk, 0, n);
            }
        } finally {
            def.end();
        }
        CRC32 crc = new CRC32();
        crc.update(data, off, len);
        writeLe32(o, crc.getValue());
        writeLe32(o, len);
        return o.toByteArray();
    }

    // ---- zstd: one frame, as the kernel decodes one frame per part

    private static int unzstd(byte[] in, int off, int len, CappedBuffer out, String where) throws IOException {
        ZstdFrame frame = ZstdFrame.scan(in, off, len, where);
        if (frame.windowSize() > ZSTD_KERNEL_MAX_WINDOW) {
            throw BadInputException.of(where + ": zstd window of " + frame.windowSize()
                    + " bytes, more than the kernel's limit of " + ZSTD_KERNEL_MAX_WINDOW);
        }
        try (InputStream z = new ZstdInputStream(new ByteArrayInputStream(in, off, frame.length()))) {
            z.transferTo(out);
        }
        return frame.length();
    }

    private static byte[] zstd(byte[] data, int off, int len) {
        ZstdJavaCompressor c = new ZstdJavaCompressor();
        byte[] out = new byte[c.maxCompressedLength(len)];
        int n = c.compress(data, off, len, out, 0, out.length);
        return java.util.Arrays.copyOf(out, n);
    }

    // ---- lz4 legacy frame: magic, then (LE32 size, block) until the input ends

    private static int unlz4(byte[] in, int off, int len, CappedBuffer out, String where) {
        Lz4JavaDecompressor d = new Lz4JavaDecompressor();
        byte[] chunk = new byte[LZ4_CHUNK];
        int end = off + len;
        int p = off + 4;
        while (p < end) {
            if (p + 4 > end) {
                throw BadInputException.of(where + ": lz4 chunk size at offset +0x" + Integer.toHexString(p - off)
                        + " is truncated");
            }
            long size = le32(in, p);
            if (size == 0x184C2102L) {             // a concatenated legacy frame: the kernel skips the magic
                p += 4;
                continue;
            }
            if (size == 0 || size > LZ4_MAX_COMPRESSED_CHUNK || p + 4 + size > end) {
                throw BadInputException.of(where + ": lz4 chunk size " + size + " at offset +0x"
                        + Integer.toHexString(p - off) + (size > LZ4_MAX_COMPRESSED_CHUNK || size == 0
                        ? " is impossible (at most " + LZ4_MAX_COMPRESSED_CHUNK + ")" : " runs past the end of the data"));
            }
            int n;
            try {
                n = d.decompress(in, p + 4, (int) size, chunk, 0, chunk.length);
            } catch (MalformedInputException e) {
                throw BadInputException.of(where + ": lz4 chunk at offset +0x" + Integer.toHexString(p - off)
                        + " is corrupt (" + oneLine(e) + ")");
            }
            out.write(chunk, 0, n);
            p += 4 + (int) size;
        }
        return len;
    }

    private static byte[] lz4Legacy(byte[] data, int off, int len) {
        Lz4JavaCompressor c = new Lz4JavaCompressor();
        ByteArrayOutputStream o = new ByteArrayOutputStream(len / 2 + 64);
        writeLe32(o, 0x184C2102L);
        byte[] block = new byte[c.maxCompressedLength(LZ4_CHUNK)];
        for (int p = off; p < off + len; p += LZ4_CHUNK) {
            int n = Math.min(LZ4_CHUNK, off + len - p);
            int z = c.compress(data, p, n, block, 0, block.length);
            writeLe32(o, z);
            o.write(block, 0, z);
        }
        return o.toByteArray();
    }

    // ---- stream-based codecs, counting what they read

    private interface StreamOpener {
        InputStream open(InputStream in) throws IOException;
    }

    private interface OutputOpener {
        OutputStream open(OutputStream out) throws IOException;
    }

    /** A ByteArrayInputStream that tells how far it has been read. */
    private static final class Counting extends ByteArrayInputStream {
        private final int start;

        Counting(byte[] buf, int off, int len) {
            super(buf, off, len);
            this.start = off;
        }

        int consumed() {
            return pos - start;
        }
    }

    private static int viaStream(byte[] in, int off, int len, CappedBuffer out, StreamOpener opener) throws IOException {
        Counting counting = new Counting(in, off, len);
        try (InputStream s = opener.open(counting)) {
            s.transferTo(out);
        }
        return counting.consumed();
    }

    private static byte[] viaOutputStream(byte[] data, int off, int len, OutputOpener opener) throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream(len / 3 + 64);
        try (OutputStream s = opener.open(o)) {
            s.write(data, off, len);
        }
        return o.toByteArray();
    }

    static long le32(byte[] b, int p) {
        return (b[p] & 0xffL) | (b[p + 1] & 0xffL) << 8 | (b[p + 2] & 0xffL) << 16 | (b[p + 3] & 0xffL) << 24;
    }

    private static void writeLe32(ByteArrayOutputStream o, long v) {
        o.write((int) v);
        o.write((int) (v >>> 8));
        o.write((int) (v >>> 16));
        o.write((int) (v >>> 24));
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s+", " ").trim();
    }
}
