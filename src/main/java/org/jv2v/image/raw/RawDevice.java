package org.jv2v.image.raw;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.Preallocation;
import org.jv2v.image.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

/**
 * A raw file as a device: byte {@code i} of the disk is byte {@code i} of the file. Reads and writes
 * are positional (pread/pwrite), so threads may share it. Block status comes from the file's holes
 * (SEEK_DATA/SEEK_HOLE); a writable one keeps the file sparse: zero blocks inside a write become
 * holes instead of written zeros (unless the file was preallocated, then they stay allocated).
 */
final class RawDevice implements BlockDevice {
    private static final int ZERO_BLOCK = Zeros.BLOCK;
    private static final int ZERO_CHUNK = 1 << 20;

    private final Path file;
    private final FileChannel channel;
    private final SparseFile sparse;
    private final long size;
    private final boolean writable;
    private final Preallocation preallocation;
    /** flush() fsyncs (see CreateOptions.durable). */
    private final boolean durable;

    RawDevice(Path file, FileChannel channel, SparseFile sparse, long size, boolean writable,
              Preallocation preallocation, boolean durable) {
        this.durable = durable;
        this.file = file;
        this.channel = channel;
        this.sparse = sparse;
        this.size = size;
        this.writable = writable;
        this.preallocation = preallocation;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        checkAccess(offset, dst.remaining());
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new IOException(file + ": file ends at offset " + pos + ", inside the disk's "
                        + size + " bytes (was it truncated while open?)");
            }
            pos += n;
        }
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) throws IOException {
        checkAccess(offset, 0);
        long len = Math.min(length, size - offset);
        if (len <= 0) {
            throw new IllegalArgumentException(describe() + ": block status of an empty range at " + offset);
        }
        return sparse.dataExtents(offset, len, size);
    }

    @Override
    public String describe() {
        return file + " (raw)";
    }

    @Override
    public boolean isWritable() {
        return writable;
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        if (!writable) {
            throw new IOException(describe() + ": device is read-only");
        }
        checkAccess(offset, src.remaining());
        // Walk the buffer in pieces aligned to the file's ZERO_BLOCKs: whole zero blocks become
        // holes (or allocated zeros when preallocated), everything else is written as it comes.
        ByteBuffer buf = src.duplicate();
        int base = buf.position();
        int limit = buf.limit();
        int runStart = base;
        boolean runZero = false;
        int i = base;
        while (i < limit) {
            long pos = offset + (i - base);
            int next = (int) Math.min(limit, i + (ZERO_BLOCK - pos % ZERO_BLOCK));
            boolean zero = next - i == ZERO_BLOCK && Zeros.isZero(buf, i, i + ZERO_BLOCK);
            if (i > runStart && zero != runZero) {
                emit(buf, runStart, i, offset + (runStart - base), runZero);
                runStart = i;
            }
            runZero = zero;
            i = next;
        }
        if (limit > runStart) {
            emit(buf, runStart, limit, offset + (runStart - base), runZero);
        }
        src.position(limit);
    }

    private void emit(ByteBuffer buf, int from, int to, long pos, boolean zero) throws IOException {
        if (zero) {
            writeZeroes(pos, to - from);
        } else {
            writeFully(buf.slice(from, to - from), pos);
        }
    }

    private void writeFully(ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            pos += channel.write(buf, pos);
        }
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        if (!writable) {
            throw new IOException(describe() + ": device is read-only");
        }
        checkAccess(offset, length);
        if (length == 0) {
            return;
        }
        boolean done = switch (preallocation) {
            case OFF, METADATA -> sparse.punchHole(offset, length);
            case FALLOC -> sparse.zeroRange(offset, length);
            case FULL -> false;
        };
        if (!done) {
            long pos = offset;
            while (pos < offset + length) {
                int n = (int) Math.min(ZERO_CHUNK, offset + length - pos);
                writeFully(Zeros.of(n), pos);
                pos += n;
            }
        }
    }

    @Override
    public void flush() throws IOException {
        if (writable && durable) {
            channel.force(false);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            sparse.close();
        }
    }
}
