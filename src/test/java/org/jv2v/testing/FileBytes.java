package org.jv2v.testing;

import org.jv2v.fs.ByteRange;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** Reads and overwrites bytes of a file at an offset: for tests that inspect or damage image files on purpose. */
public final class FileBytes {
    private FileBytes() {}

    /** {@code length} bytes from {@code offset}; zeros where the file ends first. */
    public static byte[] read(Path file, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
                // keep reading
            }
            return b.array();
        }
    }

    /** Writes {@code bytes} at {@code offset}, creating the file or growing it as needed. */
    public static void write(Path file, long offset, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
        }
    }

    /**
     * A copy of {@code image} at {@code copy} (replaced if there) holding only the {@code used}
     * ranges (in order): every other byte is a hole that reads as zero, as after a copier that
     * skips the blocks a filesystem does not use. Same size as {@code image}.
     */
    public static Path copyOnly(Path image, List<ByteRange> used, Path copy) throws IOException {
        Files.deleteIfExists(copy);
        try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(copy, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            for (ByteRange r : used) {
                for (long p = r.offset(); p < r.end(); ) {
                    buf.clear().limit((int) Math.min(buf.capacity(), r.end() - p));
                    int n = in.read(buf, p);
                    if (n <= 0) {
                        throw new IOException(image + ": short read at " + p);
                    }
                    buf.flip();
                    while (buf.hasRemaining()) {
                        p += out.write(buf, p);
                    }
                }
            }
            if (out.size() < in.size()) {
                out.write(ByteBuffer.allocate(1), in.size() - 1); // the last byte: zero, and the size
            }
        }
        return copy;
    }
}
