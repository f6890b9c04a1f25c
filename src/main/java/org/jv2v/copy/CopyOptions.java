package org.jv2v.copy;

import org.jv2v.image.Preallocation;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * How {@link Copier} copies a disk. Start from {@link #defaults()} and change what differs.
 *
 * @param preallocation      the target's preallocation ({@code -o preallocation=})
 * @param compress           compress where the target format can ({@code -c}, qcow2)
 * @param verify             after the copy, re-read the target and compare per-chunk checksums with
 *                           what was read from the source ({@code --verify})
 * @param resume             continue an interrupted copy from {@code DST.part} and its journal
 * @param flush              make the target durable (fsync) before it is renamed into place, as
 *                           nbdcopy --flush, and fsync at every checkpoint; without it nothing is
 *                           fsynced (as qemu-img's cache=unsafe): a killed copy still resumes, but
 *                           after a host crash (another boot) the journal is not trusted
 * @param workers            threads that each read a chunk and write it (I/O and inflate/deflate overlap)
 * @param chunkSize          bytes per unit of work and of the journal (a power of two, 1-64 MiB)
 * @param ioSize             bytes per read and write (a power of two, 64 KiB to chunkSize): each worker
 *                           streams its chunk through a buffer this big, so peak buffer memory is
 *                           {@code workers * ioSize}
 * @param rateLimit          bytes per second read from the source, 0 for no limit ({@code -r})
 * @param checkpointInterval how often the target is flushed and the journal written
 * @param unused             ranges of the source no filesystem uses: not read, written as zeros
 * @param sourceId           what identifies the source across runs (paths, sizes, mtimes): a journal
 *                           written for another source is not resumed
 */
public record CopyOptions(Preallocation preallocation, boolean compress, boolean verify, boolean resume,
                          boolean flush, int workers, int chunkSize, int ioSize, long rateLimit, Duration checkpointInterval,
                          RangeSet unused, String sourceId) {
    public static final int MIN_CHUNK = 1 << 20;
    public static final int MAX_CHUNK = 64 << 20;
    public static final int MIN_IO = 64 << 10;
    /** More threads than this only adds contention on any machine jv2v targets. */
    public static final int MAX_WORKERS = 64;

    public CopyOptions {
        if (Integer.bitCount(chunkSize) != 1 || chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) {
            throw new IllegalArgumentException("chunk size must be a power of two from 1 to 64 MiB: " + chunkSize);
        }
        if (Integer.bitCount(ioSize) != 1 || ioSize < MIN_IO || ioSize > chunkSize) {
            throw new IllegalArgumentException("I/O size must be a power of two from 64 KiB to the chunk size: "
                    + ioSize);
        }
        if (workers < 1 || workers > MAX_WORKERS) {
            throw new IllegalArgumentException("workers must be 1.." + MAX_WORKERS + ": " + workers);
        }
        if (rateLimit < 0) {
            throw new IllegalArgumentException("negative rate limit " + rateLimit);
        }
        if (checkpointInterval.isNegative() || checkpointInterval.isZero()) {
            throw new IllegalArgumentException("checkpoint interval must be positive: " + checkpointInterval);
        }
    }

    /**
     * Sparse, resumable, flushed at the end, 8 MiB chunks read in 256 KiB pieces (small enough to stay
     * in the CPU cache between the read and the write), a checkpoint every 10 s, and one worker per
     * CPU from 2 to 4: more only contend for the CPUs and the target file's lock (bench/convert.sh
     * on 2 busy CPUs: 4 workers were slower than 2 in three alternating streamOptimized runs).
     */
    public static CopyOptions defaults() {
        int workers = Math.clamp(Runtime.getRuntime().availableProcessors(), 2, 4);
        return new CopyOptions(Preallocation.OFF, false, false, true, true, workers, 8 << 20, 256 << 10, 0,
                Duration.ofSeconds(10), RangeSet.empty(), "");
    }

    public CopyOptions withPreallocation(Preallocation p) {
        return with(o -> o.preallocation = p);
    }

    public CopyOptions withCompress(boolean c) {
        return with(o -> o.compress = c);
    }

    public CopyOptions withVerify(boolean v) {
        return with(o -> o.verify = v);
    }

    public CopyOptions withResume(boolean r) {
        return with(o -> o.resume = r);
    }

    public CopyOptions withFlush(boolean f) {
        return with(o -> o.flush = f);
    }

    public CopyOptions withWorkers(int w) {
        return with(o -> o.workers = w);
    }

    /** Also lowers the I/O size to {@code c} if it was larger. */
    public CopyOptions withChunkSize(int c) {
        return with(o -> {
            o.chunkSize = c;
            o.ioSize = Math.min(o.ioSize, c);
        });
    }

    public CopyOptions withIoSize(int n) {
        return with(o -> o.ioSize = n);
    }

    public CopyOptions withRateLimit(long bytesPerSecond) {
        return with(o -> o.rateLimit = bytesPerSecond);
    }

    public CopyOptions withCheckpointInterval(Duration d) {
        return with(o -> o.checkpointInterval = d);
    }

    public CopyOptions withUnused(RangeSet u) {
        return with(o -> o.unused = u);
    }

    public CopyOptions withSourceId(String id) {
        return with(o -> o.sourceId = id);
    }

    /** These options with what {@code change} sets changed, checked again by the constructor. */
    private CopyOptions with(Consumer<Fields> change) {
        Fields f = new Fields(this);
        change.accept(f);
        return f.options();
    }

    /** The components of a {@link CopyOptions} as variables, so that each wither names only what it changes. */
    private static final class Fields {
        Preallocation preallocation;
        boolean compress;
        boolean verify;
        boolean resume;
        boolean flush;
        int workers;
        int chunkSize;
        int ioSize;
        long rateLimit;
        Duration checkpointInterval;
        RangeSet unused;
        String sourceId;

        Fields(CopyOptions o) {
            preallocation = o.preallocation;
            compress = o.compress;
            verify = o.verify;
            resume = o.resume;
            flush = o.flush;
            workers = o.workers;
            chunkSize = o.chunkSize;
            ioSize = o.ioSize;
            rateLimit = o.rateLimit;
            checkpointInterval = o.checkpointInterval;
            unused = o.unused;
            sourceId = o.sourceId;
        }

        CopyOptions options() {
            return new CopyOptions(preallocation, compress, verify, resume, flush, workers, chunkSize, ioSize, rateLimit,
                    checkpointInterval, unused, sourceId);
        }
    }
}
