package org.jv2v.image.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Edits images qemu-img made, big-endian, to build broken and malicious ones from real ones. */
final class Patch {
    private Patch() {}

    static long u64(Path file, long at) throws IOException {
        return read(file, at, 8).getLong(0);
    }

    static long u32(Path file, long at) throws IOException {
        return Integer.toUnsignedLong(read(file, at, 4).getInt(0));
    }

    static void u64(Path file, long at, long value) throws IOException {
        write(file, at, ByteBuffer.allocate(8).putLong(0, value));
    }

    static void u32(Path file, long at, long value) throws IOException {
        write(file, at, ByteBuffer.allocate(4).putInt(0, (int) value));
    }

    static void bytes(Path file, long at, byte[] value) throws IOException {
        write(file, at, ByteBuffer.wrap(value));
    }

    static ByteBuffer read(Path file, long at, int len) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.BIG_ENDIAN);
            while (b.hasRemaining() && ch.read(b, at + b.position()) > 0) {
                // keep reading
            }
            return b.flip();
        }
    }

    private static void write(Path file, long at, ByteBuffer b) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            while (b.hasRemaining()) {
                ch.write(b, at + b.position());
            }
        }
    }

    /** Offset of the header extension of {@code type} (its type field), or -1. */
    static long findExtension(Path file, int type) throws IOException {
        long headerLength = u32(file, 4) == 2 ? 72 : u32(file, 0x64);
        ByteBuffer b = read(file, 0, 64 * 1024);
        for (int at = (int) headerLength; at + 8 <= b.limit(); ) {
            int t = b.getInt(at);
            int len = b.getInt(at + 4);
            if (t == 0) {
                return -1;
            }
            if (t == type) {
                return at;
            }
            at += 8 + ((len + 7) & ~7);
        }
        return -1;
    }

    static void retypeExtension(Path file, int type, int newType) throws IOException {
        long at = findExtension(file, type);
        if (at < 0) {
            throw new IllegalStateException("no header extension 0x" + Integer.toHexString(type) + " in " + file);
        }
        u32(file, at, newType);
    }

    /** The file offset of the first L2 table (from the first used L1 entry). */
    static long firstL2(Path file) throws IOException {
        long l1 = u64(file, 0x28);
        for (int i = 0; ; i++) {
            long e = u64(file, l1 + 8L * i) & Geometry.OFFSET_MASK;
            if (e != 0) {
                return e;
            }
        }
    }
}
