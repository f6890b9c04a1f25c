package org.jv2v.image.raw;

import org.jv2v.BadInputException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.CreateOptions;
import org.jv2v.image.ImageFormat;
import org.jv2v.image.ImageWriter;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.Preallocation;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

/**
 * Raw images: the disk's bytes, nothing else. As a reader it is the fallback that accepts any file
 * (probe score 1, as in qemu); as a writer it makes sparse files whose holes are the disk's zeros.
 */
public final class RawFormat implements ImageFormat, ImageWriter {
    /** Zeros written per call when preallocating in full. */
    private static final int FULL_PREALLOCATION_CHUNK = 1 << 20;

    @Override
    public String name() {
        return "raw";
    }

    /** Anything can be a raw disk, so raw only wins when no other format recognises the file. */
    @Override
    public int probe(ByteBuffer head, Path file, long fileSize) {
        return 1;
    }

    @Override
    public OpenedImage open(Path file, OpenContext context) throws IOException {
        if (Files.isDirectory(file)) {
            throw BadInputException.inFile(file, "is a folder, not a disk image");
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            SparseFile sparse = SparseFile.open(file, false);
            BlockDevice dev = new RawDevice(file, ch, sparse, size, false, Preallocation.OFF, false);
            return new OpenedImage(name(), "", file, List.of(file), dev, Optional.empty());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    @Override
    public BlockDevice create(Path file, CreateOptions options) throws IOException {
        long size = options.virtualSize();
        // ftruncate gives the length without allocating (FileChannel can only shrink a file)
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(0);
            f.setLength(size);
        }
        BlockDevice dev = openWritable(file, options);
        try {
            switch (options.preallocation()) {
                case OFF, METADATA -> { } // raw has no metadata: both mean sparse
                case FALLOC -> {
                    try (SparseFile sf = SparseFile.open(file, true)) {
                        if (!sf.allocate(0, size)) {
                            writeZeros(file, size);
                        }
                    }
                }
                case FULL -> writeZeros(file, size);
            }
        } catch (IOException | RuntimeException e) {
            dev.close();
            throw e;
        }
        return dev;
    }

    @Override
    public BlockDevice reopen(Path file, CreateOptions options) throws IOException {
        long actual = Files.size(file);
        if (actual != options.virtualSize()) {
            throw BadInputException.inFile(file, "is " + actual + " bytes, not the " + options.virtualSize()
                    + " of the image being written");
        }
        return openWritable(file, options);
    }

    private static BlockDevice openWritable(Path file, CreateOptions options) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            SparseFile sparse = SparseFile.open(file, true);
            return new RawDevice(file, ch, sparse, options.virtualSize(), true, options.preallocation(),
                    options.durable());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static void writeZeros(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocateDirect(FULL_PREALLOCATION_CHUNK);
            long pos = 0;
            while (pos < size) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - pos));
                while (zeros.hasRemaining()) {
                    pos += ch.write(zeros, pos);
                }
            }
        }
    }
}
