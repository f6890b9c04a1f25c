package org.jv2v.bench;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.CreateOptions;
import org.jv2v.image.Preallocation;
import org.jv2v.image.qcow2.Qcow2Format;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Copies a raw file into a new qcow2 image through jv2v's qcow2 writer, as the copier will: only
 * the file's data ranges (found with lseek SEEK_DATA/SEEK_HOLE, as qemu-img does) are read, in
 * chunks, by several threads; the writer skips zero clusters itself. close() makes the image
 * durable. With {@code --raw} the same chunks go to a plain file instead (then fsync): the cost of
 * the same I/O without the qcow2 layer, as a baseline. Run by bench/qcow2-write.sh, never by the
 * test suite. Usage: Qcow2WriteBench SRC.raw DST [threads] [chunk-MiB] [-c|--raw]
 */
public final class Qcow2WriteBench {
    private Qcow2WriteBench() {}

    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;

    public static void main(String[] args) throws Throwable {
        Path src = Path.of(args[0]);
        Path dst = Path.of(args[1]);
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int chunk = (args.length > 3 ? Integer.parseInt(args[3]) : 2) << 20;
        boolean compress = args.length > 4 && args[4].equals("-c");
        boolean raw = args.length > 4 && args[4].equals("--raw");
        long t0 = System.nanoTime();
        try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ)) {
            long size = in.size();
            List<long[]> chunks = new ArrayList<>();
            for (long[] r : dataRanges(src, size)) {
                for (long off = r[0]; off < r[1]; off += chunk) {
                    chunks.add(new long[] {off, Math.min(chunk, r[1] - off)});
                }
            }
            BlockDevice out = raw ? new PlainFile(dst, size)
                    : new Qcow2Format().create(dst, new CreateOptions(size, Preallocation.OFF, compress));
            AtomicInteger next = new AtomicInteger();
            List<Thread> workers = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(Thread.ofPlatform().start(() -> {
                    ByteBuffer buf = ByteBuffer.allocateDirect(chunk);
                    try {
                        for (int i; (i = next.getAndIncrement()) < chunks.size(); ) {
                            long off = chunks.get(i)[0];
                            buf.clear().limit((int) chunks.get(i)[1]);
                            while (buf.hasRemaining()) {
                                if (in.read(buf, off + buf.position()) < 0) {
                                    throw new java.io.EOFException(src.toString());
                                }
                            }
                            out.write(buf.flip(), off);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread w : workers) {
                w.join();
            }
            long t1 = System.nanoTime();
            out.close();
            if (!failures.isEmpty()) {
                throw new RuntimeException(failures.getFirst());
            }
            System.err.printf("in-process: %.2f s writing, %.2f s closing (fsync)%n", (t1 - t0) / 1e9,
                    (System.nanoTime() - t1) / 1e9);
        }
    }

    /** The baseline: positional writes to a plain file, fsync at close. */
    private static final class PlainFile implements BlockDevice {
        private final FileChannel ch;
        private final long size;

        PlainFile(Path file, long size) throws java.io.IOException {
            this.ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
            this.size = size;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void read(ByteBuffer dst, long offset) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<org.jv2v.image.Extent> blockStatus(long offset, long length) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String describe() {
            return "plain file";
        }

        @Override
        public void write(ByteBuffer src, long offset) throws java.io.IOException {
            for (long p = offset; src.hasRemaining(); ) {
                p += ch.write(src, p);
            }
        }

        @Override
        public void close() throws java.io.IOException {
            ch.truncate(size);
            ch.force(false);
            ch.close();
        }
    }

    /** [start, end) of each data range of a sparse file, from lseek(2). */
    private static List<long[]> dataRanges(Path file, long size) throws Throwable {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(
                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle lseek = linker.downcallHandle(libc.find("lseek").orElseThrow(), FunctionDescriptor.of(
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        List<long[]> out = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) open.invokeExact(arena.allocateFrom(file.toString()), 0);
            if (fd < 0) {
                throw new java.io.IOException("cannot open " + file);
            }
            try {
                for (long pos = 0; pos < size; ) {
                    long data = (long) lseek.invokeExact(fd, pos, SEEK_DATA);
                    if (data < 0) {
                        break; // no more data
                    }
                    long hole = (long) lseek.invokeExact(fd, data, SEEK_HOLE);
                    out.add(new long[] {data, hole});
                    pos = hole;
                }
            } finally {
                int ignored = (int) close.invokeExact(fd);
            }
        }
        return out;
    }
}
