package org.jv2v.copy;

import org.jv2v.Jv2vException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.CreateOptions;
import org.jv2v.image.Extent;
import org.jv2v.image.ImageFormat;
import org.jv2v.image.ImageWriter;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.image.Zeros;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.zip.CRC32C;

/**
 * Copies a disk into a new image, sparsely, in parallel, resumably and atomically.
 *
 * <ul>
 * <li>Only data is copied: ranges the source's block status reads as zero are skipped, so are
 *     ranges the caller's {@link CopyOptions#unused()} map says no filesystem uses, and zero blocks
 *     ({@value Zeros#BLOCK} bytes) found inside data are not written.
 * <li>The disk is cut into chunks; {@link CopyOptions#workers()} threads each take the next chunk,
 *     read it and write it, so reads, writes, inflation and compression overlap. Memory is bounded
 *     by {@code workers * chunkSize} (32 MiB by default) whatever the disk's size.
 * <li>The target is written as {@code DST.part}. Every {@link CopyOptions#checkpointInterval()} the
 *     target is flushed and then {@code DST.part.journal} lists the chunks done; a rerun after a kill
 *     continues from it. A SIGINT/SIGTERM writes a last checkpoint before the JVM exits.
 * <li>At the end the target is closed, optionally verified (re-read through the format's own
 *     reader and compared chunk by chunk, CRC32C, with what was read), optionally fsynced, and
 *     renamed to {@code DST} atomically: DST appears complete or not at all.
 * </ul>
 */
public final class Copier {
    private static final long REPORT_INTERVAL_NANOS = 100_000_000L;
    private static final long SHUTDOWN_WAIT_SECONDS = 20;
    /** How far ahead one look at the block status may take zero chunks in one step. */
    private static final long MAX_ZERO_SKIP = 64L << 30;
    private static final int RUNNING = 0;
    private static final int FINISHING = 1;
    private static final int INTERRUPTED = 2;

    private final BlockDevice src;
    private final ImageWriter writer;
    private final Path dst;
    private final Path part;
    private final CopyOptions opts;
    private final ProgressListener listener;
    private final long size;
    private final int chunkSize;
    private final long chunks;
    private final Journal journal;

    private BlockDevice target;
    /** Chunks done (from the journal, or written in this run). */
    private AtomicBits done;
    /** Chunks an earlier run did (null on a fresh copy): the target may hold stale data elsewhere. */
    private AtomicBits prior;
    private int[] digests;
    private AtomicBits expectZero;
    private ByteBuffer[] buffers;
    /** The next chunk a worker takes (during {@link #runParallel}). */
    private volatile AtomicLong nextChunk;

    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final LongAdder zeroBytes = new LongAdder();
    private final LongAdder unusedBytes = new LongAdder();
    private final LongAdder resumedBytes = new LongAdder();
    private final AtomicLong doneBytes = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicInteger state = new AtomicInteger(RUNNING);
    private volatile boolean stopping;
    /** The interruption the shutdown hook has already printed. */
    private volatile Jv2vException interruptedByShutdown;
    private final CountDownLatch shutdownDone = new CountDownLatch(1);
    private volatile ExecutorService pool;
    /** Workers hold it shared while writing; a checkpoint holds it exclusively while flushing. */
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private final Object checkpointLock = new Object();
    private long lastCheckpointCount = -1;
    private volatile boolean checkpointed;
    private final ReentrantLock progressLock = new ReentrantLock();
    private long lastReport;
    private final long startNanos = System.nanoTime();
    private final RateLimiter rate;

    private Copier(BlockDevice src, ImageWriter writer, Path dst, CopyOptions opts, ProgressListener listener) {
        this.src = src;
        this.writer = writer;
        this.dst = dst.toAbsolutePath().normalize();
        this.part = partFile(this.dst);
        this.opts = opts;
        this.listener = listener;
        this.size = src.size();
        this.chunkSize = opts.chunkSize();
        this.chunks = (size + chunkSize - 1) / chunkSize;
        this.journal = new Journal(journalFile(this.dst), this::identity, chunkSize, chunks, opts.flush());
        this.rate = opts.rateLimit() > 0 ? new RateLimiter(opts.rateLimit()) : null;
    }

    /**
     * Copies {@code src} into a new {@code writer}-format image at {@code dst} (replacing any file
     * there, like qemu-img convert). Resumes from {@code DST.part} when its journal matches.
     *
     * @throws IOException or {@link Jv2vException} when reading, writing or verifying fails; DST is
     *         then untouched, and DST.part is kept (for a rerun to resume) only if a checkpoint was
     *         written
     */
    public static CopyResult copy(BlockDevice src, ImageWriter writer, Path dst, CopyOptions opts,
                                  ProgressListener listener) throws IOException {
        return new Copier(src, writer, dst, opts, listener).run();
    }

    /** Where the copy to {@code dst} is written until it is complete. */
    public static Path partFile(Path dst) {
        return dst.resolveSibling(dst.getFileName() + ".part");
    }

    /** The journal of the chunks of {@link #partFile} that are safely written. */
    public static Path journalFile(Path dst) {
        return dst.resolveSibling(dst.getFileName() + ".part.journal");
    }

    private String identity() {
        String source = opts.sourceId().isEmpty() ? src.describe() : opts.sourceId();
        return "source=" + source + "\nsize=" + size + "\nformat=" + writer.name() + "\npreallocation="
                + opts.preallocation() + "\ncompress=" + opts.compress() + "\nunused=" + opts.unused().fingerprint()
                + (opts.flush() ? "" : "\nboot=" + bootId());
    }

    /**
     * Without --flush nothing is fsynced: a journal then vouches for data in the page cache, which
     * a host crash loses. Tying it to this boot makes a rerun after a reboot start over instead.
     */
    private static String bootId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        } catch (IOException | UnsupportedOperationException e) {
            return "unknown";
        }
    }

    private CopyResult run() throws IOException {
        Path parent = dst.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new Jv2vException(dst + ": the folder " + parent + " does not exist");
        }
        if (Files.isDirectory(dst)) {
            throw new Jv2vException(dst + ": is a folder; name the image file to write");
        }
        openTarget();
        buffers = new ByteBuffer[opts.workers()];
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] = ByteBuffer.allocateDirect((int) Math.min(opts.ioSize(), Math.max(size, 1)));
        }
        if (opts.verify()) {
            digests = new int[Math.toIntExact(chunks)];
            expectZero = new AtomicBits(chunks);
        }
        Thread hook = new Thread(this::onShutdown, "jv2v-copy-shutdown");
        boolean hooked = addHook(hook);
        CountDownLatch stopCheckpoints = new CountDownLatch(1);
        Thread checkpointer = Thread.ofPlatform().daemon(true).name("jv2v-copy-checkpoint")
                .start(() -> checkpointLoop(stopCheckpoints));
        try {
            report(true);
            runParallel(this::copyChunk);
        } catch (IOException | RuntimeException | Error e) {
            stopCheckpoints.countDown();
            join(checkpointer);
            if (hooked) {
                removeHook(hook);
            }
            abandon(e);
            throw e;
        }
        stopCheckpoints.countDown();
        join(checkpointer);
        if (!state.compareAndSet(RUNNING, FINISHING)) {
            // the shutdown hook journals and says so; the JVM halts when it is done
            awaitQuietly(shutdownDone);
            Jv2vException e = interruptedByShutdown;
            throw e != null ? e : interrupted();
        }
        if (hooked) {
            removeHook(hook);
        }
        try {
            rethrowFailure();
            BlockDevice t = target;
            target = null;
            t.close();
            boolean verified = false;
            if (opts.verify()) {
                verify();
                verified = true;
            }
            if (opts.flush()) {
                fsync(part, false);
            }
            move(part, dst);
            if (opts.flush()) {
                fsync(dst.getParent(), true);
            }
            journal.delete();
            report(true);
            return new CopyResult(dst, size, bytesRead.sum(), bytesWritten.sum(), zeroBytes.sum(), unusedBytes.sum(),
                    resumedBytes.sum(), verified, Duration.ofNanos(System.nanoTime() - startNanos));
        } catch (VerificationException e) {
            Files.deleteIfExists(part);
            journal.delete();
            throw e;
        } catch (IOException | RuntimeException | Error e) {
            abandon(e);
            throw e;
        }
    }

    /** Reopens DST.part when its journal matches, else creates it afresh. */
    private void openTarget() throws IOException {
        CreateOptions co = new CreateOptions(size, opts.preallocation(), opts.compress(), opts.flush());
        AtomicBits fromJournal = null;
        if (opts.resume() && Files.isRegularFile(part)) {
            fromJournal = journal.load();
            if (fromJournal != null) {
                try {
                    target = writer.reopen(part, co);
                } catch (IOException | Jv2vException e) {
                    // a part file we cannot continue: start over
                    fromJournal = null;
                }
            }
        }
        if (fromJournal == null) {
            journal.delete();
            try {
                target = writer.create(part, co);
            } catch (IOException e) {
                // a fresh part file that could not be made: nothing in it to resume from
                try {
                    Files.deleteIfExists(part);
                } catch (IOException d) {
                    e.addSuppressed(d);
                }
                // the platform's message ("File too large", "No space left on device") names no file
                throw new IOException(dst + ": cannot create a " + size + "-byte " + writer.name() + " image: "
                        + e.getMessage(), e);
            }
            done = new AtomicBits(chunks);
        } else {
            prior = fromJournal;
            done = fromJournal.snapshot();
            checkpointed = true;
            lastCheckpointCount = done.cardinality();
        }
    }

    /** After a failure: keep DST.part and its journal if a rerun can resume from them, else remove them. */
    private void abandon(Throwable cause) {
        if (target != null) {
            try {
                target.close();
            } catch (IOException | RuntimeException e) {
                cause.addSuppressed(e);
            }
            target = null;
        }
        if (!(checkpointed && opts.resume())) {
            try {
                Files.deleteIfExists(part);
                journal.delete();
            } catch (IOException e) {
                cause.addSuppressed(e);
            }
        }
    }

    @FunctionalInterface
    private interface ChunkTask {
        void run(long chunk, ByteBuffer buffer) throws IOException;
    }

    /** Runs {@code task} on every chunk, {@code workers} at a time; the first failure stops all. */
    private void runParallel(ChunkTask task) throws IOException {
        AtomicLong next = new AtomicLong();
        nextChunk = next;
        ExecutorService p = Executors.newFixedThreadPool(opts.workers(),
                Thread.ofPlatform().daemon(true).name("jv2v-copy-", 0).factory());
        pool = p;
        for (ByteBuffer buf : buffers) {
            p.execute(() -> {
                while (!stopping && failure.get() == null) {
                    long c = next.getAndIncrement();
                    if (c >= chunks) {
                        break;
                    }
                    try {
                        task.run(c, buf);
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                        break;
                    }
                }
            });
        }
        p.shutdown();
        try {
            while (!p.awaitTermination(1, TimeUnit.SECONDS)) {
                // keep waiting; workers stop by themselves on failure or shutdown
            }
        } catch (InterruptedException e) {
            stopping = true;
            Thread.currentThread().interrupt();
            throw new Jv2vException(dst + ": copy interrupted");
        }
        rethrowFailure();
    }

    private void rethrowFailure() throws IOException {
        Throwable t = failure.get();
        if (t == null) {
            return;
        }
        if (t instanceof IOException e) {
            throw e;
        }
        if (t instanceof UncheckedIOException e) {
            throw e.getCause();
        }
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IOException(t);
    }

    private void copyChunk(long chunk, ByteBuffer buf) throws IOException {
        long start = chunk * chunkSize;
        int len = (int) Math.min(chunkSize, size - start);
        if (done.get(chunk)) {
            resumedBytes.add(len);
            finish(len);
            return;
        }
        List<long[]> data = new ArrayList<>();
        dataRanges(start, start + len, data, true);
        if (prior != null && !readsAsZero(target, start, len)) {
            // an earlier run may have written part of this chunk before it was interrupted
            withGate(() -> target.writeZeroes(start, len));
        }
        if (data.isEmpty()) {
            if (expectZero != null) {
                expectZero.set(chunk);
            }
            done.set(chunk);
            finish(len);
            if (prior == null) {
                skipZeroChunksAfter(chunk);
            }
            return;
        }
        // Stream the data through this worker's buffer, a piece at a time: what was just read is
        // still in the CPU's cache when it is checked for zeros and written.
        CRC32C crc = digests != null ? new CRC32C() : null;
        long pos = start;
        long written = 0;
        for (long[] r : data) {
            if (crc != null) {
                updateZeros(crc, r[0] - pos);
            }
            for (long off = r[0]; off < r[1]; ) {
                int n = (int) Math.min(buf.capacity(), r[1] - off);
                if (rate != null) {
                    rate.acquire(n);
                }
                ByteBuffer piece = buf.clear().limit(n);
                src.read(piece, off);
                piece.flip();
                bytesRead.add(n);
                long at = off;
                long[] w = new long[1];
                withGate(() -> w[0] = writeNonZero(piece, at));
                written += w[0];
                if (crc != null) {
                    crc.update(piece.position(0));
                }
                off += n;
            }
            pos = r[1];
        }
        if (crc != null) {
            updateZeros(crc, start + len - pos);
            digests[(int) chunk] = (int) crc.getValue();
            if (written == 0) {
                expectZero.set(chunk);
            }
        }
        done.set(chunk);
        finish(len);
    }

    /**
     * Takes the chunks after {@code chunk} that the source's block status reads as zero in one step,
     * when no other worker has started on them: a thin 2 TiB disk is 262144 chunks, most of them
     * empty, and asking for each on its own cost more than the copy. Only on a fresh copy: after an
     * interrupted one, the target may hold stale data there.
     */
    private void skipZeroChunksAfter(long chunk) throws IOException {
        long until = zeroChunksUntil(src, chunk + 1);
        long first = takeUpTo(until);
        if (first >= until) {
            return;
        }
        for (long c = first; c < until; c++) {
            if (expectZero != null) {
                expectZero.set(c);
            }
            done.set(c);
        }
        long bytes = Math.min(size, until * chunkSize) - first * chunkSize;
        zeroBytes.add(bytes);
        finish(bytes);
    }

    /**
     * The first chunk from {@code chunk} on that {@code dev} may not read as zero, looking at most
     * {@link #MAX_ZERO_SKIP} ahead: 64 MiB first, then four times further each time all of it was
     * zero, so a short zero run costs one short look.
     */
    private long zeroChunksUntil(BlockDevice dev, long chunk) throws IOException {
        long from = chunk * chunkSize;
        long zeroEnd = from;
        long look = 8L * chunkSize;
        while (zeroEnd < size && zeroEnd - from < MAX_ZERO_SKIP) {
            long len = Math.min(size - zeroEnd, look);
            long reached = zeroEnd;
            for (Extent e : dev.blockStatus(zeroEnd, len)) {
                if (e.offset() != reached || !e.type().readsAsZero()) {
                    break;
                }
                reached = e.end();
            }
            boolean allZero = reached >= zeroEnd + len;
            zeroEnd = Math.min(reached, zeroEnd + len);
            if (!allZero) {
                break;
            }
            look *= 4;
        }
        return zeroEnd >= size ? chunks : zeroEnd / chunkSize;
    }

    /**
     * Takes for the calling worker the chunks not yet taken below {@code until}; returns the first
     * of them ({@code until} or more when none was left). Other workers take chunks one at a time
     * from the same counter, which only grows, so each chunk is still taken exactly once.
     */
    private long takeUpTo(long until) {
        AtomicLong next = nextChunk;
        long first = next.get();
        while (first < until && !next.compareAndSet(first, until)) {
            first = next.get();
        }
        return first;
    }

    /**
     * Reads {@code [from, to)} of {@code dev} through {@code buf} into {@code crc}; returns whether
     * every byte was zero, given {@code zeroSoFar} (once false, pieces are no longer tested).
     */
    private static boolean readSum(BlockDevice dev, long from, long to, ByteBuffer buf, CRC32C crc, boolean zeroSoFar)
            throws IOException {
        boolean zero = zeroSoFar;
        for (long off = from; off < to; ) {
            int n = (int) Math.min(buf.capacity(), to - off);
            ByteBuffer piece = buf.clear().limit(n);
            dev.read(piece, off);
            piece.flip();
            zero = zero && Zeros.isZero(piece);
            crc.update(piece);
            off += n;
        }
        return zero;
    }

    private static void updateZeros(CRC32C crc, long n) {
        while (n > 0) {
            int k = (int) Math.min(n, 1 << 20);
            crc.update(Zeros.of(k));
            n -= k;
        }
    }

    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }

    private void withGate(IoAction action) throws IOException {
        gate.readLock().lock();
        try {
            action.run();
        } finally {
            gate.readLock().unlock();
        }
    }

    /**
     * Collects into {@code out} the pieces of {@code [from, to)} that must be read: DATA in the
     * source's block status and not in the unused map. Returns their total length.
     */
    private long dataRanges(long from, long to, List<long[]> out, boolean account) throws IOException {
        long pos = from;
        long total = 0;
        while (pos < to) {
            List<Extent> status = src.blockStatus(pos, to - pos);
            if (status.isEmpty() || status.getFirst().offset() != pos) {
                throw new IOException(src.describe() + ": block status at offset " + pos + " does not start there");
            }
            for (Extent e : status) {
                long s = Math.max(e.offset(), pos);
                long t = Math.min(e.end(), to);
                if (t <= s) {
                    continue;
                }
                if (e.type().readsAsZero()) {
                    if (account) {
                        zeroBytes.add(t - s);
                    }
                    continue;
                }
                long[] sum = new long[1];
                opts.unused().forEachGap(s, t, (a, b) -> {
                    if (!out.isEmpty() && out.getLast()[1] == a) {
                        out.getLast()[1] = b;
                    } else {
                        out.add(new long[] {a, b});
                    }
                    sum[0] += b - a;
                });
                total += sum[0];
                if (account) {
                    unusedBytes.add((t - s) - sum[0]);
                }
            }
            long reached = Math.min(to, status.getLast().end());
            if (reached <= pos) {
                throw new IOException(src.describe() + ": block status made no progress at offset " + pos);
            }
            pos = reached;
        }
        return total;
    }

    /** Writes the non-zero {@value Zeros#BLOCK}-byte blocks of {@code piece}, which holds the disk from {@code at}. */
    private long writeNonZero(ByteBuffer piece, long at) throws IOException {
        long written = 0;
        int run = -1;
        int i = 0;
        int n = piece.limit();
        while (i < n) {
            int next = (int) Math.min(n, i + (Zeros.BLOCK - (at + i) % Zeros.BLOCK));
            boolean zero = Zeros.isZero(piece, i, next);
            if (zero) {
                zeroBytes.add(next - i);
                if (run >= 0) {
                    written += writeRange(piece, at, run, i);
                    run = -1;
                }
            } else if (run < 0) {
                run = i;
            }
            i = next;
        }
        if (run >= 0) {
            written += writeRange(piece, at, run, n);
        }
        return written;
    }

    private long writeRange(ByteBuffer piece, long at, int from, int to) throws IOException {
        target.write(piece.slice(from, to - from), at + from);
        bytesWritten.add(to - from);
        return to - from;
    }

    private static boolean readsAsZero(BlockDevice dev, long offset, long len) throws IOException {
        long pos = offset;
        long end = offset + len;
        while (pos < end) {
            List<Extent> status = dev.blockStatus(pos, end - pos);
            for (Extent e : status) {
                if (!e.type().readsAsZero() && e.end() > pos && e.offset() < end) {
                    return false;
                }
            }
            long reached = status.isEmpty() ? pos : status.getLast().end();
            if (reached <= pos) {
                return false;
            }
            pos = reached;
        }
        return true;
    }

    private void finish(long len) {
        doneBytes.addAndGet(len);
        report(false);
    }

    private void report(boolean force) {
        if (force) {
            progressLock.lock();
        } else if (!progressLock.tryLock()) {
            return;
        }
        try {
            long now = System.nanoTime();
            if (!force && now - lastReport < REPORT_INTERVAL_NANOS) {
                return;
            }
            lastReport = now;
            listener.progress(new CopyProgress(doneBytes.get(), size, bytesRead.sum(), bytesWritten.sum(),
                    now - startNanos));
        } finally {
            progressLock.unlock();
        }
    }

    // ---- checkpoints and interruption ----

    private void checkpointLoop(CountDownLatch stop) {
        try {
            while (!stop.await(opts.checkpointInterval().toMillis(), TimeUnit.MILLISECONDS)) {
                if (stopping || failure.get() != null) {
                    return;
                }
                checkpoint();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }

    /** Flushes the target, then journals the chunks that were done before the flush began. */
    private void checkpoint() throws IOException {
        synchronized (checkpointLock) {
            AtomicBits snapshot = done.snapshot();
            long count = snapshot.cardinality();
            if (count == lastCheckpointCount || target == null) {
                return;
            }
            gate.writeLock().lock();
            try {
                target.flush();
            } finally {
                gate.writeLock().unlock();
            }
            journal.write(snapshot);
            lastCheckpointCount = count;
            checkpointed = true;
        }
    }

    /** SIGINT/SIGTERM: stop the workers, then write a last checkpoint so a rerun loses nothing. */
    private void onShutdown() {
        if (!state.compareAndSet(RUNNING, INTERRUPTED)) {
            return;
        }
        stopping = true;
        ExecutorService p = pool;
        try {
            if (p != null) {
                p.awaitTermination(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
            }
            if (opts.resume() && failure.get() == null) {
                checkpoint();
            }
        } catch (Throwable t) {
            // the JVM is going down: the last good journal stands
        }
        // said from here: the JVM halts when its hooks are done, perhaps before the copying
        // thread gets to say it
        interruptedByShutdown = interrupted().printNow();
        shutdownDone.countDown();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(SHUTDOWN_WAIT_SECONDS + 30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Jv2vException interrupted() {
        return new Jv2vException(dst + ": copy interrupted; run the same command again to resume from " + part);
    }

    private static boolean addHook(Thread hook) {
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- verification ----

    private static final class VerificationException extends Jv2vException {
        VerificationException(String message) {
            super(message);
        }
    }

    /** Re-reads DST.part through its format's reader and compares each chunk with the source's. */
    private void verify() throws IOException {
        ImageFormat format;
        try {
            format = Images.format(writer.name());
        } catch (IllegalArgumentException e) {
            throw new Jv2vException(dst + ": cannot verify: no reader for format " + writer.name());
        }
        try (OpenedImage image = format.open(part, OpenContext.of(PathGuard.folderOf(part)))) {
            BlockDevice copy = image.device();
            if (copy.size() != size) {
                throw new VerificationException(dst + ": verification failed: the copy is " + copy.size()
                        + " bytes, the source " + size);
            }
            runParallel((chunk, buf) -> verifyChunk(copy, chunk, buf));
        }
    }

    /** As {@link #skipZeroChunksAfter} for verification: chunks meant to be zero whose copy reads as zero. */
    private void skipVerifiedZeroChunksAfter(BlockDevice copy, long chunk) throws IOException {
        long until = zeroChunksUntil(copy, chunk + 1);
        for (long c = chunk + 1; c < until; c++) {
            if (!expectZero.get(c)) {
                until = c;
                break;
            }
        }
        takeUpTo(until);
    }

    private void verifyChunk(BlockDevice copy, long chunk, ByteBuffer buf) throws IOException {
        long start = chunk * chunkSize;
        int len = (int) Math.min(chunkSize, size - start);
        boolean wantZero;
        int wantCrc;
        if (prior != null && prior.get(chunk)) {
            // copied by an earlier run: what it should hold comes from the source again
            List<long[]> data = new ArrayList<>();
            dataRanges(start, start + len, data, false);
            CRC32C crc = new CRC32C();
            boolean zero = true;
            long pos = start;
            for (long[] r : data) {
                updateZeros(crc, r[0] - pos);
                zero = readSum(src, r[0], r[1], buf, crc, zero);
                pos = r[1];
            }
            updateZeros(crc, start + len - pos);
            wantZero = zero;
            wantCrc = (int) crc.getValue();
        } else {
            wantZero = expectZero.get(chunk);
            wantCrc = digests[(int) chunk];
        }
        if (wantZero && readsAsZero(copy, start, len)) {
            if (prior == null) {
                skipVerifiedZeroChunksAfter(copy, chunk);
            }
            return;
        }
        CRC32C crc = new CRC32C();
        boolean zero = readSum(copy, start, start + len, buf, crc, true);
        boolean ok = wantZero ? zero : (int) crc.getValue() == wantCrc;
        if (!ok) {
            throw new VerificationException(dst + ": verification failed: bytes " + start + " to " + (start + len)
                    + " of the copy differ from what was read from " + src.describe() + "; the copy was removed");
        }
    }

    // ---- files ----

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new Jv2vException(to + ": cannot rename " + from + " into place atomically: " + e.getMessage());
        }
    }

    private static void fsync(Path path, boolean directory) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!directory) {
                throw e;
            }
            // some systems cannot open a folder as a channel; the file itself is durable already
        }
    }

    /** Paces reads to a number of bytes per second (qemu-img convert -r). */
    private static final class RateLimiter {
        private final long bytesPerSecond;
        private long nextFree = System.nanoTime();

        RateLimiter(long bytesPerSecond) {
            this.bytesPerSecond = bytesPerSecond;
        }

        void acquire(long bytes) throws IOException {
            long wait;
            synchronized (this) {
                long now = System.nanoTime();
                nextFree = Math.max(nextFree, now);
                wait = nextFree - now;
                nextFree += (long) (bytes * 1e9 / bytesPerSecond);
            }
            if (wait > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(wait);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("copy interrupted");
                }
            }
        }
    }
}
