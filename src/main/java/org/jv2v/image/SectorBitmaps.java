package org.jv2v.image;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sector bitmaps of one VHD or VHDX layer: per data block, one bit a sector saying whether this
 * layer holds the sector (else it reads from the parent, or as zeros). Keeps the recently used
 * bitmaps (a bounded number, whatever the disk size) and walks a block as runs of sectors with the
 * same bit, skipping whole bytes of equal bits.
 */
public final class SectorBitmaps {
    /** Which bit of a byte stands for its first sector. */
    public enum BitOrder {
        /** VHD: sector 0 is the most significant bit of byte 0. */
        MSB_FIRST,
        /** VHDX: sector 0 is bit 0 of byte 0. */
        LSB_FIRST
    }

    /** Reads the bitmap of one block from the file. */
    @FunctionalInterface
    public interface Loader {
        byte[] load() throws IOException;
    }

    /** Receives one run {@code [from, to)} (bytes within the block) whose sectors this layer holds or not. */
    @FunctionalInterface
    public interface RunAction {
        void run(long from, long to, boolean present) throws IOException;
    }

    private final int sectorSize;
    private final int sectorsPerBlock;
    private final BitOrder order;
    private final Map<Long, byte[]> cache;

    /**
     * @param blockSize  bytes of a data block
     * @param sectorSize bytes a bit stands for
     * @param cached     how many blocks' bitmaps to keep in memory
     */
    public SectorBitmaps(long blockSize, int sectorSize, BitOrder order, int cached) {
        this.sectorSize = sectorSize;
        this.sectorsPerBlock = (int) (blockSize / sectorSize);
        this.order = order;
        this.cache = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
                return size() > cached;
            }
        };
    }

    /** The bitmap of {@code block}, from memory or else from {@code loader}. */
    public byte[] get(long block, Loader loader) throws IOException {
        synchronized (cache) {
            byte[] b = cache.get(block);
            if (b != null) {
                return b;
            }
        }
        byte[] b = loader.load();
        synchronized (cache) {
            cache.put(block, b);
        }
        return b;
    }

    /** Calls {@code action} for each run of equal bits covering {@code [from, to)}, bytes within the block. */
    public void forEachRun(byte[] bitmap, long from, long to, RunAction action) throws IOException {
        long p = from;
        while (p < to) {
            int sector = (int) (p / sectorSize);
            boolean present = isSet(bitmap, sector);
            long runEnd = Math.min(to, runEnd(bitmap, sector, present, to));
            action.run(p, runEnd, present);
            p = runEnd;
        }
    }

    /** The end (within the block) of the run of sectors from {@code sector} sharing its bit. */
    private long runEnd(byte[] bitmap, int sector, boolean present, long limit) {
        int s = sector + 1;
        byte same = present ? (byte) 0xff : 0;
        while (s < sectorsPerBlock && (long) s * sectorSize < limit) {
            if ((s & 7) == 0 && s + 8 <= sectorsPerBlock && bitmap[s >>> 3] == same) {
                s += 8; // a whole byte of the same bit
                continue;
            }
            if (isSet(bitmap, s) != present) {
                break;
            }
            s++;
        }
        return (long) s * sectorSize;
    }

    private boolean isSet(byte[] bitmap, int sector) {
        int bit = order == BitOrder.MSB_FIRST ? 0x80 >>> (sector & 7) : 1 << (sector & 7);
        return (bitmap[sector >>> 3] & bit) != 0;
    }
}
