package org.jv2v.image;

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
}
