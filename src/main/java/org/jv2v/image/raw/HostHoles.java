package org.jv2v.image.raw;

import org.jv2v.LruMap;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The holes of an image file under ranges its format maps as data: a qcow2 made with
 * {@code preallocation=metadata}, a VHD whose blocks were only partly written, a fixed VHD copied
 * sparse. qemu's block layer asks the host file the same question (its block status recurses into
 * the file), so {@code qemu-img convert} skips those ranges; this lets jv2v skip them too, without
 * reading them.
 *
 * <p>Only holes count (SEEK_HOLE): a range the file system calls data is DATA even if it is an
 * fallocated, never-written extent that would read as zeros, because nothing short of reading it
 * tells the two apart. Compressed or otherwise encoded payloads must not be asked about: a hole
 * means zero only for bytes stored as they are.
 *
 * <p>The file is asked in windows running from the first byte wanted towards its end (at most a
 * thousand-odd extents each, see {@link SparseFile#dataExtents}), and the last few windows are
 * kept, so walking a disk front to back costs about two {@code lseek}s per extent of the host
 * file, not per cluster. A file with no hole at all costs two calls in total. Safe for threads.
 */
public final class HostHoles implements Closeable {
    /** Windows kept: host data is mostly in guest order, with a few streams interleaved (tables, chains). */
    private static final int WINDOWS_KEPT = 16;

    private final SparseFile sparse;
    private final long fileSize;
    /** Keyed by window start; access-ordered, so the least recently used one goes first. */
    private final Map<Long, Window> windows = new LruMap<>(WINDOWS_KEPT);
    /** Set once a window showed that the whole file from its start has no hole. */
    private volatile boolean noHoles;
    private long lookups;
    private long refills;

    private HostHoles(SparseFile sparse, long fileSize) {
        this.sparse = sparse;
        this.fileSize = fileSize;
    }

    /** Opens its own read-only descriptor on {@code file}, whose size is {@code fileSize} (as checked at open). */
    public static HostHoles open(Path file, long fileSize) throws IOException {
        return new HostHoles(SparseFile.open(file, false), fileSize);
    }

    /**
     * Appends to {@code out} the status of guest {@code [guest, guest + length)}, stored as it is at
     * host offset {@code host}: DATA where the file holds (or may hold) data, ZERO where it has a
     * hole. Past the file's end (which a reader should have refused) it says DATA, so the read
     * reports the problem. Stops early, at the end of an extent, once {@code out} holds
     * {@code maxExtents} extents; returns how many bytes it described (at least one extent's worth).
     */
    public long appendStatus(List<Extent> out, long guest, long host, long length, int maxExtents)
            throws IOException {
        long end = host + length;
        long inFile = Math.max(host, Math.min(end, fileSize));
        long pos = host;
        while (pos < inFile && !noHoles) {
            if (pos > host && out.size() >= maxExtents) {
                return pos - host;
            }
            Window w = windowAt(pos, inFile);
            pos = w.appendTo(out, pos, inFile, guest - host, maxExtents);
        }
        Extent.append(out, guest + (pos - host), end - pos, ExtentType.DATA);
        return length;
    }

    private synchronized Window windowAt(long pos, long end) throws IOException {
        lookups++;
        for (Window w : windows.values()) {
            if (w.start <= pos && pos < w.end) {
                windows.get(w.start); // touch: most recently used
                return w;
            }
        }
        // The first window starts at the file's start, whatever was asked: it tells whether the file
        // has any hole at all, and if it has none no later lookup costs a call.
        long from = refills++ == 0 ? 0 : pos;
        List<Extent> runs = sparse.dataExtents(from, fileSize - from, fileSize);
        if (runs.isEmpty()) {
            // cannot happen for pos < fileSize; be safe: data up to what was asked
            runs = List.of(new Extent(from, end - from, ExtentType.DATA));
        }
        Window w = new Window(runs);
        if (from == 0 && runs.size() == 1 && runs.getFirst().type() == ExtentType.DATA
                && runs.getFirst().end() >= fileSize) {
            noHoles = true;
        }
        windows.put(w.start, w);
        if (!(w.start <= pos && pos < w.end)) {
            // the first window stopped short of pos (a file with many holes): look again from pos
            return windowAt(pos, end);
        }
        return w;
    }

    /** How many windows were read from the file system, and how many lookups there were (for tests). */
    public synchronized long[] counters() {
        return new long[] {refills, lookups};
    }

    @Override
    public void close() {
        sparse.close();
    }

    /** Consecutive extents of the file, as {@link SparseFile#dataExtents} gave them. */
    private static final class Window {
        final long start;
        final long end;
        final long[] starts;
        final Extent[] runs;

        Window(List<Extent> runs) {
            this.runs = runs.toArray(Extent[]::new);
            this.start = this.runs[0].offset();
            this.end = this.runs[this.runs.length - 1].end();
            this.starts = new long[this.runs.length];
            for (int i = 0; i < starts.length; i++) {
                starts[i] = this.runs[i].offset();
            }
        }

        /**
         * Appends host {@code [pos, min(to, end))} shifted by {@code shift}, stopping after the
         * first extent once {@code out} holds {@code maxExtents}; returns where it stopped.
         */
        long appendTo(List<Extent> out, long pos, long to, long shift, int maxExtents) {
            int i = Arrays.binarySearch(starts, pos);
            if (i < 0) {
                i = -i - 2;
            }
            long p = pos;
            long stop = Math.min(to, end);
            for (; i < runs.length && p < stop && (p == pos || out.size() < maxExtents); i++) {
                long e = Math.min(stop, runs[i].end());
                Extent.append(out, p + shift, e - p, runs[i].type());
                p = e;
            }
            return p;
        }
    }
}
