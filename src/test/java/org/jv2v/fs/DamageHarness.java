package org.jv2v.fs;

import org.jv2v.Jv2vException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * For random-damage tests of filesystem readers: a device that shows a good image with some bytes
 * changed (in memory: the image file is never written), and a walk that uses every read-only
 * operation of a {@link FileSystem} on everything it can reach. A damaged filesystem may read, or
 * fail with an {@link IOException} or a {@link Jv2vException} whose message is one line; anything
 * else (another runtime exception, running out of memory or stack, a hang) is a defect.
 */
public final class DamageHarness {
    /** Directory depth the walk follows (a damaged directory may name an ancestor). */
    private static final int MAX_DEPTH = 64;
    /** Names the walk visits at most, for the same reason. */
    private static final int MAX_VISITS = 20_000;
    /** Bytes read per file at most: damage may claim huge sizes; reads are chunked anyway. */
    private static final long MAX_READ = 4 << 20;

    private DamageHarness() {}

    /** {@code base} with patches laid over it, later ones over earlier ones. */
    public static final class PatchedDevice implements BlockDevice {
        private record Patch(long offset, byte[] bytes) {}

        private final BlockDevice base;
        private final List<Patch> patches = new ArrayList<>();

        public PatchedDevice(BlockDevice base) {
            this.base = base;
        }

        public void patch(long offset, byte[] bytes) {
            patches.add(new Patch(offset, bytes.clone()));
        }

        public void clear() {
            patches.clear();
        }

        @Override
        public long size() {
            return base.size();
        }

        @Override
        public void read(ByteBuffer dst, long offset) throws IOException {
            int start = dst.position();
            int n = dst.remaining();
            base.read(dst, offset);
            long end = offset + n;
            for (Patch p : patches) {
                long s = Math.max(p.offset(), offset);
                long t = Math.min(p.offset() + p.bytes().length, end);
                for (long q = s; q < t; q++) {
                    dst.put(start + (int) (q - offset), p.bytes()[(int) (q - p.offset())]);
                }
            }
        }

        @Override
        public List<Extent> blockStatus(long offset, long length) throws IOException {
            return base.blockStatus(offset, length);
        }

        @Override
        public String describe() {
            return base.describe() + " (damaged)";
        }

        @Override
        public void close() {
            // the base belongs to the caller
        }
    }

    /** What one damaged image did. */
    public enum Outcome { READ, REFUSED }

    @FunctionalInterface
    public interface Opener {
        FileSystem open() throws IOException;
    }

    /**
     * Opens and walks within {@code limit}; returns whether everything read or a clean refusal
     * came, and throws an {@link AssertionError} (with {@code what} in it) for anything else.
     */
    public static Outcome openAndWalk(String what, Opener opener, Duration limit) {
        ExecutorService ex = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(null, r, "damage-walk", 1 << 20); // a small stack: deep recursion shows
            t.setDaemon(true);
            return t;
        });
        try {
            Future<Outcome> f = ex.submit(() -> {
                try (FileSystem fs = opener.open()) {
                    return walkAll(what, fs) ? Outcome.READ : Outcome.REFUSED;
                } catch (IOException | Jv2vException e) {
                    checkMessage(what, e);
                    return Outcome.REFUSED;
                }
            });
            return f.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(what + ": no answer within " + limit + " (a hang?)");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof AssertionError a) {
                throw a;
            }
            throw new AssertionError(what + ": " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(what + ": interrupted", e);
        } finally {
            ex.shutdownNow();
        }
    }

    /**
     * A refusal explains itself in one line. NoSuchFileException and its kin carry the path the
     * caller asked for (names from a damaged directory may hold any character): only non-empty.
     */
    private static void checkMessage(String what, Exception e) {
        String m = e.getMessage();
        boolean pathOnly = e instanceof java.nio.file.FileSystemException;
        if (m == null || m.isBlank() || !pathOnly && (m.contains("\n") || m.contains("\r"))) {
            throw new AssertionError(what + ": refusal without a one-line message: " + e, e);
        }
    }

    @FunctionalInterface
    private interface Step {
        void run() throws IOException;
    }

    /** Runs one step; a clean refusal is counted in {@code refusals[0]} and the walk goes on. */
    private static void step(String what, int[] refusals, Step s) {
        try {
            s.run();
        } catch (IOException | Jv2vException e) {
            checkMessage(what, e);
            refusals[0]++;
        }
    }

    /**
     * Every operation on everything reachable; a failure on one name is a refusal of that name and
     * the walk goes on with the others. True when nothing was refused.
     */
    static boolean walkAll(String what, FileSystem fs) {
        int[] refusals = {0};
        step(what, refusals, fs::label);
        step(what, refusals, fs::uuid);
        step(what, refusals, fs::space);
        step(what, refusals, fs::usedRanges);
        int[] visits = {0};
        step(what, refusals, () -> walk(what, fs, "/", 0, visits, refusals));
        return refusals[0] == 0;
    }

    private static void walk(String what, FileSystem fs, String dir, int depth, int[] visits, int[] refusals)
            throws IOException {
        if (depth > MAX_DEPTH) {
            return;
        }
        ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
        for (DirEntry e : fs.list(dir)) {
            if (++visits[0] > MAX_VISITS) {
                return;
            }
            String p = dir.equals("/") ? "/" + e.name() : dir + "/" + e.name();
            step(what, refusals, () -> {
                FileStat st = fs.stat(p);
                fs.xattrs(p);
                if (st.isSymlink()) {
                    fs.readlink(p);
                } else if (st.isRegular()) {
                    long pos = 0;
                    int n;
                    while (pos < MAX_READ && (n = fs.read(p, buf.clear(), pos)) > 0) {
                        pos += n;
                    }
                } else if (st.kind() == FileKind.DIRECTORY && !e.name().equals(".") && !e.name().equals("..")) {
                    walk(what, fs, p, depth + 1, visits, refusals);
                }
            });
        }
    }
}
