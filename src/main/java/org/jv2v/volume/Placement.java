package org.jv2v.volume;

import org.jv2v.image.BlockDevice;

/** Where a piece of a volume lies: {@code [offset, offset + length)} of {@code disk}. */
public record Placement(BlockDevice disk, long offset, long length) {
    public long end() {
        return offset + length;
    }
}
