package org.jv2v.bench;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Benchmark driver (run by bench/vhd-vhdx-read.sh, never by the test suite): reads an image
 * through jv2v's reader into a sparse raw file, copying only the DATA extents, the way
 * {@code qemu-img convert -O raw} does. A stand-in for the copier, to measure the readers alone.
 *
 * <p>Usage: {@code ImageReadBench IMAGE OUT.raw [THREADS]}
 */
public final class ImageReadBench {
    private static final int CHUNK = 4 << 20;

    private ImageReadBench() {}

    /** Writes the 4 KiB pages that hold a non-zero byte, leaving holes (qemu-img convert's -S 4k). */
    static void writeNonZero(FileChannel dst, ByteBuffer b, long offset) throws java.io.IOException {
        int n = b.limit();
        int page = 4096;
        int runStart = -1;
        for (int p = 0; p <= n; p += page) {
            boolean zero = p < n && isZero(b, p, Math.min(n, p + page));
            boolean data = p < n && !zero;
            if (data && runStart < 0) {
                runStart = p;
            } else if (!data && runStart >= 0) {
                ByteBuffer run = b.slice(runStart, Math.min(n, p) - runStart);
                while (run.hasRemaining()) {
                    dst.write(run, offset + runStart + run.position());
                }
                runStart = -1;
            }
        }
    }

    private static boolean isZero(ByteBuffer b, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < to; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    public static void main(String[] args) throws Exception {
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        try (OpenedImage image = Images.open(in, OpenContext.of(PathGuard.folderOf(in)));
             FileChannel dst = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING);
             ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            BlockDevice dev = image.device();
            List<long[]> work = new ArrayList<>();
            for (long pos = 0; pos < dev.size(); ) {
                List<Extent> extents = dev.blockStatus(pos, dev.size() - pos);
                for (Extent e : extents) {
                    if (!e.type().readsAsZero()) {
                        for (long o = e.offset(); o < e.end(); o += CHUNK) {
                            work.add(new long[] {o, Math.min(CHUNK, e.end() - o)});
                        }
                    }
                }
                pos = extents.getLast().end();
            }
            List<Future<?>> done = new ArrayList<>();
            ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(CHUNK));
            for (long[] w : work) {
                done.add(pool.submit(() -> {
                    ByteBuffer b = buffers.get().clear().limit((int) w[1]);
                    dev.read(b, w[0]);
                    writeNonZero(dst, b.flip(), w[0]);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            if (dst.size() < dev.size()) {
                dst.write(ByteBuffer.allocate(1), dev.size() - 1); // the tail may be a hole
            }
        }
    }
}
