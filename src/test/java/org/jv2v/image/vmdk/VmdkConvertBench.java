package org.jv2v.image.vmdk;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
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
import java.util.concurrent.Semaphore;

/**
 * Benchmark driver (run by bench/vmdk-bench.sh, not a test): VMDK to sparse raw the way
 * {@code qemu-img convert -O raw} does it, so the reader's speed can be compared with qemu-img's.
 * Block status skips what is not allocated; data chunks are read on a few threads and written
 * unless all zero. Memory: at most 2 x threads chunks of 4 MiB in flight.
 *
 * <p>Usage: {@code VmdkConvertBench SRC.vmdk DST.raw|null [threads]}; {@code null} reads and
 * checks for zeros but writes nothing (compare with qemu-img's null-co target), so the reader is
 * measured without the disk's write speed.
 */
public final class VmdkConvertBench {
    private static final int CHUNK = 4 << 20;

    private VmdkConvertBench() {}

    public static void main(String[] args) throws Exception {
        Path src = Path.of(args[0]);
        boolean discard = args[1].equals("null");
        Path dst = Path.of(discard ? "/dev/null" : args[1]);
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
        try (OpenedImage img = new VmdkFormat().open(src, OpenContext.of(PathGuard.folderOf(src)));
             FileChannel out = discard ? null : FileChannel.open(dst, StandardOpenOption.CREATE,
                     StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            BlockDevice dev = img.device();
            if (!discard) {
                try (var raf = new java.io.RandomAccessFile(dst.toFile(), "rw")) {
                    raf.setLength(dev.size());      // a sparse file of the full size, like qemu-img's
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            Semaphore inFlight = new Semaphore(2 * threads);
            ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(CHUNK));
            List<Future<?>> pending = new ArrayList<>();
            long off = 0;
            while (off < dev.size()) {
                List<Extent> status = dev.blockStatus(off, dev.size() - off);
                for (Extent e : status) {
                    if (e.type() != ExtentType.DATA) {
                        continue;
                    }
                    for (long p = e.offset(); p < e.end(); ) {
                        long at = p;
                        int n = (int) Math.min(CHUNK - (p % CHUNK), e.end() - p);
                        inFlight.acquire();
                        pending.add(pool.submit(() -> {
                            try {
                                ByteBuffer b = buffers.get().clear().limit(n);
                                dev.read(b, at);
                                b.flip();
                                if (!allZero(b) && out != null) {
                                    while (b.hasRemaining()) {
                                        out.write(b, at + b.position());
                                    }
                                }
                                return null;
                            } finally {
                                inFlight.release();
                            }
                        }));
                        p += n;
                    }
                }
                off = status.getLast().end();
                pending.removeIf(f -> f.isDone() && get(f));
            }
            for (Future<?> f : pending) {
                f.get();
            }
            pool.shutdown();
        }
    }

    private static boolean get(Future<?> f) {
        try {
            f.get();
            return true;
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static boolean allZero(ByteBuffer b) {
        int i = b.position();
        int end = b.limit();
        for (; i + 8 <= end; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
