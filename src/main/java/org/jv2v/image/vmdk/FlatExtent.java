package org.jv2v.image.vmdk;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.raw.SparseFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

/**
 * FLAT and VMFS extents: the bytes as they are, from {@code start} in a file. Holes in the file
 * (a thin flat disk copied to a local file system) read as ZERO, found with SEEK_DATA/SEEK_HOLE
 * as qemu's file driver does, so a copy neither reads nor writes them.
 */
final class FlatExtent implements VmdkExtent {
    private final Path file;
    private final FileChannel channel;
    private final SparseFile holes;
    private final long start;
    private final long size;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    FlatExtent(Path file, FileChannel channel, long start, long size) throws IOException {
        this.file = file;
        this.channel = channel;
        this.start = start;
        this.size = size;
        this.holes = SparseFile.open(file, false);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(ByteBuffer dst, long offset, Below below) throws IOException {
        Io.readFully(channel, dst, start + offset, file, "flat extent data");
    }

    @Override
    public void status(long offset, long length, long deviceStart, List<Extent> out, int maxRuns) throws IOException {
        long pos = offset;
        long end = offset + length;
        while (pos < end && out.size() < maxRuns) {
            List<Extent> runs = holes.dataExtents(start + pos, end - pos, start + size);
            if (runs.isEmpty()) {
                break;
            }
            for (Extent e : runs) {
                Extent.append(out, deviceStart + e.offset() - start, e.length(), e.type());
            }
            pos = runs.getLast().end() - start;
        }
        if (pos < end && out.isEmpty()) {
            Extent.append(out, deviceStart + pos, end - pos, ExtentType.DATA);
        }
    }

    /** Idempotent: the descriptor's fd must not be closed twice (the number may be reused by then). */
    @Override
    public void close() throws IOException {
        if (closed.getAndSet(true)) {
            return;
        }
        try {
            holes.close();
        } finally {
            channel.close();
        }
    }
}
