package org.jv2v.image.raw;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;

import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The hole-related calls of a file that Java's own API lacks: {@code lseek(SEEK_DATA/SEEK_HOLE)} to
 * find a sparse file's data, {@code fallocate} to punch holes or reserve space, and {@code stat}'s
 * block count for the bytes a file really occupies. Called through the FFM API on Linux (x86_64,
 * aarch64); elsewhere, or when a call is refused, the answers degrade safely: everything is data,
 * nothing is punched, the allocation is the file's length.
 *
 * <p>Each instance holds its own file descriptor, opened read-only unless asked otherwise. The
 * calls are positional (no shared file offset is relied on), so one instance is safe for threads.
 */
public final class SparseFile implements Closeable {
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;
    private static final int FALLOC_FL_KEEP_SIZE = 0x01;
    private static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    private static final int FALLOC_FL_ZERO_RANGE = 0x10;
    /** struct stat: st_size and st_blocks sit at these offsets on both x86_64 and generic (aarch64) Linux. */
    private static final long STAT_SIZE_OFFSET = 48;
    private static final long STAT_BLOCKS_OFFSET = 64;
    private static final long STAT_BUFFER_BYTES = 256;
    /** blockStatus answers in pieces of at most this many extents; callers loop. */
    private static final int MAX_EXTENTS_PER_CALL = 1024;

    private static final Native NATIVE = Native.load();

    private final Path file;
    private final int fd;
    private volatile boolean seekWorks;
    private volatile boolean punchWorks;

    private SparseFile(Path file, int fd) {
        this.file = file;
        this.fd = fd;
        this.seekWorks = fd >= 0;
        this.punchWorks = fd >= 0;
    }

    /** True when the native calls are available on this platform. */
    public static boolean nativeAvailable() {
        return NATIVE != null;
    }

    /**
     * Opens a descriptor on {@code file} (read-only unless {@code writable}). Never fails for lack of
     * native support: the instance then answers "all data" and punches nothing.
     */
    public static SparseFile open(Path file, boolean writable) throws IOException {
        if (NATIVE == null) {
            return new SparseFile(file, -1);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(NATIVE.stateLayout);
            int fd = (int) NATIVE.open().invokeExact(state, arena.allocateFrom(file.toAbsolutePath().toString()),
                    (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
            if (fd < 0) {
                throw new IOException(file + ": cannot open: " + NATIVE.strerror(state));
            }
            return new SparseFile(file, fd);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * The data and holes of {@code [offset, min(offset + length, fileSize))}: DATA where the file
     * has (or may have) data, ZERO for holes. May stop short after many extents; never empty for a
     * non-empty range.
     */
    public List<Extent> dataExtents(long offset, long length, long fileSize) throws IOException {
        long end = Math.min(fileSize, offset + length);
        List<Extent> out = new ArrayList<>();
        if (end <= offset) {
            return out;
        }
        if (!seekWorks) {
            out.add(new Extent(offset, end - offset, ExtentType.DATA));
            return out;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(NATIVE.stateLayout);
            long pos = offset;
            while (pos < end && out.size() < MAX_EXTENTS_PER_CALL) {
                long data = seek(state, pos, SEEK_DATA);
                if (data == -2) {
                    // not supported here (a file system that refuses SEEK_DATA): the rest is data
                    seekWorks = false;
                    out.add(new Extent(pos, end - pos, ExtentType.DATA));
                    break;
                }
                if (data < 0 || data >= end) {
                    out.add(new Extent(pos, end - pos, ExtentType.ZERO));
                    break;
                }
                if (data > pos) {
                    out.add(new Extent(pos, data - pos, ExtentType.ZERO));
                }
                long hole = seek(state, data, SEEK_HOLE);
                if (hole < 0 || hole > end) {
                    hole = end;
                }
                if (hole <= data) {
                    // a racing truncate or a confused file system: be safe, call the rest data
                    hole = end;
                }
                out.add(new Extent(data, hole - data, ExtentType.DATA));
                pos = hole;
            }
        }
        return out;
    }

    /** lseek; -1 for ENXIO (no more data), -2 for "not supported", else the offset. */
    private long seek(MemorySegment state, long pos, int whence) throws IOException {
        long r;
        try {
            r = (long) NATIVE.lseek().invokeExact(state, fd, pos, whence);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (r >= 0) {
            return r;
        }
        int errno = NATIVE.errno(state);
        if (errno == ENXIO) {
            return -1;
        }
        return -2;
    }

    /**
     * Deallocates {@code [offset, offset + length)} keeping the file's size; it then reads as zeros.
     * Returns false (having done nothing) where the platform or file system cannot.
     */
    public boolean punchHole(long offset, long length) {
        return punchWorks && (punchWorks = fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length));
    }

    /** Zeroes {@code [offset, offset + length)} keeping it allocated; false where unsupported. */
    public boolean zeroRange(long offset, long length) {
        return fd >= 0 && fallocate(FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, length);
    }

    /** Reserves space for {@code [offset, offset + length)} (may grow the file); false where unsupported. */
    public boolean allocate(long offset, long length) {
        return fd >= 0 && fallocate(0, offset, length);
    }

    private boolean fallocate(int mode, long offset, long length) {
        if (length <= 0) {
            return true;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(NATIVE.stateLayout);
            int r = (int) NATIVE.fallocate().invokeExact(state, fd, mode, offset, length);
            return r == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * The bytes {@code file} occupies on disk (st_blocks x 512, what {@code du} and qemu-img's
     * "disk size" report); the file's length where the platform cannot tell.
     */
    public static long allocatedBytes(Path file) throws IOException {
        long length = Files.size(file);
        if (NATIVE == null || NATIVE.stat() == null) {
            return length;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(NATIVE.stateLayout);
            MemorySegment buf = arena.allocate(STAT_BUFFER_BYTES, 8);
            int r = (int) NATIVE.stat().invokeExact(state, arena.allocateFrom(file.toAbsolutePath().toString()), buf);
            if (r != 0) {
                return length;
            }
            long size = buf.get(ValueLayout.JAVA_LONG, STAT_SIZE_OFFSET);
            long blocks = buf.get(ValueLayout.JAVA_LONG, STAT_BLOCKS_OFFSET);
            // the layout check: if st_size is not where we expect, do not trust st_blocks either
            return size == length && blocks >= 0 ? blocks * 512 : length;
        } catch (Throwable t) {
            return length;
        }
    }

    @Override
    public void close() {
        if (fd >= 0) {
            try {
                int r = (int) NATIVE.close().invokeExact(fd);
                assert r == 0 || r == -1;
            } catch (Throwable t) {
                // nothing sensible to do: the descriptor is gone either way
            }
        }
    }

    @Override
    public String toString() {
        return "SparseFile[" + file + ", fd=" + fd + "]";
    }

    /**
     * The downcall handles, or null when this is not a Linux the layouts above are known for. Each
     * is linked on first use: linking one costs several milliseconds of start-up, and a copy needs
     * only a few of them.
     */
    private static final class Native {
        private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
        private static final ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
        private static final ValueLayout P = ValueLayout.ADDRESS;

        private final Linker linker;
        private final SymbolLookup libc;
        private final Linker.Option errno = Linker.Option.captureCallState("errno");
        final StructLayout stateLayout = Linker.Option.captureStateLayout();
        private final VarHandle errnoHandle = stateLayout.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        private final MethodHandle close;
        // linked on first use; a race links twice, harmlessly
        private volatile MethodHandle open;
        private volatile MethodHandle lseek;
        private volatile MethodHandle fallocate;
        private volatile MethodHandle strerror;
        private volatile Optional<MethodHandle> stat;

        private Native(Linker linker, SymbolLookup libc) {
            this.linker = linker;
            this.libc = libc;
            // linked now: it tells whether this JVM allows native calls at all
            this.close = link("close", FunctionDescriptor.of(I, I));
        }

        static Native load() {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch", "");
            if (!os.equals("linux") || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                return new Native(linker, linker.defaultLookup());
            } catch (RuntimeException | Error e) {
                // no native access (a locked-down JVM): the safe, slower answers apply
                return null;
            }
        }

        private MethodHandle link(String name, FunctionDescriptor fd, Linker.Option... options) {
            return linker.downcallHandle(libc.find(name).orElseThrow(), fd, options);
        }

        MethodHandle close() {
            return close;
        }

        MethodHandle open() {
            MethodHandle h = open;
            return h != null ? h : (open = link("open", FunctionDescriptor.of(I, P, I, I), errno,
                    Linker.Option.firstVariadicArg(2)));
        }

        MethodHandle lseek() {
            MethodHandle h = lseek;
            return h != null ? h : (lseek = link("lseek", FunctionDescriptor.of(J, I, J, I), errno));
        }

        MethodHandle fallocate() {
            MethodHandle h = fallocate;
            return h != null ? h : (fallocate = link("fallocate", FunctionDescriptor.of(I, I, I, J, J), errno));
        }

        /** stat(), or null: glibc exports stat() itself only since 2.33, and the caller then falls back. */
        MethodHandle stat() {
            Optional<MethodHandle> h = stat;
            if (h == null) {
                h = stat = libc.find("stat").map(s -> linker.downcallHandle(s, FunctionDescriptor.of(I, P, P), errno));
            }
            return h.orElse(null);
        }

        int errno(MemorySegment state) {
            return (int) errnoHandle.get(state, 0L);
        }

        String strerror(MemorySegment state) {
            int e = errno(state);
            try {
                MethodHandle h = strerror;
                if (h == null) {
                    h = strerror = link("strerror", FunctionDescriptor.of(P, I));
                }
                MemorySegment s = (MemorySegment) h.invokeExact(e);
                return s.reinterpret(Long.MAX_VALUE).getString(0);
            } catch (Throwable t) {
                return "errno " + e;
            }
        }
    }
}
