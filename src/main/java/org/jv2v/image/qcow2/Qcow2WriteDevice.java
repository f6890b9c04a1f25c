package org.jv2v.image.qcow2;

import org.jv2v.BadInputException;
import org.jv2v.image.CreateOptions;
import org.jv2v.image.Extent;
import org.jv2v.image.Preallocation;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A qcow2 v3 image being written (compat 1.1, 16-bit refcounts, no backing file).
 *
 * <p>Host clusters are handed out in order from the end of the file, so data lands sequentially.
 * L2 tables and refcount blocks live in memory and reach the file at {@link #flush()} (or, past a
 * fixed memory budget, when the least recently used one is written back). A flush leaves a
 * consistent image, checked clean by {@code qemu-img check}; between flushes, on-disk metadata only
 * changes after the header's dirty bit is set, so qemu repairs refcounts of an interrupted image
 * and {@link #reopen} always recomputes them.
 *
 * <p>Writes to different ranges may run concurrently: metadata changes take one short lock, data
 * goes to the file outside it, and a guest cluster being allocated by one write makes a second
 * write to the same cluster wait for it. A flush waits for writes in flight.
 */
final class Qcow2WriteDevice extends Qcow2Device {
    static final int DEFAULT_CLUSTER_BITS = 16;
    private static final int REFCOUNT_ORDER = 4;
    /** Bytes of zeros written per call when preallocating. */
    private static final int ZERO_CHUNK = 1 << 20;
    private static final ByteBuffer ZERO_COMPARE = ByteBuffer.wrap(new byte[64 * 1024]).asReadOnlyBuffer();

    private enum Act { NONE, IN_PLACE, NEW, REUSE, COMPRESS, ZERO_NOW }

    /** An L2 table in memory. */
    private static final class Table {
        final long host;
        final long[] e;
        boolean dirty;

        Table(long host, long[] e, boolean dirty) {
            this.host = host;
            this.e = e;
            this.dirty = dirty;
        }
    }

    /** Writes share it; flush and close take it alone, so they see no write half done. */
    /** Whether flushes and metadata ordering fsync (CreateOptions.durable). */
    private final boolean durable;
    private final ReentrantReadWriteLock barrier = new ReentrantReadWriteLock();
    /** Guards all metadata below. */
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition settled = lock.newCondition();

    private final boolean compress;
    private final int maxTables;
    private final LinkedHashMap<Integer, Table> tables = new LinkedHashMap<>(16, 0.75f, true);
    /** The entries of the table evicted last, for the next table to reuse (under lock). */
    private long[] spareTable;
    private final Set<Long> pending = new HashSet<>();
    private final Refcounts refs;
    private long[] l1;
    private long l1Offset;
    private int l1Clusters;
    private boolean l1Dirty;
    private long refTableOffset;
    private int refTableClusters;
    /** The next free host cluster: everything from here on is unused. */
    private long cursor;
    /** Free bytes for compressed clusters: [compNext, compEnd). */
    private long compNext;
    private long compEnd;
    /** The header as last written. */
    private Qcow2Header onDisk;
    /** Metadata changed since the last flush. */
    private boolean changed;
    /** The header on disk has its dirty bit set. */
    private boolean dirtyOnDisk;
    private volatile boolean closed;
    /** While resuming: the host clusters owned by a single reference. */
    private BitSet exclusive;

    /** Memory budgets: bytes of L2 tables and of refcount blocks kept in memory. */
    record Budget(long l2Bytes, long refcountBytes) {
        static final Budget DEFAULT = new Budget(Qcow2Limits.WRITE_L2_CACHE_BYTES,
                Qcow2Limits.WRITE_REFCOUNT_CACHE_BYTES);
    }

    private Qcow2WriteDevice(Path file, FileChannel channel, Geometry geo, Compression compression, boolean compress,
                             boolean durable, long[] refTable, Budget budget) {
        super(file, channel, geo, compression, null, null);
        this.compress = compress;
        this.durable = durable;
        this.maxTables = (int) Math.max(2, budget.l2Bytes() >> geo.clusterBits());
        int maxBlocks = (int) Math.max(2, budget.refcountBytes() >> geo.clusterBits());
        this.refs = new Refcounts(geo.clusterBits(), refTable, maxBlocks, new Refcounts.Store() {
            @Override
            public char[] load(long host) throws IOException {
                char[] c = new char[geo.clusterSize() / 2];
                Qcow2Metadata.readAt(file, channel, host, geo.clusterSize()).asCharBuffer().get(c);
                return c;
            }

            @Override
            public void evict(long host, char[] counts) throws IOException {
                markDirtyOnDisk();
                write(host, counts);
            }

            @Override
            public void write(long host, char[] counts) throws IOException {
                ByteBuffer b = ByteBuffer.allocate(counts.length * 2).order(ByteOrder.BIG_ENDIAN);
                b.asCharBuffer().put(counts);
                writeFully(b, host);
            }
        });
    }

    // ---------------------------------------------------------------- creating and resuming

    /**
     * qemu counts disks in 512-byte sectors and ignores a partial last one, so sizes are rounded up
     * to whole sectors, as {@code qemu-img create} does: the extra bytes read as zeros.
     */
    static long roundedSize(long virtualSize) {
        return (virtualSize + Geometry.SECTOR - 1) & -(long) Geometry.SECTOR;
    }

    static Qcow2WriteDevice create(Path file, CreateOptions options, int clusterBits, Budget budget)
            throws IOException {
        Geometry geo = new Geometry(clusterBits, roundedSize(options.virtualSize()), false);
        if (options.virtualSize() > Qcow2Limits.MAX_VIRTUAL_SIZE || geo.l1Needed() > Qcow2Limits.MAX_L1_ENTRIES) {
            throw new IllegalArgumentException(file + ": virtual size " + options.virtualSize()
                    + " is too large for a qcow2 image with " + geo.clusterSize() + "-byte clusters");
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            Qcow2WriteDevice dev = new Qcow2WriteDevice(file, ch, geo, Compression.ZLIB, options.compress(), options.durable(),
                    new long[geo.clusterSize() / 8], budget);
            dev.lock.lock();
            try {
                dev.layOut();
                dev.preallocate(options.preallocation());
                dev.flushLocked();
            } finally {
                dev.lock.unlock();
            }
            return dev;
        } catch (IOException | RuntimeException | Error e) {
            ch.close();
            throw e;
        }
    }

    /** Header, refcount table, first refcount block, L1 table: the same layout qemu-img uses. */
    private void layOut() throws IOException {
        int cb = geo.clusterBits();
        long cs = geo.clusterSize();
        refTableOffset = cs;
        refTableClusters = 1;
        refs.install(0, 2 * cs);
        cursor = 3 * cs;
        refs.add(0, 1);
        refs.add(1, 1);
        refs.add(2, 1);
        long l1Size = geo.l1Needed();
        l1Clusters = (int) ((l1Size * 8 + cs - 1) >>> cb); // none for an empty disk, as qemu-img
        l1Offset = l1Clusters == 0 ? 0 : allocClusters(l1Clusters);
        for (int j = 0; j < l1Clusters; j++) {
            refs.add((l1Offset >>> cb) + j, 1);
        }
        l1 = new long[(int) l1Size];
        onDisk = new Qcow2Header(3, 0, 0, cb, geo.size(), 0, l1Size, l1Offset, refTableOffset, refTableClusters,
                0, 0, 0, 0, 0, REFCOUNT_ORDER, Qcow2Header.V3_WRITTEN_LENGTH, Compression.ZLIB.type());
        l1Dirty = true;
        changed = true;
    }

    /** Allocates every guest cluster up front, as qemu-img's preallocation modes do. */
    private void preallocate(Preallocation mode) throws IOException {
        if (mode == Preallocation.OFF) {
            return;
        }
        int cb = geo.clusterBits();
        int per = geo.l2Entries();
        long clusters = geo.clusters();
        long[] entries = new long[per];
        for (int i = 0; i < l1.length; i++) {
            int here = (int) Math.min(per, clusters - (long) i * per);
            long t = allocClusters(1);
            refs.add(t >>> cb, 1);
            long d = allocClusters(here);
            Arrays.fill(entries, 0L);
            for (int j = 0; j < here; j++) {
                refs.add((d >>> cb) + j, 1);
                entries[j] = (d + ((long) j << cb)) | Geometry.COPIED;
            }
            writeTable(t, entries);
            l1[i] = t | Geometry.COPIED;
            if (mode != Preallocation.METADATA) {
                // FALLOC: pure Java has no fallocate(2); writing the zeros reserves the space just as surely.
                writeZerosToFile(d, (long) here << cb);
            }
        }
        if (channel.size() < cursor) {
            writeFully(ByteBuffer.allocate(1), cursor - 1); // sparse up to the last cluster
        }
        l1Dirty = true;
        changed = true;
    }

    static Qcow2WriteDevice reopen(Path file, CreateOptions options, Budget budget) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            Qcow2Metadata m = Qcow2Metadata.read(file, ch);
            Qcow2Header h = m.header();
            String why = null;
            if (h.version() != 3) {
                why = "it is qcow2 version 2";
            } else if (m.backingName().isPresent()) {
                why = "it has a backing file";
            } else if (h.nbSnapshots() != 0) {
                why = "it has internal snapshots";
            } else if (m.geo().extendedL2()) {
                why = "it uses extended L2 entries";
            } else if (h.refcountOrder() != REFCOUNT_ORDER) {
                why = "its refcounts are not 16 bits wide";
            } else if ((h.incompatibleFeatures() & Qcow2Header.INCOMPAT_CORRUPT) != 0) {
                why = "it is marked corrupt";
            } else if (h.autoclearFeatures() != 0 || m.extensions().bitmaps()) {
                why = "it has bitmaps";
            }
            if (why != null) {
                throw BadInputException.inFile(file, "cannot resume writing this image: " + why);
            }
            if (h.size() != roundedSize(options.virtualSize())) {
                throw BadInputException.atOffset(file, "size", Qcow2Header.OFF_SIZE, "the image's virtual size "
                        + h.size() + " differs from the " + roundedSize(options.virtualSize())
                        + " bytes being written");
            }
            int cs = m.geo().clusterSize();
            long tableBytes = h.refcountTableClusters() * cs;
            if (tableBytes == 0 || tableBytes > Qcow2Limits.MAX_REFCOUNT_TABLE_BYTES) {
                throw BadInputException.atOffset(file, "refcount_table_clusters", Qcow2Header.OFF_REFCOUNT_TABLE_CLUSTERS,
                        h.refcountTableClusters() + " clusters is not between 1 and "
                                + Qcow2Limits.MAX_REFCOUNT_TABLE_BYTES / cs);
            }
            Qcow2Metadata.checkTable(file, "refcount_table_offset", Qcow2Header.OFF_REFCOUNT_TABLE_OFFSET,
                    h.refcountTableOffset(), tableBytes, cs, m.fileSize());
            long[] refTable = new long[(int) (tableBytes / 8)];
            Qcow2Metadata.readAt(file, ch, h.refcountTableOffset(), (int) tableBytes).asLongBuffer().get(refTable);
            for (int i = 0; i < refTable.length; i++) {
                long b = refTable[i];
                if (b != 0 && ((b & (cs - 1)) != 0 || b > m.fileSize() - cs)) {
                    throw BadInputException.atOffset(file, "refcount table entry " + i,
                            h.refcountTableOffset() + 8L * i, "refcount block offset 0x" + Long.toHexString(b)
                                    + " is unaligned or past the end of the file");
                }
            }
            Qcow2WriteDevice dev = new Qcow2WriteDevice(file, ch, m.geo(), m.compression(), options.compress(), options.durable(),
                    refTable, budget);
            dev.lock.lock();
            try {
                dev.l1 = m.l1().clone();
                dev.l1Offset = h.l1TableOffset();
                dev.refTableOffset = h.refcountTableOffset();
                dev.refTableClusters = (int) h.refcountTableClusters();
                dev.cursor = (m.fileSize() + cs - 1) & -(long) cs;
                // with no snapshots, the snapshot table's offset means nothing: qemu wants it 0
                dev.onDisk = new Qcow2Header(h.version(), h.backingFileOffset(), h.backingFileSize(),
                        h.clusterBits(), h.size(), h.cryptMethod(), h.l1Size(), h.l1TableOffset(),
                        h.refcountTableOffset(), h.refcountTableClusters(), 0, 0, h.incompatibleFeatures(),
                        h.compatibleFeatures(), h.autoclearFeatures(), h.refcountOrder(), h.headerLength(),
                        h.compressionType());
                dev.dirtyOnDisk = (h.incompatibleFeatures() & Qcow2Header.INCOMPAT_DIRTY) != 0;
                dev.rebuildRefcounts(m.fileSize());
                dev.flushLocked();
            } finally {
                dev.lock.unlock();
            }
            return dev;
        } catch (IOException | RuntimeException | Error e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Recounts every reference from the metadata, trusting no refcount on disk: after an
     * interruption, the tables may be newer than the counts. Mappings to data that never reached
     * the file (written after the last flush) are dropped; the copier writes those ranges again.
     */
    private void rebuildRefcounts(long fileSize) throws IOException {
        int cb = geo.clusterBits();
        long cs = geo.clusterSize();
        // Clusters that one reference owns (metadata, plain data): one bit per cluster of the file.
        exclusive = new BitSet();
        refs.markAllStale();
        long[] table = refs.table().clone();
        countOnce(0, "the header");
        for (int j = 0; j < refTableClusters; j++) {
            countOnce((refTableOffset >>> cb) + j, "the refcount table");
        }
        for (long b : table) {
            if (b != 0) {
                countOnce(b >>> cb, "a refcount block");
            }
        }
        l1Clusters = (int) (((long) l1.length * 8 + cs - 1) >>> cb);
        for (int j = 0; j < l1Clusters; j++) {
            countOnce((l1Offset >>> cb) + j, "the L1 table");
        }
        int per = geo.l2Entries();
        long sectorEnd = (fileSize + Geometry.SECTOR - 1) & -(long) Geometry.SECTOR;
        for (int i = 0; i < l1.length; i++) {
            long t = l1[i] & Geometry.OFFSET_MASK;
            if (t == 0) {
                if (l1[i] != 0) {
                    l1[i] = 0;
                    l1Dirty = true;
                }
                continue;
            }
            countOnce(t >>> cb, "an L2 table");
            if (l1[i] != (t | Geometry.COPIED)) {
                l1[i] = t | Geometry.COPIED;
                l1Dirty = true;
            }
            long[] e = new long[per];
            Qcow2Metadata.readAt(file, channel, t, (int) cs).asLongBuffer().get(e);
            boolean modified = false;
            for (int j = 0; j < per; j++) {
                long v = e[j];
                if (v == 0) {
                    continue;
                }
                long want = v;
                if ((long) i * per + j >= geo.clusters()) {
                    want = 0;
                } else if ((v & Geometry.COMPRESSED) != 0) {
                    long off = geo.compressedOffset(v);
                    int len = geo.compressedLength(v);
                    if (off >= fileSize || off + len > sectorEnd) {
                        want = 0; // written after the last flush and lost
                    } else {
                        for (long c = off >>> cb; c <= (off + len - 1) >>> cb; c++) {
                            countShared(c);
                        }
                        want = v & ~Geometry.COPIED;
                    }
                } else {
                    long host = v & Geometry.OFFSET_MASK;
                    boolean zero = (v & Geometry.ZERO) != 0;
                    if (host == 0) {
                        want = zero ? Geometry.ZERO : 0;
                    } else if ((host & (cs - 1)) != 0) {
                        throw BadInputException.atOffset(file, "L2 table entry " + j, t + 8L * j, "cluster offset 0x"
                                + Long.toHexString(host) + " is not aligned to a cluster");
                    } else if (host > fileSize - cs) {
                        want = zero ? Geometry.ZERO : 0; // written after the last flush and lost
                    } else {
                        countOnce(host >>> cb, "a data cluster");
                        want = host | Geometry.COPIED | (zero ? Geometry.ZERO : 0);
                    }
                }
                if (want != v) {
                    e[j] = want;
                    modified = true;
                }
            }
            if (modified) {
                tables.put(i, new Table(t, e, true));
                evictTables();
            }
        }
        exclusive = null;
        changed = true;
    }

    /** Counts one reference to a cluster that must have had none (metadata and data are never shared). */
    private void countOnce(long cluster, String what) throws IOException {
        cover(cluster);
        if (refs.get(cluster) != 0) {
            throw usedTwice(cluster, what);
        }
        exclusive.set(Math.toIntExact(cluster));
        refs.add(cluster, 1);
    }

    /** Counts a reference from a compressed cluster: such clusters may hold several. */
    private void countShared(long cluster) throws IOException {
        cover(cluster);
        if (exclusive.get(Math.toIntExact(cluster))) {
            throw usedTwice(cluster, "compressed data");
        }
        refs.add(cluster, 1);
    }

    private BadInputException usedTwice(long cluster, String what) {
        return BadInputException.inFile(file, "cannot resume writing this image: host cluster at 0x"
                + Long.toHexString(cluster << geo.clusterBits()) + " is used twice (as " + what + ")");
    }

    /** Makes sure a refcount block covers host cluster {@code cluster}. */
    private void cover(long cluster) throws IOException {
        long b = refs.blockIndex(cluster);
        if (b >= refs.table().length) {
            growRefcountTable(b + 1);
        }
        if (!refs.hasBlock(b)) {
            long at = allocClusters(1);
            refs.install(b, at);
            refs.add(at >>> geo.clusterBits(), 1);
        }
    }

    // ---------------------------------------------------------------- allocation (under lock)

    /**
     * Reserves {@code n} consecutive host clusters at the end of the file, first placing any
     * refcount block (and growing the refcount table) needed to count them. The caller adds the
     * references.
     */
    private long allocClusters(int n) throws IOException {
        int cb = geo.clusterBits();
        for (;;) {
            long firstCluster = cursor >>> cb;
            long lastBlock = refs.blockIndex(firstCluster + n - 1);
            if (lastBlock >= refs.table().length) {
                growRefcountTable(lastBlock + 1);
                continue;
            }
            long missing = -1;
            for (long b = refs.blockIndex(firstCluster); b <= lastBlock; b++) {
                if (!refs.hasBlock(b)) {
                    missing = b;
                    break;
                }
            }
            if (missing < 0) {
                long start = cursor;
                cursor += (long) n << cb;
                return start;
            }
            // The new block goes at the cursor, in its own range or in an earlier, covered one.
            long at = cursor;
            cursor += geo.clusterSize();
            refs.install(missing, at);
            refs.add(at >>> cb, 1);
        }
    }

    /** Moves the refcount table to a bigger place at the end of the file (written at the next flush). */
    private void growRefcountTable(long neededEntries) throws IOException {
        int cb = geo.clusterBits();
        int perCluster = geo.clusterSize() / 8;
        long entries = Math.max(neededEntries + 1, 2L * refs.table().length);
        entries = (entries + perCluster - 1) / perCluster * perCluster;
        if (entries * 8 > Qcow2Limits.MAX_REFCOUNT_TABLE_BYTES) {
            throw new IOException(file + ": image too large: its refcount table would exceed "
                    + Qcow2Limits.MAX_REFCOUNT_TABLE_BYTES + " bytes");
        }
        long oldOffset = refTableOffset;
        int oldClusters = refTableClusters;
        refs.growTable((int) entries);
        int k = (int) (entries / perCluster);
        long at = allocClusters(k);
        for (int j = 0; j < k; j++) {
            refs.add((at >>> cb) + j, 1);
        }
        for (int j = 0; j < oldClusters; j++) {
            refs.add((oldOffset >>> cb) + j, -1);
        }
        refTableOffset = at;
        refTableClusters = k;
        changed = true;
    }

    /** Reserves {@code len} bytes for a compressed cluster, packed after the previous one. */
    private long allocBytes(int len) throws IOException {
        long cs = geo.clusterSize();
        while (compEnd - compNext < len) {
            if (compEnd != 0 && compEnd == cursor) {
                int k = (int) ((len - (compEnd - compNext) + cs - 1) / cs);
                long start = allocClusters(k);
                if (start == compEnd) {
                    compEnd += k * cs;
                } else {
                    compNext = start;
                    compEnd = start + k * cs;
                }
            } else {
                int k = (int) ((len + cs - 1) / cs);
                long start = allocClusters(k);
                compNext = start;
                compEnd = start + k * cs;
            }
        }
        long at = compNext;
        compNext += len;
        return at;
    }

    private void freeCompressed(long entry) throws IOException {
        refs.addBytes(geo.compressedOffset(entry), geo.compressedLength(entry), -1);
    }

    // ---------------------------------------------------------------- L2 tables (under lock)

    /** The L2 table of L1 index {@code i}: from memory, from the file, or (if {@code create}) new. */
    private Table table(int i, boolean create) throws IOException {
        Table t = tables.get(i);
        if (t != null) {
            return t;
        }
        long at = l1[i] & Geometry.OFFSET_MASK;
        if (at == 0) {
            if (!create) {
                return null;
            }
            at = allocClusters(1);
            refs.add(at >>> geo.clusterBits(), 1);
            long[] e = takeSpareTable();
            Arrays.fill(e, 0L);
            t = new Table(at, e, true);
            l1[i] = at | Geometry.COPIED;
            l1Dirty = true;
            changed = true;
        } else {
            long[] e = takeSpareTable();
            Qcow2Metadata.readAt(file, channel, at, geo.clusterSize()).asLongBuffer().get(e);
            t = new Table(at, e, false);
        }
        tables.put(i, t);
        evictTables();
        return t;
    }

    private void evictTables() throws IOException {
        while (tables.size() > maxTables) {
            Map.Entry<Integer, Table> eldest = tables.entrySet().iterator().next();
            Table t = eldest.getValue();
            if (t.dirty) {
                markDirtyOnDisk();
                writeTable(t.host, t.e);
            }
            tables.remove(eldest.getKey());
            // nothing holds a table across a call that loads another (each use fetches it anew)
            spareTable = t.e;
        }
    }

    /**
     * An array for a table: the last one evicted, else a new one. Reusing it keeps a copy of a
     * large disk from leaving a trail of dead tables in the old generation, which the JVM would
     * grow the heap for rather than collect.
     */
    private long[] takeSpareTable() {
        long[] e = spareTable;
        spareTable = null;
        return e != null && e.length == geo.l2Entries() ? e : new long[geo.l2Entries()];
    }

    private long entry(long cluster) throws IOException {
        Table t = table((int) (cluster >>> geo.l2Bits()), false);
        return t == null ? 0 : t.e[(int) (cluster & (geo.l2Entries() - 1))];
    }

    private void setEntry(long cluster, long value) throws IOException {
        Table t = table((int) (cluster >>> geo.l2Bits()), true);
        t.e[(int) (cluster & (geo.l2Entries() - 1))] = value;
        t.dirty = true;
        changed = true;
    }

    @Override
    boolean mapping(long first, int count, long[] entries, long[] bitmaps) throws IOException {
        lock.lock();
        try {
            Table t = table((int) (first >>> geo.l2Bits()), false);
            if (t == null) {
                return false;
            }
            System.arraycopy(t.e, (int) (first & (geo.l2Entries() - 1)), entries, 0, count);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void awaitSettled(long first, long count) throws IOException {
        while (!pending.isEmpty() && overlapsPending(first, count)) {
            try {
                settled.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(file + ": interrupted waiting for a concurrent write");
            }
        }
    }

    private boolean overlapsPending(long first, long count) {
        if (pending.size() < count) {
            for (long c : pending) {
                if (c >= first && c < first + count) {
                    return true;
                }
            }
            return false;
        }
        for (long c = first; c < first + count; c++) {
            if (pending.contains(c)) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- writing

    @Override
    public boolean isWritable() {
        return true;
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        int len = src.remaining();
        checkAccess(offset, len);
        if (len == 0) {
            return;
        }
        barrier.readLock().lock();
        try {
            ensureOpen();
            writeRange(src, src.position(), offset, len);
        } finally {
            barrier.readLock().unlock();
        }
        src.position(src.limit());
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        checkAccess(offset, length);
        if (length == 0) {
            return;
        }
        int cb = geo.clusterBits();
        long cs = geo.clusterSize();
        long end = offset + length;
        long fullStart = (offset + cs - 1) & -cs;
        long fullEnd = end == size() ? end : end & -cs;
        barrier.readLock().lock();
        try {
            ensureOpen();
            if (fullStart >= fullEnd) {
                writeZeroBytes(offset, end);
                return;
            }
            writeZeroBytes(offset, fullStart);
            zeroClusters(fullStart >>> cb, ((fullEnd - 1) >>> cb) + 1);
            writeZeroBytes(fullEnd, end);
        } finally {
            barrier.readLock().unlock();
        }
    }

    /** Zeros within at most two clusters, through the normal write path (which skips what reads as zero). */
    private void writeZeroBytes(long from, long to) throws IOException {
        if (to > from) {
            ByteBuffer zeros = ByteBuffer.allocate((int) (to - from));
            writeRange(zeros, 0, from, zeros.capacity());
        }
    }

    /** Makes whole clusters {@code [first, end)} read as zeros without writing data. */
    private void zeroClusters(long first, long end) throws IOException {
        int per = geo.l2Entries();
        for (long c = first; c < end; ) {
            int i = (int) (c >>> geo.l2Bits());
            long stop = Math.min(end, (long) (i + 1) * per);
            lock.lock();
            try {
                awaitSettled(c, stop - c);
                Table t = table(i, false);
                if (t != null) {
                    for (long x = c; x < stop; x++) {
                        int idx = (int) (x & (per - 1));
                        long e = t.e[idx];
                        if ((e & Geometry.COMPRESSED) != 0) {
                            freeCompressed(e);
                            t.e[idx] = 0;
                            t.dirty = true;
                        } else if ((e & Geometry.OFFSET_MASK) != 0 && (e & Geometry.ZERO) == 0) {
                            t.e[idx] = e | Geometry.ZERO; // keeps the cluster, as qemu's zero-allocated clusters
                            t.dirty = true;
                        }
                    }
                    changed |= t.dirty;
                }
            } finally {
                lock.unlock();
            }
            c = stop;
        }
    }

    /** Writes {@code len} bytes of {@code src} from index {@code at} to guest {@code offset}. */
    private void writeRange(ByteBuffer src, int at, long offset, int len) throws IOException {
        int cb = geo.clusterBits();
        int cs = geo.clusterSize();
        long end = offset + len;
        long first = offset >>> cb;
        int n = (int) (((end - 1) >>> cb) - first + 1);
        boolean[] full = new boolean[n];
        boolean[] zero = new boolean[n];
        byte[][] packed = new byte[n][];

        // Outside the lock: what each cluster's bytes are (the CPU work: zero tests, compression).
        for (int i = 0; i < n; i++) {
            long cStart = (first + i) << cb;
            long s = Math.max(offset, cStart);
            long t = Math.min(end, cStart + cs);
            int from = at + (int) (s - offset);
            full[i] = s == cStart && t == Math.min(cStart + cs, size());
            zero[i] = isZero(src, from, (int) (t - s));
            if (compress && full[i] && !zero[i]) {
                packed[i] = pack(src, from, (int) (t - s));
            }
        }

        Act[] act = new Act[n];
        long[] host = new long[n];
        long[] old = new long[n];
        lock.lock();
        try {
            awaitSettled(first, n);
            int fresh = 0;
            for (int i = 0; i < n; i++) {
                long e = entry(first + i);
                old[i] = e;
                act[i] = decide(e, full[i], zero[i], packed[i] != null);
                if (act[i] == Act.NEW) {
                    fresh++;
                }
            }
            // Tables first, so that the new data clusters are contiguous.
            for (int i = 0; i < n; i++) {
                if (act[i] == Act.NEW || act[i] == Act.COMPRESS || act[i] == Act.REUSE) {
                    table((int) ((first + i) >>> geo.l2Bits()), true);
                }
            }
            long next = fresh > 0 ? allocClusters(fresh) : 0;
            for (int i = 0; i < n; i++) {
                long c = first + i;
                switch (act[i]) {
                    case NEW -> {
                        host[i] = next;
                        next += cs;
                        pending.add(c);
                    }
                    case COMPRESS -> {
                        host[i] = allocBytes(packed[i].length);
                        pending.add(c);
                    }
                    case REUSE -> {
                        host[i] = old[i] & Geometry.OFFSET_MASK;
                        pending.add(c);
                    }
                    case IN_PLACE -> host[i] = old[i] & Geometry.OFFSET_MASK;
                    case ZERO_NOW -> {
                        if ((old[i] & Geometry.COMPRESSED) != 0) {
                            freeCompressed(old[i]);
                            setEntry(c, 0);
                        } else {
                            setEntry(c, old[i] | Geometry.ZERO);
                        }
                    }
                    case NONE -> {
                        // already reads as zeros
                    }
                }
            }
        } finally {
            lock.unlock();
        }

        boolean done = false;
        try {
            writeData(src, at, offset, len, first, n, act, host, old, full, packed);
            done = true;
        } finally {
            lock.lock();
            try {
                try {
                    if (done) {
                        for (int i = 0; i < n; i++) {
                            commit(first + i, act[i], host[i], old[i], packed[i]);
                        }
                    }
                } finally {
                    for (int i = 0; i < n; i++) {
                        if (act[i] == Act.NEW || act[i] == Act.COMPRESS || act[i] == Act.REUSE) {
                            pending.remove(first + i);
                        }
                    }
                    settled.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private static Act decide(long e, boolean full, boolean zero, boolean packed) {
        long host = e & Geometry.OFFSET_MASK;
        if ((e & Geometry.COMPRESSED) != 0) {
            if (zero && full) {
                return Act.ZERO_NOW;
            }
            return packed ? Act.COMPRESS : Act.NEW; // a partial write merges with the old contents
        }
        boolean zeroFlag = (e & Geometry.ZERO) != 0;
        if (host != 0 && !zeroFlag) {
            return zero && full ? Act.ZERO_NOW : Act.IN_PLACE;
        }
        if (zero) {
            return Act.NONE; // unallocated or zero clusters already read as zeros
        }
        if (host != 0) {
            return Act.REUSE;
        }
        return packed ? Act.COMPRESS : Act.NEW;
    }

    private void commit(long c, Act act, long host, long old, byte[] packed) throws IOException {
        int cb = geo.clusterBits();
        switch (act) {
            case NEW -> {
                setEntry(c, host | Geometry.COPIED);
                refs.add(host >>> cb, 1);
                if ((old & Geometry.COMPRESSED) != 0) {
                    freeCompressed(old);
                }
            }
            case REUSE -> setEntry(c, host | Geometry.COPIED);
            case COMPRESS -> {
                long e = geo.compressedEntry(host, packed.length);
                setEntry(c, e);
                refs.addBytes(host, geo.compressedLength(e), 1);
                if ((old & Geometry.COMPRESSED) != 0) {
                    freeCompressed(old);
                }
            }
            default -> {
                // nothing to record
            }
        }
    }

    /** The data I/O of one write, merged into as few calls as possible; no lock held. */
    private void writeData(ByteBuffer src, int at, long offset, int len, long first, int n, Act[] act, long[] host,
                           long[] old, boolean[] full, byte[][] packed) throws IOException {
        int cb = geo.clusterBits();
        int cs = geo.clusterSize();
        long end = offset + len;
        // A run of source bytes going to consecutive host bytes, not yet written.
        long runHost = -1;
        int runFrom = 0;
        int runLen = 0;
        for (int i = 0; i < n; i++) {
            long cStart = (first + i) << cb;
            long s = Math.max(offset, cStart);
            int segLen = (int) (Math.min(end, cStart + cs) - s);
            int from = at + (int) (s - offset);
            long to;
            switch (act[i]) {
                case IN_PLACE -> to = host[i] + (s - cStart);
                case NEW, REUSE -> {
                    if (full[i] && segLen == cs) {
                        to = host[i];
                    } else {
                        writeRun(src, runFrom, runLen, runHost);
                        runLen = 0;
                        writeFully(filled(src, from, segLen, (int) (s - cStart), old[i], cStart), host[i]);
                        continue;
                    }
                }
                case COMPRESS -> {
                    writeRun(src, runFrom, runLen, runHost);
                    runLen = 0;
                    writeFully(ByteBuffer.wrap(packed[i]), host[i]);
                    continue;
                }
                default -> {
                    continue;
                }
            }
            if (runLen > 0 && runHost + runLen == to && runFrom + runLen == from) {
                runLen += segLen;
            } else {
                writeRun(src, runFrom, runLen, runHost);
                runHost = to;
                runFrom = from;
                runLen = segLen;
            }
        }
        writeRun(src, runFrom, runLen, runHost);
    }

    private void writeRun(ByteBuffer src, int from, int len, long to) throws IOException {
        if (len > 0) {
            writeFully(src.slice(from, len), to);
        }
    }

    /** A whole cluster: zeros, or the old compressed contents, with the new bytes laid over. */
    private ByteBuffer filled(ByteBuffer src, int from, int len, int inCluster, long old, long cStart)
            throws IOException {
        int cs = geo.clusterSize();
        byte[] buf = new byte[cs];
        if ((old & Geometry.COMPRESSED) != 0) {
            System.arraycopy(decompressCluster(old, cStart), 0, buf, 0, cs);
        }
        src.get(from, buf, inCluster, len);
        return ByteBuffer.wrap(buf);
    }

    /** The cluster compressed, or null when that would not save at least a sector. */
    private byte[] pack(ByteBuffer src, int from, int len) {
        int cs = geo.clusterSize();
        byte[] in = new byte[cs]; // zeros past a partial last cluster
        byte[] out = new byte[cs];
        src.get(from, in, 0, len);
        int n = compression.compress(in, 0, cs, out, cs - Geometry.SECTOR);
        return n < 0 ? null : Arrays.copyOf(out, n);
    }

    static boolean isZero(ByteBuffer src, int from, int len) {
        for (int done = 0; done < len; ) {
            int k = Math.min(ZERO_COMPARE.capacity(), len - done);
            if (src.slice(from + done, k).mismatch(ZERO_COMPARE.slice(0, k)) >= 0) {
                return false;
            }
            done += k;
        }
        return true;
    }

    // ---------------------------------------------------------------- reading back

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        barrier.readLock().lock();
        try {
            ensureOpen();
            super.read(dst, offset);
        } finally {
            barrier.readLock().unlock();
        }
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) throws IOException {
        barrier.readLock().lock();
        try {
            ensureOpen();
            return super.blockStatus(offset, length);
        } finally {
            barrier.readLock().unlock();
        }
    }

    // ---------------------------------------------------------------- flush and close

    @Override
    public void flush() throws IOException {
        barrier.writeLock().lock();
        try {
            ensureOpen();
            lock.lock();
            try {
                flushLocked();
            } finally {
                lock.unlock();
            }
        } finally {
            barrier.writeLock().unlock();
        }
    }

    /**
     * Writes all metadata between two header writes: the first sets the dirty bit (and makes the data
     * durable), the last clears it once every table is durable and points to the new refcount table.
     */
    private void flushLocked() throws IOException {
        if (!changed && !dirtyOnDisk) {
            force();
            return;
        }
        markDirtyOnDisk();
        for (Table t : tables.values()) {
            if (t.dirty) {
                writeTable(t.host, t.e);
                t.dirty = false;
            }
        }
        refs.writeDirty();
        if (refs.tableDirty()) {
            ByteBuffer b = ByteBuffer.allocate(refTableClusters * geo.clusterSize()).order(ByteOrder.BIG_ENDIAN);
            b.asLongBuffer().put(refs.table());
            writeFully(b, refTableOffset);
            refs.tableWritten();
        }
        if (l1Dirty && l1Clusters > 0) {
            ByteBuffer b = ByteBuffer.allocate(l1Clusters * geo.clusterSize()).order(ByteOrder.BIG_ENDIAN);
            b.asLongBuffer().put(l1);
            writeFully(b, l1Offset);
            l1Dirty = false;
        }
        force();
        writeHeader(onDisk.withRefcountTable(refTableOffset, refTableClusters)
                .withIncompatibleFeatures(onDisk.incompatibleFeatures() & ~Qcow2Header.INCOMPAT_DIRTY));
        force();
        dirtyOnDisk = false;
        changed = false;
    }

    /** Sets the header's dirty bit, durably, before metadata on disk stops agreeing with itself. */
    private void markDirtyOnDisk() throws IOException {
        if (dirtyOnDisk) {
            return;
        }
        writeHeader(onDisk.withIncompatibleFeatures(onDisk.incompatibleFeatures() | Qcow2Header.INCOMPAT_DIRTY));
        force();
        dirtyOnDisk = true;
    }

    private void writeHeader(Qcow2Header h) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(h.writtenLength());
        h.write(b);
        writeFully(b, 0);
        onDisk = h;
    }

    private void writeTable(long at, long[] entries) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(entries.length * 8).order(ByteOrder.BIG_ENDIAN);
        b.asLongBuffer().put(entries);
        writeFully(b, at);
    }

    private void writeZerosToFile(long at, long len) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZERO_CHUNK, len));
        for (long done = 0; done < len; ) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), len - done));
            writeFully(zeros, at + done);
            done += zeros.limit();
        }
    }

    private void writeFully(ByteBuffer b, long at) throws IOException {
        long p = at;
        while (b.hasRemaining()) {
            p += channel.write(b, p);
        }
    }

    /** fsync, unless the image was created not durable (CreateOptions.durable): then the page cache is enough. */
    private void force() throws IOException {
        if (durable) {
            channel.force(false);
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException(describe() + ": closed");
        }
    }

    @Override
    public void close() throws IOException {
        barrier.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            lock.lock();
            try {
                flushLocked();
            } finally {
                lock.unlock();
                channel.close();
            }
        } finally {
            barrier.writeLock().unlock();
        }
    }

    /**
     * Stops using the file without writing anything more, as if the process had been killed:
     * for tests of {@link #reopen}.
     */
    void abandon() throws IOException {
        closed = true;
        channel.close();
    }
}
