package org.jv2v.image.vmdk;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

/** FLAT and VMFS extents: the bytes as they are, from {@code start} in a file. */
final class FlatExtent implements VmdkExtent {
    private final Path file;
    private final FileChannel channel;
    private final long start;
    private final long size;

    FlatExtent(Path file, FileChannel channel, long start, long size) {
        this.file = file;
        this.channel = channel;
        this.start = start;
        this.size = size;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(ByteBuffer dst, long offset, Below below) throws IOException {
        Io.readFully(channel, dst, start + offset, file, "flat extent data");
    }

    /** Flat data may hold anything; finding holes in the file would need SEEK_DATA, which Java lacks. */
    @Override
    public void status(long offset, long length, long deviceStart, List<Extent> out, int maxRuns) {
        Extent.append(out, deviceStart + offset, length, ExtentType.DATA);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
