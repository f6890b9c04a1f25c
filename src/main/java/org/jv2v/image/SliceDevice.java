package org.jv2v.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A window {@code [start, start + length)} of another device: a partition, or a part of a logical
 * volume. Closing a slice does not close its base.
 */
public final class SliceDevice implements BlockDevice {
    private final BlockDevice base;
    private final long start;
    private final long length;
    private final String name;

    public SliceDevice(BlockDevice base, long start, long length, String name) {
        if (start < 0 || length < 0 || start > base.size() || length > base.size() - start) {
            throw new IllegalArgumentException(name + ": slice [" + start + ", +" + length + ") outside "
                    + base.describe() + " of size " + base.size());
        }
        this.base = base;
        this.start = start;
        this.length = length;
        this.name = name;
    }

    public long start() {
        return start;
    }

    public BlockDevice base() {
        return base;
    }

    @Override
    public long size() {
        return length;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        checkAccess(offset, dst.remaining());
        base.read(dst, start + offset);
    }

    @Override
    public List<Extent> blockStatus(long offset, long len) throws IOException {
        long end = Math.min(length, offset + len);
        checkAccess(offset, end - offset);
        List<Extent> out = new ArrayList<>();
        for (Extent e : base.blockStatus(start + offset, end - offset)) {
            long s = Math.max(e.offset(), start + offset) - start;
            long t = Math.min(e.end(), start + end) - start;
            if (t > s) {
                out.add(new Extent(s, t - s, e.type()));
            }
        }
        return out;
    }

    @Override
    public String describe() {
        return name;
    }

    @Override
    public boolean isWritable() {
        return base.isWritable();
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        checkAccess(offset, src.remaining());
        base.write(src, start + offset);
    }

    @Override
    public void writeZeroes(long offset, long len) throws IOException {
        checkAccess(offset, len);
        base.writeZeroes(start + offset, len);
    }

    @Override
    public void flush() throws IOException {
        base.flush();
    }

    @Override
    public void close() {
        // the base belongs to whoever opened it
    }
}
