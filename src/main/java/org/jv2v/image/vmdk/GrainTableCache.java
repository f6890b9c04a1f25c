package org.jv2v.image.vmdk;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The decoded grain tables of every sparse extent of one opened chain, least recently used first
 * out, within a byte budget: memory stays bounded whatever the disk size (a 2 TiB hosted disk has
 * 64k grain tables; a sequential copy needs one at a time).
 */
final class GrainTableCache {
    /**
     * 2 MiB of decoded tables: 512 hosted tables (16 GiB of disk at 64 KiB grains, eight of the
     * 64-table reads a scan makes) or 64 SEsparse/COWD tables. More only keeps tables alive long
     * enough to reach the JVM's old generation, which grows the heap instead of collecting it: a
     * 1 TiB disk copied with 32 MiB of tables peaked at 216 MiB resident, with 2 MiB at 100 MiB.
     */
    static final long BUDGET_BYTES = 2L << 20;

    private record Key(int extent, int table) {}

    private final Map<Key, long[]> tables = new LinkedHashMap<>(256, 0.75f, true);
    private final AtomicInteger ids = new AtomicInteger();
    private final long budget;
    private long used;

    GrainTableCache() {
        this(BUDGET_BYTES);
    }

    GrainTableCache(long budget) {
        this.budget = budget;
    }

    int newExtentId() {
        return ids.incrementAndGet();
    }

    synchronized long[] get(int extent, int table) {
        return tables.get(new Key(extent, table));
    }

    synchronized void put(int extent, int table, long[] entries) {
        if (tables.put(new Key(extent, table), entries) == null) {
            used += 8L * entries.length + 64;
        }
        var it = tables.entrySet().iterator();
        while (used > budget && it.hasNext()) {
            used -= 8L * it.next().getValue().length + 64;
            it.remove();
        }
    }

    synchronized void drop(int extent) {
        var it = tables.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            if (e.getKey().extent() == extent) {
                used -= 8L * e.getValue().length + 64;
                it.remove();
            }
        }
    }

    synchronized long usedBytes() {
        return used;
    }
}
