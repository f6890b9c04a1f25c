package org.jv2v.image.vmdk;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;

import java.nio.ByteBuffer;
import java.util.List;

/** A ZERO extent line: reads as zeros, stores nothing. */
record ZeroExtent(long size) implements VmdkExtent {

    @Override
    public void read(ByteBuffer dst, long offset, Below below) {
        Io.zero(dst);
    }

    @Override
    public void status(long offset, long length, long deviceStart, List<Extent> out, int maxRuns) {
        Extent.append(out, deviceStart + offset, length, ExtentType.ZERO);
    }

    @Override
    public void close() {}
}
