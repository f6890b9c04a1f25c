package org.jv2v.copy;

import java.util.concurrent.atomic.AtomicLongArray;

/** A fixed-size bit set that threads may set concurrently. */
final class AtomicBits {
    private final AtomicLongArray words;
    private final long size;

    AtomicBits(long size) {
        if (size < 0 || (size + 63) / 64 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bit set too large: " + size);
        }
        this.size = size;
        this.words = new AtomicLongArray((int) ((size + 63) / 64));
    }

    long size() {
        return size;
    }

    boolean get(long i) {
        return (words.get((int) (i >>> 6)) & (1L << i)) != 0;
    }

    void set(long i) {
        int w = (int) (i >>> 6);
        long bit = 1L << i;
        long old;
        do {
            old = words.get(w);
        } while ((old & bit) == 0 && !words.compareAndSet(w, old, old | bit));
    }

    long cardinality() {
        long n = 0;
        for (int i = 0; i < words.length(); i++) {
            n += Long.bitCount(words.get(i));
        }
        return n;
    }

    /** A consistent-enough copy: every bit set before the call is in it. */
    AtomicBits snapshot() {
        AtomicBits copy = new AtomicBits(size);
        for (int i = 0; i < words.length(); i++) {
            copy.words.set(i, words.get(i));
        }
        return copy;
    }
}
