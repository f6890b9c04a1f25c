package org.jv2v.testing;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A raw image file as a {@link BlockDevice}, for tests of what lies on top of disks: read-only, or
 * writable (for filesystem edits, always on a copy made by the test).
 */
public final class FileDevice implements BlockDevice {
    private final Path file;
    private final FileChannel channel;
    private final long size;
    private final boolean writable;

    private FileDevice(Path file, boolean writable) throws IOException {
        this.file = file;
        this.writable = writable;
        this.channel = writable ? FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(file, StandardOpenOption.READ);
        this.size = channel.size();
    }

    public static FileDevice open(Path file) throws IOException {
        return new FileDevice(file, false);
    }

    /** Opens for reading and writing, within the file's current size. */
    public static FileDevice openWritable(Path file) throws IOException {
        return new FileDevice(file, true);
    }

    @Override
    public boolean isWritable() {
        return writable;
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        if (!writable) {
            throw new IOException(file + ": device is read-only");
        }
        if (offset < 0 || offset > size || src.remaining() > size - offset) {
            throw new IllegalArgumentException(file + ": write [" + offset + ", +" + src.remaining() + ") past " + size);
        }
        while (src.hasRemaining()) {
            offset += channel.write(src, offset);
        }
    }

    @Override
    public void flush() throws IOException {
        if (writable) {
            channel.force(false);
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        if (offset < 0 || offset > size || dst.remaining() > size - offset) {
            throw new IllegalArgumentException(file + ": read [" + offset + ", +" + dst.remaining() + ") past " + size);
        }
        while (dst.hasRemaining()) {
            int n = channel.read(dst, offset);
            if (n < 0) {
                throw new EOFException(file + ": short file");
            }
            offset += n;
        }
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) {
        return List.of(new Extent(offset, Math.min(length, size - offset), ExtentType.DATA));
    }

    @Override
    public String describe() {
        return file.toString();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
