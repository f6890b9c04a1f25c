package org.jv2v.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A writable copy-on-write view of a read-only base device: every write lands in a temporary file,
 * reads see the base with the writes on top (at byte granularity), and block status stays exact
 * (the overlay's own clusters are DATA or ZERO, the rest is whatever the base says).
 *
 * <p>The overlay records changes in {@value #CLUSTER_SIZE}-byte clusters: a write that covers part
 * of a cluster copies the rest of that cluster from the base first. The temporary file is created
 * owner-only and unlinked right after it is opened (POSIX), so it disappears even if the JVM is
 * killed; where unlinking an open file is impossible it is deleted on close and on JVM exit.
 *
 * <p>Thread-safe: reads run in parallel, writes are serialised against everything else. Closing
 * the overlay does not close the base.
 */
public final class Overlay implements BlockDevice {
    public static final int CLUSTER_SIZE = 64 * 1024;
    private static final int CLUSTER_BITS = 16;
    /** Clusters per second-level table: 4096 x 8 bytes = 32 KiB of map per 256 MiB of disk written. */
    private static final int L2_BITS = 12;
    private static final int L2_SIZE = 1 << L2_BITS;
    /** Map entries: 0 = not in the overlay (read the base), ZERO = reads as zeros, else temp offset + 1. */
    private static final long IN_BASE = 0;
    private static final long ZERO = -1;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CLUSTER_SIZE).asReadOnlyBuffer();

    private final BlockDevice base;
    private final long size;
    private final FileChannel temp;
    private final Path tempFile;
    private final boolean tempUnlinked;
    /** First-level map: the index of a 256 MiB region to its table; absent regions are all IN_BASE. */
    private final Map<Long, long[]> l1 = new HashMap<>();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long tempEnd;
    private boolean closed;

    private Overlay(BlockDevice base, FileChannel temp, Path tempFile, boolean tempUnlinked) {
        this.base = base;
        this.size = base.size();
        this.temp = temp;
        this.tempFile = tempFile;
        this.tempUnlinked = tempUnlinked;
    }

    /** An overlay whose temporary file lives in {@code java.io.tmpdir}. */
    public static Overlay create(BlockDevice base) throws IOException {
        return create(base, Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** An overlay whose temporary file lives in {@code tempDir}. */
    public static Overlay create(BlockDevice base, Path tempDir) throws IOException {
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        FileAttribute<?>[] attrs = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
                : new FileAttribute<?>[0];
        Path file = Files.createTempFile(tempDir, "jv2v-overlay-", ".tmp", attrs);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    StandardOpenOption.DELETE_ON_CLOSE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        boolean unlinked;
        try {
            // (on Linux the JDK already unlinks a DELETE_ON_CLOSE file as soon as it is open)
            Files.deleteIfExists(file);
            unlinked = true;
        } catch (IOException e) {
            // cannot unlink an open file here (not POSIX): DELETE_ON_CLOSE and deleteOnExit remain
            file.toFile().deleteOnExit();
            unlinked = false;
        }
        return new Overlay(base, ch, file, unlinked);
    }

    public BlockDevice base() {
        return base;
    }

    /** The temporary file's name (already unlinked on POSIX systems: it is not in the folder). */
    public Path tempFile() {
        return tempFile;
    }

    /** True when the temporary file was unlinked at creation, so a crash cannot leave it behind. */
    public boolean tempFileUnlinked() {
        return tempUnlinked;
    }

    /** Bytes of temporary file used so far. */
    public long overlayBytes() {
        lock.readLock().lock();
        try {
            return tempEnd;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The ranges the overlay holds (written, or zeroed), in order, coalesced: everything that reads
     * differently from the base can only lie in these (the copier must not skip them).
     */
    public List<Extent> changedExtents() throws IOException {
        List<Extent> out = new ArrayList<>();
        lock.readLock().lock();
        try {
            ensureOpen();
            List<Long> regions = new ArrayList<>(l1.keySet());
            regions.sort(null);
            for (long region : regions) {
                long[] table = l1.get(region);
                for (int i = 0; i < L2_SIZE; i++) {
                    long e = table[i];
                    if (e == IN_BASE) {
                        continue;
                    }
                    long cluster = (region << L2_BITS) + i;
                    Extent.append(out, cluster << CLUSTER_BITS, clusterLength(cluster), e == ZERO ? ExtentType.ZERO : ExtentType.DATA);
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        return out;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public String describe() {
        return "overlay over " + base.describe();
    }

    @Override
    public boolean isWritable() {
        return true;
    }

    private long entry(long cluster) {
        long[] table = l1.get(cluster >>> L2_BITS);
        return table == null ? IN_BASE : table[(int) (cluster & (L2_SIZE - 1))];
    }

    private void setEntry(long cluster, long value) {
        l1.computeIfAbsent(cluster >>> L2_BITS, k -> new long[L2_SIZE])[(int) (cluster & (L2_SIZE - 1))] = value;
    }

    /** The first cluster at or after {@code cluster} (below {@code endCluster}) that is not IN_BASE. */
    private long nextNonBase(long cluster, long endCluster) {
        long c = cluster;
        while (c < endCluster) {
            long[] table = l1.get(c >>> L2_BITS);
            if (table == null) {
                c = ((c >>> L2_BITS) + 1) << L2_BITS;
                continue;
            }
            if (table[(int) (c & (L2_SIZE - 1))] != IN_BASE) {
                return c;
            }
            c++;
        }
        return endCluster;
    }

    private long clusterLength(long cluster) {
        return Math.min(CLUSTER_SIZE, size - (cluster << CLUSTER_BITS));
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        int len = dst.remaining();
        checkAccess(offset, len);
        lock.readLock().lock();
        try {
            ensureOpen();
            long pos = offset;
            long end = offset + len;
            while (pos < end) {
                long cluster = pos >>> CLUSTER_BITS;
                long e = entry(cluster);
                if (e == IN_BASE) {
                    // coalesce the run of base clusters into one read of the base
                    long endCluster = ((end - 1) >>> CLUSTER_BITS) + 1;
                    long stop = Math.min(end, nextNonBase(cluster, endCluster) << CLUSTER_BITS);
                    ByteBuffer part = dst.slice(dst.position(), (int) (stop - pos));
                    base.read(part, pos);
                    dst.position(dst.position() + (int) (stop - pos));
                    pos = stop;
                    continue;
                }
                long stop = Math.min(end, (cluster + 1) << CLUSTER_BITS);
                int n = (int) (stop - pos);
                if (e == ZERO) {
                    dst.put(ZEROS.slice(0, n));
                } else {
                    ByteBuffer part = dst.slice(dst.position(), n);
                    readTemp(part, (e - 1) + (pos & (CLUSTER_SIZE - 1)));
                    dst.position(dst.position() + n);
                }
                pos = stop;
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    private void readTemp(ByteBuffer dst, long tempOffset) throws IOException {
        long p = tempOffset;
        while (dst.hasRemaining()) {
            int n = temp.read(dst, p);
            if (n < 0) {
                throw new IOException(describe() + ": temporary file ends at " + p + " (was it truncated?)");
            }
            p += n;
        }
    }

    private void writeTemp(ByteBuffer src, long tempOffset) throws IOException {
        long p = tempOffset;
        while (src.hasRemaining()) {
            p += temp.write(src, p);
        }
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        int len = src.remaining();
        checkAccess(offset, len);
        lock.writeLock().lock();
        try {
            ensureOpen();
            long pos = offset;
            long end = offset + len;
            ByteBuffer buf = src.duplicate();
            while (pos < end) {
                long cluster = pos >>> CLUSTER_BITS;
                long cstart = cluster << CLUSTER_BITS;
                long clen = clusterLength(cluster);
                long stop = Math.min(end, cstart + clen);
                int n = (int) (stop - pos);
                ByteBuffer piece = buf.slice(buf.position(), n);
                buf.position(buf.position() + n);
                writeCluster(cluster, cstart, clen, pos, piece);
                pos = stop;
            }
            src.position(src.limit());
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Writes {@code piece} at {@code pos} inside one cluster. Caller holds the write lock. */
    private void writeCluster(long cluster, long cstart, long clen, long pos, ByteBuffer piece) throws IOException {
        long e = entry(cluster);
        boolean whole = pos == cstart && piece.remaining() == clen;
        if (whole && isZero(piece)) {
            setEntry(cluster, ZERO);
            return;
        }
        if (e > 0) {
            writeTemp(piece, (e - 1) + (pos - cstart));
            return;
        }
        ByteBuffer full = ByteBuffer.allocate((int) clen);
        if (!whole) {
            if (e == IN_BASE) {
                base.read(full, cstart);
                full.clear();
            }
            // a ZERO cluster: the fresh buffer is already zeros
        }
        full.put((int) (pos - cstart), piece, piece.position(), piece.remaining());
        long at = tempEnd;
        writeTemp(full, at);
        tempEnd += CLUSTER_SIZE;
        setEntry(cluster, at + 1);
    }

    private static boolean isZero(ByteBuffer b) {
        int n = b.remaining();
        return b.mismatch(ZEROS.slice(0, n)) < 0;
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        checkAccess(offset, length);
        lock.writeLock().lock();
        try {
            ensureOpen();
            long pos = offset;
            long end = offset + length;
            while (pos < end) {
                long cluster = pos >>> CLUSTER_BITS;
                long cstart = cluster << CLUSTER_BITS;
                long clen = clusterLength(cluster);
                long stop = Math.min(end, cstart + clen);
                if (pos == cstart && stop == cstart + clen) {
                    setEntry(cluster, ZERO);
                } else {
                    writeCluster(cluster, cstart, clen, pos, ZEROS.slice(0, (int) (stop - pos)));
                }
                pos = stop;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) throws IOException {
        checkAccess(offset, 0);
        long end = Math.min(size, offset + length);
        if (end <= offset) {
            throw new IllegalArgumentException(describe() + ": block status of an empty range at " + offset);
        }
        List<Extent> out = new ArrayList<>();
        lock.readLock().lock();
        try {
            ensureOpen();
            long pos = offset;
            long endCluster = ((end - 1) >>> CLUSTER_BITS) + 1;
            while (pos < end) {
                long cluster = pos >>> CLUSTER_BITS;
                long e = entry(cluster);
                if (e == IN_BASE) {
                    long stop = Math.min(end, nextNonBase(cluster, endCluster) << CLUSTER_BITS);
                    Extent.appendStatusOf(out, base, pos, stop);
                    pos = stop;
                    continue;
                }
                long stop = Math.min(end, (cluster + 1) << CLUSTER_BITS);
                Extent.append(out, pos, stop - pos, e == ZERO ? ExtentType.ZERO : ExtentType.DATA);
                pos = stop;
            }
        } finally {
            lock.readLock().unlock();
        }
        return out;
    }

    @Override
    public void flush() {
        // nothing to make durable: the overlay is thrown away at the end
    }

    @Override
    public void close() throws IOException {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            l1.clear();
            temp.close();
            if (!tempUnlinked) {
                Files.deleteIfExists(tempFile);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException(describe() + ": overlay is closed");
        }
    }
}
