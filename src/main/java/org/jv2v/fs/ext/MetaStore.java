package org.jv2v.fs.ext;

import org.jv2v.LruMap;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The metadata blocks one edit reads and changes. Changed blocks stay in memory until
 * {@link #commit}, so an edit that fails half way (a corrupt structure found late, no space left)
 * leaves the device as it was; {@link #discard} forgets them. File data is written straight to
 * newly allocated blocks, which nothing references until the commit.
 */
final class MetaStore {
    /** Unchanged blocks kept for re-reading (bitmaps, descriptor blocks, directory blocks). */
    static final int CLEAN_CACHE_BLOCKS = 512;

    private final BlockDevice dev;
    private final int bs;
    private final Map<Long, byte[]> dirty = new LinkedHashMap<>();
    /** Ranges {first, count} this edit wrote file data to. */
    private final java.util.List<long[]> dataWritten = new java.util.ArrayList<>();
    private final Map<Long, byte[]> clean = new LruMap<>(CLEAN_CACHE_BLOCKS);

    MetaStore(BlockDevice dev, int blockSize) {
        this.dev = dev;
        this.bs = blockSize;
    }

    /** Block {@code n} as this edit sees it; the caller must not change the array (use {@link #edit}). */
    byte[] read(long n) throws IOException {
        byte[] b = dirty.get(n);
        if (b == null) {
            b = clean.get(n);
        }
        if (b == null) {
            b = new byte[bs];
            dev.read(ByteBuffer.wrap(b), n * bs);
            clean.put(n, b);
        }
        return b;
    }

    /** Block {@code n} to change: the edit's own copy, written at commit. */
    byte[] edit(long n) throws IOException {
        byte[] b = dirty.get(n);
        if (b == null) {
            b = read(n).clone();
            dirty.put(n, b);
        }
        return b;
    }

    /** Gives block {@code n} entirely new content (a newly allocated metadata block). */
    void replace(long n, byte[] content) {
        if (content.length != bs) {
            throw new IllegalArgumentException("block of " + content.length + " bytes");
        }
        dirty.put(n, content);
    }

    boolean isDirty(long n) {
        return dirty.containsKey(n);
    }

    /** Drops any copy of blocks {@code [first, first + count)}: they were freed, or now hold file data. */
    void forget(long first, long count) {
        if (count > dirty.size() + clean.size()) {
            dirty.keySet().removeIf(k -> k >= first && k < first + count);
            clean.keySet().removeIf(k -> k >= first && k < first + count);
        } else {
            for (long n = first; n < first + count; n++) {
                dirty.remove(n);
                clean.remove(n);
            }
        }
    }

    /**
     * Writes {@code len} bytes of file data to the device from block {@code first} on, the last
     * block padded with zeros (what a reader sees past the end of the file).
     */
    void writeData(long first, byte[] src, int off, int len) throws IOException {
        long blocks = (len + (long) bs - 1) / bs;
        forget(first, blocks);
        dataWritten.add(new long[] {first, blocks});
        int whole = (len / bs) * bs;
        if (whole > 0) {
            dev.write(ByteBuffer.wrap(src, off, whole), first * bs);
        }
        if (whole < len) {
            byte[] tail = new byte[bs];
            System.arraycopy(src, off + whole, tail, 0, len - whole);
            dev.write(ByteBuffer.wrap(tail), (first + whole / bs) * bs);
        }
    }

    /** Writes every changed block to the device; returns the ranges {first, count} the edit changed. */
    java.util.List<long[]> commit() throws IOException {
        java.util.List<long[]> changed = new java.util.ArrayList<>(dataWritten);
        for (Iterator<Map.Entry<Long, byte[]>> it = dirty.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, byte[]> e = it.next();
            dev.write(ByteBuffer.wrap(e.getValue()), e.getKey() * bs);
            clean.put(e.getKey(), e.getValue());
            changed.add(new long[] {e.getKey(), 1});
            it.remove();
        }
        dataWritten.clear();
        return changed;
    }

    /** Forgets every change of the edit under way (file data already written stays in blocks still free). */
    void discard() {
        dirty.clear();
        dataWritten.clear();
    }
}
