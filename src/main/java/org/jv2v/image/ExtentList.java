package org.jv2v.image;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a device's block status front to back: runs must follow each other without a gap (a gap
 * is a bug in the caller's walk), neighbours of the same type are merged.
 */
public final class ExtentList {
    private final List<Extent> extents = new ArrayList<>();

    public void add(long offset, long length, ExtentType type) {
        if (length > 0 && !extents.isEmpty() && extents.getLast().end() != offset) {
            throw new IllegalStateException("gap in extents at " + offset + " after " + extents.getLast());
        }
        Extent.append(extents, offset, length, type);
    }

    /** Adds {@code below}'s block status over {@code [from, to)}, see {@link Extent#appendStatusOf}. */
    public void addStatusOf(BlockDevice below, long from, long to) throws IOException {
        if (from < to && !extents.isEmpty() && extents.getLast().end() != from) {
            throw new IllegalStateException("gap in extents at " + from + " after " + extents.getLast());
        }
        Extent.appendStatusOf(extents, below, from, to);
    }

    public void addAll(List<Extent> more) {
        for (Extent e : more) {
            add(e.offset(), e.length(), e.type());
        }
    }

    public int size() {
        return extents.size();
    }

    /** Where the collected runs end, or {@code start} when there are none yet. */
    public long end(long start) {
        return extents.isEmpty() ? start : extents.getLast().end();
    }

    public List<Extent> toList() {
        return List.copyOf(extents);
    }
}
