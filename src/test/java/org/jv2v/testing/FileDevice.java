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

/** A raw image file as a read-only {@link BlockDevice}, for tests of what lies on top of disks. */
public final class FileDevice implements BlockDevice {
    private final Path file;
    private final FileChannel channel;
    private final long size;

    private FileDevice(Path file) throws IOException {
        this.file = file;
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
        this.size = channel.size();
    }

    public static FileDevice open(Path file) throws IOException {
        return new FileDevice(file);
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
