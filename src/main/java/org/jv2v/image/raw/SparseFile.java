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

/**
 * The hole-related calls of a file that Java's own API lacks: {@code lseek(SEEK_DATA/SEEK_HOLE)} to
 * find a sparse file's data, {@code fallocate} to punch holes or reserve space, and {@code stat}'s
 * block count for the bytes a file really occupies. Called through the FFM API on Linux (x86_64,
 * aarch64), all through libc's {@code syscall()}: linking a native call costs a short copy several
 * milliseconds of start-up, and one link serves them all. Elsewhere, or when a call is refused, the
 * answers degrade safely: everything is data, nothing is punched, the allocation is the file's length.
 *
 * <p>Each instance holds its own file descriptor, opened read-only unless asked otherwise. The
 * calls are positional (no shared file offset is relied on), so one instance is safe for threads.
 */
public final class SparseFile implements Closeable {
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final long AT_FDCWD = -100;
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

    /** Links the native calls now, on the calling thread, rather than on first use. */
    public static void linkAhead() {
        nativeAvailable();
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
            int fd = (int) NATIVE.call(state, NATIVE.calls.openat(), AT_FDCWD,
                    arena.allocateFrom(file.toAbsolutePath().toString()).address(),
                    (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
            if (fd < 0) {
                throw new IOException(file + ": cannot open: " + NATIVE.strerror(state));
            }
            return new SparseFile(file, fd);
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
        long r = NATIVE.call(state, NATIVE.calls.lseek(), fd, pos, whence, 0);
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
            return NATIVE.call(state, NATIVE.calls.fallocate(), fd, mode, offset, length) == 0;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * The bytes {@code file} occupies on disk (st_blocks x 512, what {@code du} and qemu-img's
     * "disk size" report); the file's length where the platform cannot tell.
     */
    public static long allocatedBytes(Path file) throws IOException {
        long length = Files.size(file);
        if (NATIVE == null) {
            return length;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(NATIVE.stateLayout);
            MemorySegment buf = arena.allocate(STAT_BUFFER_BYTES, 8);
            long r = NATIVE.call(state, NATIVE.calls.newfstatat(), AT_FDCWD,
                    arena.allocateFrom(file.toAbsolutePath().toString()).address(), buf.address(), 0);
            if (r != 0) {
                return length;
            }
            long size = buf.get(ValueLayout.JAVA_LONG, STAT_SIZE_OFFSET);
            long blocks = buf.get(ValueLayout.JAVA_LONG, STAT_BLOCKS_OFFSET);
            // the layout check: if st_size is not where we expect, do not trust st_blocks either
            return size == length && blocks >= 0 ? blocks * 512 : length;
        } catch (RuntimeException e) {
            return length;
        }
    }

    @Override
    public void close() {
        if (fd >= 0) {
            try (Arena arena = Arena.ofConfined()) {
                NATIVE.call(arena.allocate(NATIVE.stateLayout), NATIVE.calls.close(), fd, 0, 0, 0);
            } catch (RuntimeException e) {
                // nothing sensible to do: the descriptor is gone either way
            }
        }
    }

    @Override
    public String toString() {
        return "SparseFile[" + file + ", fd=" + fd + "]";
    }

    /**
     * Linux system call numbers: x86_64's own table, and the generic one aarch64 uses. The
     * kernel's {@code struct stat} that newfstatat fills is the one the STAT_ offsets describe on both.
     */
    private record SyscallNumbers(long openat, long close, long lseek, long fallocate, long newfstatat) {
        static final SyscallNumbers X86_64 = new SyscallNumbers(257, 3, 8, 285, 262);
        static final SyscallNumbers GENERIC = new SyscallNumbers(56, 57, 62, 47, 79);
    }

    /**
     * The downcall to {@code long syscall(long number, ...)}, or null when this is not a Linux whose
     * numbers are known or the JVM allows no native calls. strerror() is linked on first use (an
     * error message).
     */
    private static final class Native {
        private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
        private static final ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
        private static final ValueLayout P = ValueLayout.ADDRESS;

        final SyscallNumbers calls;
        private final Linker linker;
        private final SymbolLookup libc;
        final StructLayout stateLayout = Linker.Option.captureStateLayout();
        private final VarHandle errnoHandle = stateLayout.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        private final MethodHandle syscall;
        private volatile MethodHandle strerror;

        private Native(SyscallNumbers calls, Linker linker, SymbolLookup libc) {
            this.calls = calls;
            this.linker = linker;
            this.libc = libc;
            // every argument as a long (pointers by address): one shape for every call made
            this.syscall = linker.downcallHandle(libc.find("syscall").orElseThrow(),
                    FunctionDescriptor.of(J, J, J, J, J, J), Linker.Option.captureCallState("errno"),
                    Linker.Option.firstVariadicArg(1));
        }

        static Native load() {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch", "");
            SyscallNumbers calls = !os.equals("linux") ? null
                    : arch.equals("amd64") || arch.equals("x86_64") ? SyscallNumbers.X86_64
                    : arch.equals("aarch64") ? SyscallNumbers.GENERIC : null;
            if (calls == null) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                return new Native(calls, linker, linker.defaultLookup());
            } catch (RuntimeException | Error e) {
                // no native access (a locked-down JVM): the safe, slower answers apply
                return null;
            }
        }

        /** syscall(number, a, b, c, d): the result, or -1 with errno in {@code state}. */
        long call(MemorySegment state, long number, long a, long b, long c, long d) {
            try {
                return (long) syscall.invokeExact(state, number, a, b, c, d);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        int errno(MemorySegment state) {
            return (int) errnoHandle.get(state, 0L);
        }

        String strerror(MemorySegment state) {
            int e = errno(state);
            try {
                MethodHandle h = strerror;
                if (h == null) {
                    h = strerror = linker.downcallHandle(libc.find("strerror").orElseThrow(),
                            FunctionDescriptor.of(P, I));
                }
                MemorySegment s = (MemorySegment) h.invokeExact(e);
                return s.reinterpret(Long.MAX_VALUE).getString(0);
            } catch (Throwable t) {
                return "errno " + e;
            }
        }
    }
}
