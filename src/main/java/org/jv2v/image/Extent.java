package org.jv2v.image;

import java.io.IOException;
import java.util.List;

/** A run of bytes {@code [offset, offset + length)} of one {@link ExtentType}. */
public record Extent(long offset, long length, ExtentType type) {
    public Extent {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("bad extent offset=" + offset + " length=" + length);
        }
    }

    public long end() {
        return offset + length;
    }

    /**
     * Appends the run {@code [offset, offset + length)} to {@code out}, merging it into the last
     * extent when they touch and have the same type, so block status stays as short as the layout
     * allows. Empty runs are dropped.
     */
    public static void append(List<Extent> out, long offset, long length, ExtentType type) {
        if (length <= 0) {
            return;
        }
        if (!out.isEmpty()) {
            Extent last = out.getLast();
            if (last.type() == type && last.end() == offset) {
                out.set(out.size() - 1, new Extent(last.offset(), last.length() + length, type));
                return;
            }
        }
        out.add(new Extent(offset, length, type));
    }

    /**
     * Appends what {@code below} (a backing file, a parent layer, an overlay's base; may be null)
     * holds over {@code [from, to)}: its block status, clipped to the range, and
     * {@link ExtentType#UNALLOCATED} past its end, as a shorter parent reads as zeros.
     */
    public static void appendStatusOf(List<Extent> out, BlockDevice below, long from, long to) throws IOException {
        long covered = below == null ? from : Math.max(from, Math.min(to, below.size()));
        long p = from;
        while (p < covered) {
            List<Extent> part = below.blockStatus(p, covered - p);
            if (part.isEmpty() || part.getLast().end() <= p) {
                throw new IOException(below.describe() + ": block status made no progress at offset " + p);
            }
            for (Extent e : part) {
                long s = Math.max(p, e.offset());
                append(out, s, Math.min(covered, e.end()) - s, e.type());
            }
            p = Math.min(covered, part.getLast().end());
        }
        append(out, covered, to - covered, ExtentType.UNALLOCATED);
    }
}
