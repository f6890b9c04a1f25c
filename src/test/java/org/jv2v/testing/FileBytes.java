package org.jv2v.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

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
}
