package org.jv2v.image;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A disk as a flat array of bytes: the one abstraction everything that moves bytes speaks
 * (image formats, the overlay, partitions and logical volumes, the copier).
 *
 * <p>Reads are positional and must be safe to call from several threads at once. A device that
 * is not writable rejects writes.
 */
public interface BlockDevice extends Closeable {

    /** Virtual size in bytes. */
    long size();

    /**
     * Fills {@code dst} (all of its remaining bytes) from {@code offset}. The range must lie within
     * {@link #size()}; a read past the end is an {@link IllegalArgumentException}, a short
     * underlying file is an {@link IOException} naming the file.
     */
    void read(ByteBuffer dst, long offset) throws IOException;

    /**
     * Describes {@code [offset, offset + length)} (clamped to the size): a non-empty list of
     * extents, the first starting at {@code offset}, contiguous, adjacent ones of different types.
     * It may stop short of {@code offset + length} (callers loop); it never ends inside a byte that
     * it has not described.
     */
    List<Extent> blockStatus(long offset, long length) throws IOException;

    /** A short name for messages: usually the file's path and its format. */
    String describe();

    /**
     * The check every access makes first: {@code [offset, offset + length)} must lie within
     * {@link #size()}, else an {@link IllegalArgumentException} naming the device.
     */
    default void checkAccess(long offset, long length) {
        long size = size();
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw new IllegalArgumentException(describe() + ": access [" + offset + ", +" + length
                    + ") outside size " + size);
        }
    }

    default boolean isWritable() {
        return false;
    }

    /** Writes all remaining bytes of {@code src} at {@code offset} (within {@link #size()}). */
    default void write(ByteBuffer src, long offset) throws IOException {
        throw new IOException(describe() + ": device is read-only");
    }

    /** Makes {@code [offset, offset + length)} read as zeros, deallocating where the format can. */
    default void writeZeroes(long offset, long length) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        long done = 0;
        while (done < length) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), length - done));
            write(zeros, offset + done);
            done += zeros.limit();
        }
    }

    /** Makes every write so far durable. */
    default void flush() throws IOException {}
}
