package org.jv2v.image.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** Positional reads that either fill the buffer or say which file ended where. */
final class Io {
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 16).asReadOnlyBuffer();

    private Io() {}

    /** Fills {@code dst} from {@code pos}; a file that ends first is a truncated file, named. */
    static void readFully(FileChannel ch, ByteBuffer dst, long pos, Path file, String what) throws IOException {
        readFully(Source.of(file, ch), dst, pos, what);
    }

    /** Fills {@code dst} from {@code pos} of {@code src}; ending first is a truncated file, named. */
    static void readFully(Source src, ByteBuffer dst, long pos, String what) throws IOException {
        long at = pos;
        while (dst.hasRemaining()) {
            int n = src.read(dst, at);
            if (n < 0) {
                throw src.bad(what, pos, (src.member() == null ? "file" : "member") + " ends at " + src.size()
                        + " bytes, before the " + (at - pos + dst.remaining()) + " bytes needed here (truncated file?)");
            }
            at += n;
        }
    }

    /** Zeroes the remaining bytes of {@code dst}, moving its position to its limit. */
    static void zero(ByteBuffer dst) {
        if (dst.hasArray()) {
            java.util.Arrays.fill(dst.array(), dst.arrayOffset() + dst.position(), dst.arrayOffset() + dst.limit(),
                    (byte) 0);
            dst.position(dst.limit());
            return;
        }
        while (dst.hasRemaining()) {
            int n = Math.min(dst.remaining(), ZEROS.capacity());
            dst.put(dst.position(), ZEROS, 0, n);
            dst.position(dst.position() + n);
        }
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
