package org.jv2v.image.vhd;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;

import java.util.ArrayList;
import java.util.List;

/** Collects contiguous extents, merging neighbours of the same type. */
final class ExtentList {
    private final List<Extent> extents = new ArrayList<>();

    void add(long offset, long length, ExtentType type) {
        if (length <= 0) {
            return;
        }
        if (!extents.isEmpty()) {
            Extent last = extents.getLast();
            if (last.end() != offset) {
                throw new IllegalStateException("gap in extents at " + offset + " after " + last);
            }
            if (last.type() == type) {
                extents.set(extents.size() - 1, new Extent(last.offset(), last.length() + length, type));
                return;
            }
        }
        extents.add(new Extent(offset, length, type));
    }

    void addAll(List<Extent> more) {
        for (Extent e : more) {
            add(e.offset(), e.length(), e.type());
        }
    }

    int size() {
        return extents.size();
    }

    long end(long start) {
        return extents.isEmpty() ? start : extents.getLast().end();
    }

    List<Extent> toList() {
        return List.copyOf(extents);
    }
}
