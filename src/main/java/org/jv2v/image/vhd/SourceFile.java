package org.jv2v.image.vhd;

import org.jv2v.BadInputException;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An image file opened read-only at the OS level, with reads that name what they were after. */
final class SourceFile implements Closeable {
    private final Path path;
    private final FileChannel channel;
    private final long size;

    private SourceFile(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    static SourceFile open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw BadInputException.inFile(path, "is a folder, not a disk image");
        }
        try {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            return new SourceFile(path, ch, ch.size());
        } catch (NoSuchFileException e) {
            throw BadInputException.inFile(path, "no such file");
        }
    }

    Path path() {
        return path;
    }

    long size() {
        return size;
    }

    /** Reads a header structure: a file too short for it is bad input naming the structure. */
    ByteBuffer readStruct(long offset, int length, String field) throws IOException {
        if (offset < 0 || offset > size || length > size - offset) {
            throw BadInputException.atOffset(path, field, offset, length + " bytes needed but the file ends at 0x"
                    + Long.toHexString(size) + " (truncated?)");
        }
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.BIG_ENDIAN);
        readData(b, offset);
        return b.flip();
    }

    /** Fills {@code dst} from {@code offset}; the file ending early is an I/O error naming it. */
    void readData(ByteBuffer dst, long offset) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new IOException(path + ": unexpected end of file at offset 0x" + Long.toHexString(pos)
                        + " (the file shrank while open?)");
            }
            pos += n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
