package org.jv2v.image.qcow2;

import java.io.IOException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The writer's host cluster reference counts, 16 bits each (refcount_order 4): the refcount table
 * (offsets of refcount blocks) in memory, and the blocks in a bounded write-back cache. Not thread
 * safe: the writer calls it under its metadata lock.
 */
final class Refcounts {
    /** Where blocks come from and go to. */
    interface Store {
        char[] load(long host) throws IOException;

        /** Writes a block outside a flush (an eviction): the image must be marked dirty first. */
        void evict(long host, char[] counts) throws IOException;

        void write(long host, char[] counts) throws IOException;
    }

    private static final class Block {
        final char[] counts;
        boolean dirty;

        Block(char[] counts, boolean dirty) {
            this.counts = counts;
            this.dirty = dirty;
        }
    }

    private final int clusterBits;
    private final int blockBits;
    private final Store store;
    private final int maxCached;
    private long[] table;
    private boolean tableDirty;
    /** Blocks whose content on disk is stale (a rebuild): they start from zeros, not from disk. */
    private final BitSet stale = new BitSet();
    private final LinkedHashMap<Integer, Block> cache = new LinkedHashMap<>(16, 0.75f, true);

    Refcounts(int clusterBits, long[] table, int maxCached, Store store) {
        this.clusterBits = clusterBits;
        this.blockBits = clusterBits - 1; // 2-byte entries: cluster_size / 2 per block
        this.table = table;
        this.store = store;
        this.maxCached = maxCached;
    }

    /** Host clusters one refcount block covers. */
    long clustersPerBlock() {
        return 1L << blockBits;
    }

    /** The block index covering host cluster {@code cluster}. */
    long blockIndex(long cluster) {
        return cluster >>> blockBits;
    }

    long[] table() {
        return table;
    }

    boolean tableDirty() {
        return tableDirty;
    }

    void tableWritten() {
        tableDirty = false;
    }

    boolean hasBlock(long index) {
        return index < table.length && table[(int) index] != 0;
    }

    /** Makes the table hold at least {@code entries} entries (its new place is the caller's business). */
    void growTable(int entries) {
        if (entries > table.length) {
            table = Arrays.copyOf(table, entries);
            tableDirty = true;
        }
    }

    /** Places a new, empty block for index {@code index} at {@code host}. */
    void install(long index, long host) throws IOException {
        table[(int) index] = host;
        tableDirty = true;
        stale.clear((int) index);
        put((int) index, new Block(new char[1 << blockBits], true));
    }

    /** Forgets every count (for a rebuild): existing blocks keep their place but start from zeros. */
    void markAllStale() {
        cache.clear();
        for (int i = 0; i < table.length; i++) {
            if (table[i] != 0) {
                stale.set(i);
            }
        }
        tableDirty = true;
    }

    int get(long cluster) throws IOException {
        Block b = block(blockIndex(cluster));
        return b.counts[(int) (cluster & ((1L << blockBits) - 1))];
    }

    /** Adds {@code delta} to the count of host cluster {@code cluster}, whose block must exist. */
    void add(long cluster, int delta) throws IOException {
        Block b = block(blockIndex(cluster));
        int i = (int) (cluster & ((1L << blockBits) - 1));
        int v = b.counts[i] + delta;
        if (v < 0 || v > Character.MAX_VALUE) {
            throw new IllegalStateException("refcount of host cluster " + cluster + " would become " + v);
        }
        b.counts[i] = (char) v;
        b.dirty = true;
    }

    /** Adds {@code delta} to the counts of host clusters covering bytes {@code [offset, offset + length)}. */
    void addBytes(long offset, long length, int delta) throws IOException {
        for (long c = offset >>> clusterBits; c <= (offset + length - 1) >>> clusterBits; c++) {
            add(c, delta);
        }
    }

    /** Writes every changed block (at a flush), and blocks still stale since a rebuild as zeros. */
    void writeDirty() throws IOException {
        for (Map.Entry<Integer, Block> e : cache.entrySet()) {
            Block b = e.getValue();
            if (b.dirty) {
                store.write(table[e.getKey()], b.counts);
                b.dirty = false;
            }
        }
        if (!stale.isEmpty()) {
            char[] zeros = new char[1 << blockBits];
            for (int i = stale.nextSetBit(0); i >= 0; i = stale.nextSetBit(i + 1)) {
                store.write(table[i], zeros);
            }
            stale.clear();
        }
    }

    private Block block(long index) throws IOException {
        if (!hasBlock(index)) {
            throw new IllegalStateException("no refcount block for index " + index);
        }
        int i = (int) index;
        Block b = cache.get(i);
        if (b != null) {
            return b;
        }
        if (stale.get(i)) {
            stale.clear(i);
            b = new Block(new char[1 << blockBits], true);
        } else {
            b = new Block(store.load(table[i]), false);
        }
        put(i, b);
        return b;
    }

    private void put(int index, Block b) throws IOException {
        cache.put(index, b);
        while (cache.size() > maxCached) {
            var eldest = cache.entrySet().iterator().next();
            if (eldest.getValue().dirty) {
                store.evict(table[eldest.getKey()], eldest.getValue().counts);
            }
            cache.remove(eldest.getKey());
        }
    }
}
