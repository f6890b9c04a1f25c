package org.jv2v.image.vhdx;

import org.jv2v.LruMap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * The block allocation table, read in pages on demand: a 64 TiB disk in 1 MiB blocks has a
 * 512 MiB BAT, which must not sit in memory whole.
 */
final class VhdxBat {
    /** 64 KiB pages. */
    static final int PAGE_ENTRIES = 8192;
    /** 16 MiB of pages at most, whatever the disk size: plenty for sequential copies. */
    static final int CACHED_PAGES = 256;

    static final int PAYLOAD_NOT_PRESENT = 0;
    static final int PAYLOAD_UNDEFINED = 1;
    static final int PAYLOAD_ZERO = 2;
    static final int PAYLOAD_UNMAPPED = 3;
    /** The value of UNMAPPED in the 0.95 draft, still found in old files (qemu reads it as zeros too). */
    static final int PAYLOAD_UNMAPPED_V095 = 5;
    static final int PAYLOAD_FULLY_PRESENT = 6;
    static final int PAYLOAD_PARTIALLY_PRESENT = 7;
    static final int SB_NOT_PRESENT = 0;
    static final int SB_PRESENT = 6;

    private final VhdxFile file;
    private final long offset;
    private final long entries;
    private final Map<Long, long[]> pages = new LruMap<>(CACHED_PAGES);

    VhdxBat(VhdxFile file, long offset, long entries) {
        this.file = file;
        this.offset = offset;
        this.entries = entries;
    }

    long offset() {
        return offset;
    }

    long entries() {
        return entries;
    }

    /** File offset of entry {@code index}, for messages. */
    long entryOffset(long index) {
        return offset + index * 8;
    }

    long get(long index) throws IOException {
        if (index < 0 || index >= entries) {
            throw new IllegalArgumentException("BAT index " + index + " outside " + entries + " entries");
        }
        long page = index / PAGE_ENTRIES;
        long[] p;
        synchronized (pages) {
            p = pages.get(page);
        }
        if (p == null) {
            p = load(page);
            synchronized (pages) {
                pages.put(page, p);
            }
        }
        return p[(int) (index % PAGE_ENTRIES)];
    }

    private long[] load(long page) throws IOException {
        long first = page * PAGE_ENTRIES;
        int n = (int) Math.min(PAGE_ENTRIES, entries - first);
        ByteBuffer b = file.readStruct(entryOffset(first), n * 8, "BAT");
        long[] out = new long[n];
        b.asLongBuffer().get(out);
        return out;
    }

    static int state(long entry) {
        return (int) (entry & 7);
    }

    /** Bits 20..63: the offset in MiB. */
    static long fileOffset(long entry) {
        return (entry >>> 20) * Structs.MIB;
    }
}
