package org.jv2v.image.vhdx;

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
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A VHDX file opened read-only at the OS level, seen through its replayed log: the pages and
 * zeroed ranges the log would have written lie over the file's bytes in memory, and the file is
 * never written.
 */
final class VhdxFile implements Closeable {
    static final int PAGE = 4096;

    private final Path path;
    private final FileChannel channel;
    private final long fileSize;
    private long viewSize;
    private NavigableMap<Long, byte[]> pages = new TreeMap<>();
    private NavigableMap<Long, Long> zeros = new TreeMap<>();

    private VhdxFile(Path path, FileChannel channel, long fileSize) {
        this.path = path;
        this.channel = channel;
        this.fileSize = fileSize;
        this.viewSize = fileSize;
    }

    static VhdxFile open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw BadInputException.inFile(path, "is a folder, not a disk image");
        }
        try {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            return new VhdxFile(path, ch, ch.size());
        } catch (NoSuchFileException e) {
            throw BadInputException.inFile(path, "no such file");
        }
    }

    Path path() {
        return path;
    }

    long fileSize() {
        return fileSize;
    }

    /** The file's size once the log is replayed (the log may extend it). */
    long size() {
        return viewSize;
    }

    boolean replayed() {
        return !pages.isEmpty() || !zeros.isEmpty() || viewSize != fileSize;
    }

    /** Lays a replayed log over the file (called once, while opening). */
    void overlay(NavigableMap<Long, byte[]> replayedPages, NavigableMap<Long, Long> zeroedRanges, long size) {
        this.pages = replayedPages;
        this.zeros = zeroedRanges;
        this.viewSize = Math.max(fileSize, size);
    }

    /** Reads a structure, little-endian; one that does not fit in the file is bad input. */
    ByteBuffer readStruct(long offset, int length, String field) throws IOException {
        if (offset < 0 || offset > viewSize || length > viewSize - offset) {
            throw BadInputException.atOffset(path, field, offset, length + " bytes needed but the file ends at 0x"
                    + Long.toHexString(viewSize) + " (truncated?)");
        }
        ByteBuffer b = ByteBuffer.allocate(length);
        readData(b, offset);
        return b.flip().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Fills {@code dst} from {@code offset} of the replayed view. */
    void readData(ByteBuffer dst, long offset) throws IOException {
        int start = dst.position();
        long end = offset + dst.remaining();
        if (end > viewSize) {
            throw new IOException(path + ": read [0x" + Long.toHexString(offset) + ", 0x" + Long.toHexString(end)
                    + ") past the end 0x" + Long.toHexString(viewSize));
        }
        long fromFile = Math.max(0, Math.min(end, fileSize) - offset);
        ByteBuffer part = dst.slice(start, (int) fromFile);
        long pos = offset;
        while (part.hasRemaining()) {
            int n = channel.read(part, pos);
            if (n < 0) {
                throw new IOException(path + ": unexpected end of file at offset 0x" + Long.toHexString(pos)
                        + " (the file shrank while open?)");
            }
            pos += n;
        }
        for (int i = start + (int) fromFile; i < dst.limit(); i++) {
            dst.put(i, (byte) 0);
        }
        if (!zeros.isEmpty()) {
            Map.Entry<Long, Long> first = zeros.floorEntry(offset);
            long from = first != null ? first.getKey() : offset;
            for (Map.Entry<Long, Long> z : zeros.subMap(from, true, end, false).entrySet()) {
                long s = Math.max(z.getKey(), offset);
                long t = Math.min(z.getValue(), end);
                for (long i = s; i < t; i++) {
                    dst.put(start + (int) (i - offset), (byte) 0);
                }
            }
        }
        if (!pages.isEmpty()) {
            long from = offset / PAGE * PAGE;
            for (Map.Entry<Long, byte[]> p : pages.subMap(from, true, end, false).entrySet()) {
                long s = Math.max(p.getKey(), offset);
                long t = Math.min(p.getKey() + PAGE, end);
                if (t > s) {
                    dst.put(start + (int) (s - offset), p.getValue(), (int) (s - p.getKey()), (int) (t - s));
                }
            }
        }
        dst.position(dst.limit());
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
