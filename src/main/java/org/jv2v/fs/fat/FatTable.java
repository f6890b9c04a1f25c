package org.jv2v.fs.fat;

import org.jv2v.BadInputException;
import org.jv2v.LruMap;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The active file allocation table: entry lookups, chain walks with loop and length checks, and a
 * sequential scan for the used-cluster map. FAT12 and FAT16 tables (at most 128 KiB) are read
 * whole; FAT32 tables are read in blocks kept in a small cache.
 */
final class FatTable {
    /** Bytes per cached FAT32 block. */
    private static final int BLOCK = 64 * 1024;
    /** FAT32 blocks cached: 4 MiB, enough for the working set of path lookups and file reads. */
    private static final int CACHE_BLOCKS = 64;

    /** A run of consecutive clusters {@code [first, first + count)}. */
    record Run(long first, long count) {}

    private final BlockDevice dev;
    private final Geometry g;
    private final long base;
    private final byte[] small;
    private final Map<Long, byte[]> cache = new LruMap<>(CACHE_BLOCKS);

    FatTable(BlockDevice dev, Geometry g) throws IOException {
        this.dev = dev;
        this.g = g;
        this.base = g.fatOffset() + g.activeFat() * g.fatBytes();
        if (g.type() != FatType.FAT32) {
            // FAT12/16: at most 65526 entries of 2 bytes
            int n = (int) Math.min(g.fatBytes(), (g.clusterLimit() * g.type().bits() + 7) / 8 + 1);
            ByteBuffer b = ByteBuffer.allocate(n);
            dev.read(b, base);
            small = b.array();
        } else {
            small = null;
        }
    }

    /** The raw entry of {@code cluster} (0 and 1 are the reserved entries). */
    long entry(long cluster) throws IOException {
        switch (g.type()) {
            case FAT12 -> {
                int off = (int) (cluster + cluster / 2);
                int v = (small[off] & 0xFF) | (small[off + 1] & 0xFF) << 8;
                return (cluster & 1) != 0 ? v >>> 4 : v & 0xFFF;
            }
            case FAT16 -> {
                int off = (int) (cluster * 2);
                return (small[off] & 0xFF) | (small[off + 1] & 0xFF) << 8;
            }
            default -> {
                long off = cluster * 4;
                byte[] block = block(off / BLOCK);
                int i = (int) (off % BLOCK);
                return ByteBuffer.wrap(block, i, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0x0FFF_FFFFL;
            }
        }
    }

    private byte[] block(long index) throws IOException {
        synchronized (cache) {
            byte[] b = cache.get(index);
            if (b != null) {
                return b;
            }
        }
        long start = index * BLOCK;
        int n = (int) Math.min(BLOCK, g.fatBytes() - start);
        ByteBuffer buf = ByteBuffer.allocate(BLOCK); // zero tail: entries past the FAT are never asked for
        buf.limit(n);
        dev.read(buf, base + start);
        synchronized (cache) {
            cache.put(index, buf.array());
        }
        return buf.array();
    }

    /** Device offset of {@code cluster}'s entry, for messages. */
    long entryOffset(long cluster) {
        return base + cluster * g.type().bits() / 8;
    }

    /**
     * The cluster chain starting at {@code first}, as runs, stopping after {@code maxClusters}
     * clusters even if the chain goes on. A chain that ends early while {@code exact} asks for
     * exactly that many, that leaves the volume, hits a free or bad cluster, or visits a cluster
     * twice is a {@link BadInputException}.
     */
    List<Run> chain(long first, long maxClusters, boolean exact, String what) throws IOException {
        List<Run> runs = new ArrayList<>();
        long cur = first;
        long count = 0;
        long runStart = first;
        long runLen = 0;
        checkCluster(cur, -1, what);
        long mark = cur; // Brent's cycle detection: a loop is found within a few times its length
        long power = 1;
        long lambda = 0;
        while (true) {
            count++;
            runLen++;
            if (count >= maxClusters) {
                break;
            }
            long next = entry(cur);
            if (next >= g.type().endOfChain()) {
                if (exact) {
                    throw bad(cur, what + ": cluster chain ends after " + count + " clusters, the size needs "
                            + maxClusters);
                }
                break;
            }
            checkCluster(next, cur, what);
            if (next == mark) {
                throw bad(cur, what + ": cluster chain loops back to cluster " + next);
            }
            if (++lambda == power) {
                mark = next;
                power <<= 1;
                lambda = 0;
            }
            if (next == cur + 1) {
                cur = next;
                continue;
            }
            runs.add(new Run(runStart, runLen));
            runStart = next;
            runLen = 0;
            cur = next;
        }
        runs.add(new Run(runStart, runLen));
        checkNoOverlap(runs, what);
        return runs;
    }

    private void checkCluster(long c, long from, String what) {
        String problem = null;
        if (c == g.type().badCluster()) {
            problem = "chain reaches a cluster marked bad";
        } else if (c < 2) {
            problem = c == 0 ? "chain reaches a free cluster" : "chain reaches reserved cluster 1";
        } else if (c >= g.clusterLimit()) {
            problem = "cluster number " + c + " is past the end of the volume (" + g.clusterCount() + " clusters)";
        }
        if (problem != null) {
            throw from < 0
                    ? BadInputException.of(dev.describe() + ": " + what + ": first cluster " + c + ": " + problem)
                    : bad(from, what + ": " + problem);
        }
    }

    /** A cluster appearing twice means the chain loops (or two parts cross-link). */
    private void checkNoOverlap(List<Run> runs, String what) {
        if (runs.size() < 2) {
            return;
        }
        List<Run> sorted = new ArrayList<>(runs);
        sorted.sort((a, b) -> Long.compare(a.first(), b.first()));
        for (int i = 1; i < sorted.size(); i++) {
            Run prev = sorted.get(i - 1);
            Run r = sorted.get(i);
            if (r.first() < prev.first() + prev.count()) {
                throw bad(r.first(), what + ": cluster chain loops (cluster " + r.first() + " is reached twice)");
            }
        }
    }

    private BadInputException bad(long cluster, String problem) {
        return BadInputException.of(dev.describe() + ": FAT entry of cluster " + cluster + " at offset 0x"
                + Long.toHexString(entryOffset(cluster)) + ": " + problem);
    }

    /** Calls {@code sink} with every run of clusters whose entry is not free (bad clusters included). */
    void forEachUsedRun(RunSink sink) throws IOException {
        long start = -1;
        for (long c = 2; c < g.clusterLimit(); c++) {
            boolean used = entry(c) != 0;
            if (used && start < 0) {
                start = c;
            } else if (!used && start >= 0) {
                sink.accept(start, c - start);
                start = -1;
            }
        }
        if (start >= 0) {
            sink.accept(start, g.clusterLimit() - start);
        }
    }

    @FunctionalInterface
    interface RunSink {
        void accept(long first, long count) throws IOException;
    }
}
