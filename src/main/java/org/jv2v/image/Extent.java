package org.jv2v.image;

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
}
