package org.jv2v.copy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongBinaryOperator;

/**
 * An immutable set of byte ranges of a device, kept sorted and merged: the copier's "these bytes
 * need not be copied" map (ranges no filesystem uses), built by inspection from each filesystem's
 * used ranges.
 */
public final class RangeSet {
    private static final RangeSet EMPTY = new RangeSet(new long[0], new long[0]);

    /** starts[i] &lt; ends[i] &lt; starts[i + 1]. */
    private final long[] starts;
    private final long[] ends;

    private RangeSet(long[] starts, long[] ends) {
        this.starts = starts;
        this.ends = ends;
    }

    public static RangeSet empty() {
        return EMPTY;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The set of {@code [offset, offset + length)}. */
    public static RangeSet of(long offset, long length) {
        return builder().add(offset, length).build();
    }

    public boolean isEmpty() {
        return starts.length == 0;
    }

    public int rangeCount() {
        return starts.length;
    }

    public long totalBytes() {
        long sum = 0;
        for (int i = 0; i < starts.length; i++) {
            sum += ends[i] - starts[i];
        }
        return sum;
    }

    /** The ranges as {@code [start, end)} pairs, in order. */
    public List<long[]> ranges() {
        List<long[]> out = new ArrayList<>(starts.length);
        for (int i = 0; i < starts.length; i++) {
            out.add(new long[] {starts[i], ends[i]});
        }
        return out;
    }

    /** True when every byte of {@code [offset, offset + length)} is in the set. */
    public boolean containsAll(long offset, long length) {
        if (length <= 0) {
            return true;
        }
        int i = indexAtOrAfter(offset);
        return i < starts.length && starts[i] <= offset && ends[i] >= offset + length;
    }

    /** True when the byte at {@code offset} is in the set. */
    public boolean contains(long offset) {
        return containsAll(offset, 1);
    }

    /**
     * Calls {@code action(start, end)} for each piece of {@code [from, to)} NOT in the set, in order.
     * (The copier reads only these pieces of a data extent.)
     */
    public void forEachGap(long from, long to, RangeConsumer action) throws java.io.IOException {
        long pos = from;
        for (int i = indexAtOrAfter(from); i < starts.length && starts[i] < to && pos < to; i++) {
            if (starts[i] > pos) {
                action.accept(pos, starts[i]);
            }
            pos = Math.max(pos, ends[i]);
        }
        if (pos < to) {
            action.accept(pos, to);
        }
    }

    /** Bytes of {@code [from, to)} that are in the set. */
    public long bytesWithin(long from, long to) {
        long sum = 0;
        for (int i = indexAtOrAfter(from); i < starts.length && starts[i] < to; i++) {
            sum += Math.min(ends[i], to) - Math.max(starts[i], from);
        }
        return sum;
    }

    /** Everything in {@code [from, to)} that is not in this set (e.g. "unused" from "used"). */
    public RangeSet complementWithin(long from, long to) {
        Builder b = builder();
        try {
            forEachGap(from, to, (s, e) -> b.add(s, e - s));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return b.build();
    }

    /** This set moved by {@code delta} bytes (a partition's ranges to whole-disk offsets). */
    public RangeSet shift(long delta) {
        return map((s, e) -> s + delta);
    }

    private RangeSet map(LongBinaryOperator f) {
        Builder b = builder();
        for (int i = 0; i < starts.length; i++) {
            b.add(f.applyAsLong(starts[i], ends[i]), ends[i] - starts[i]);
        }
        return b.build();
    }

    /** A stable digest of the set, for the copy journal (a changed map must not resume a copy). */
    String fingerprint() {
        try {
            var md = java.security.MessageDigest.getInstance("SHA-256");
            var b = java.nio.ByteBuffer.allocate(16);
            for (int i = 0; i < starts.length; i++) {
                md.update(b.clear().putLong(starts[i]).putLong(ends[i]).flip());
            }
            return starts.length + ":" + java.util.HexFormat.of().formatHex(md.digest(), 0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** The index of the first range whose end is after {@code offset}. */
    private int indexAtOrAfter(long offset) {
        int lo = 0;
        int hi = starts.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RangeSet r && Arrays.equals(starts, r.starts) && Arrays.equals(ends, r.ends);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(starts) * 31 + Arrays.hashCode(ends);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < starts.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(starts[i]).append('-').append(ends[i]);
        }
        return sb.append(']').toString();
    }

    @FunctionalInterface
    public interface RangeConsumer {
        void accept(long start, long end) throws java.io.IOException;
    }

    /** Collects ranges in any order, overlapping or not. */
    public static final class Builder {
        private final List<long[]> ranges = new ArrayList<>();

        public Builder add(long offset, long length) {
            if (offset < 0 || length < 0) {
                throw new IllegalArgumentException("bad range offset=" + offset + " length=" + length);
            }
            if (length > 0) {
                ranges.add(new long[] {offset, offset + length});
            }
            return this;
        }

        public RangeSet build() {
            if (ranges.isEmpty()) {
                return EMPTY;
            }
            ranges.sort((a, b) -> Long.compare(a[0], b[0]));
            long[] s = new long[ranges.size()];
            long[] e = new long[ranges.size()];
            int n = 0;
            for (long[] r : ranges) {
                if (n > 0 && r[0] <= e[n - 1]) {
                    e[n - 1] = Math.max(e[n - 1], r[1]);
                } else {
                    s[n] = r[0];
                    e[n] = r[1];
                    n++;
                }
            }
            return new RangeSet(Arrays.copyOf(s, n), Arrays.copyOf(e, n));
        }
    }
}
