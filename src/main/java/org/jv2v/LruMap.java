package org.jv2v;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A map that keeps at most {@code maxEntries}, dropping the least recently used (read or written)
 * entry beyond that: the bounded caches of metadata blocks, tables and inodes that the format
 * readers keep whatever the size of what they read. Not synchronized, like LinkedHashMap.
 */
public final class LruMap<K, V> extends LinkedHashMap<K, V> {
    private final int maxEntries;

    public LruMap(int maxEntries) {
        super(16, 0.75f, true);
        this.maxEntries = maxEntries;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > maxEntries;
    }
}
