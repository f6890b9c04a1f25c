package org.jv2v.fs.ntfs;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** A raw image file as a read-only block device (opened READ only: the source is sacred). */
public final class ImageDevice implements BlockDevice {
    private final FileChannel ch;
    private final Path file;
    private final long size;

    public ImageDevice(Path file) throws IOException {
        this.file = file;
        this.ch = FileChannel.open(file, StandardOpenOption.READ);
        this.size = ch.size();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        if (offset < 0 || dst.remaining() > size - offset) {
            throw new IllegalArgumentException(file + ": read [" + offset + ", +" + dst.remaining() + ") past " + size);
        }
        while (dst.hasRemaining()) {
            int n = ch.read(dst, offset);
            if (n < 0) {
                throw new IOException(file + ": short read at " + offset);
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
        ch.close();
    }
}
