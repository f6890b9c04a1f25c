package org.jv2v.image.qcow2;

import org.jv2v.BadInputException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.raw.HostHoles;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading and block status for a qcow2 image, given its cluster mapping: shared by the read-only
 * device (mapping from the file) and the writer (mapping from its tables in memory). Unallocated
 * ranges fall through to the backing device, or read as zeros.
 */
abstract sealed class Qcow2Device implements BlockDevice permits Qcow2ReadDevice, Qcow2WriteDevice {
    /** Guest clusters one {@link #blockStatus} call examines before returning what it has found. */
    static final int STATUS_CLUSTERS_PER_CALL = 1 << 20;
    /**
     * ...or once it has this many extents: holes in the host file under data clusters can cut a
     * range into many pieces, and one answer should stay small whatever the disk.
     */
    static final int STATUS_EXTENTS_PER_CALL = 4096;
    /** Entries fetched from the mapping at a time. */
    private static final int BATCH = 512;
    private static final byte[] ZEROS = new byte[64 * 1024];

    private static final int DATA = 0;
    private static final int ZERO = 1;
    private static final int UNALLOCATED = 2;
    private static final int COMPRESSED = 3;

    final Path file;
    final FileChannel channel;
    final Geometry geo;
    final Compression compression;
    /** The next layer down, or null. */
    final BlockDevice backing;
    /**
     * The file's holes, consulted under uncompressed data clusters (a metadata-preallocated image
     * maps every cluster but writes few), or null where the file is ours and still being written.
     */
    final HostHoles holes;

    Qcow2Device(Path file, FileChannel channel, Geometry geo, Compression compression, BlockDevice backing,
                HostHoles holes) {
        this.file = file;
        this.channel = channel;
        this.geo = geo;
        this.compression = compression;
        this.backing = backing;
        this.holes = holes;
    }

    /**
     * Fills {@code entries} (and, with extended L2 entries, {@code bitmaps}) with the L2 entries of
     * guest clusters {@code [first, first + count)}, which lie in one L2 table. Returns false, and
     * fills nothing, when that L2 table does not exist: all of them are unallocated.
     */
    abstract boolean mapping(long first, int count, long[] entries, long[] bitmaps) throws IOException;

    @Override
    public long size() {
        return geo.size();
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        int len = dst.remaining();
        checkAccess(offset, len);
        if (len == 0) {
            return;
        }
        int base = dst.position();
        ReadRun run = new ReadRun(dst, base - offset);
        walk(offset, offset + len, run, Long.MAX_VALUE);
        run.flush();
        dst.position(base + len);
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) throws IOException {
        long end = offset + Math.min(length, size() - Math.min(offset, size()));
        checkAccess(offset, end - offset);
        List<Extent> out = new ArrayList<>();
        if (end == offset) {
            return out;
        }
        StatusRun run = new StatusRun(out);
        walk(offset, end, run, STATUS_CLUSTERS_PER_CALL);
        run.flush();
        return out;
    }

    /** The file's current size. */
    long storedSize() throws IOException {
        return channel.size();
    }

    /** Receives the pieces of a range in order: what each holds and where. */
    private interface Visitor {
        /** {@code where} is the host offset for DATA, the L2 entry for COMPRESSED. */
        void piece(int kind, long guest, long length, long where) throws IOException;

        /** True when the walk should stop at the next batch boundary (an answer is big enough). */
        default boolean full() {
            return false;
        }
    }

    /** Walks {@code [from, to)}, stopping early (at a cluster boundary) after {@code maxClusters}. */
    private void walk(long from, long to, Visitor v, long maxClusters) throws IOException {
        int cb = geo.clusterBits();
        long cs = geo.clusterSize();
        int perTable = geo.l2Entries();
        long[] entries = new long[BATCH];
        long[] bitmaps = geo.extendedL2() ? new long[BATCH] : null;
        long sub = cs / Geometry.SUBCLUSTERS;
        long pos = from;
        long visited = 0;
        while (pos < to && visited < maxClusters && !v.full()) {
            long cluster = pos >>> cb;
            long lastCluster = (to - 1) >>> cb;
            int inTable = perTable - (int) (cluster & (perTable - 1));
            int count = (int) Math.min(Math.min(inTable, BATCH), lastCluster - cluster + 1);
            if (!mapping(cluster, count, entries, bitmaps)) {
                // no L2 table: one piece for the batch, not one per cluster (a thin 2 TiB disk has
                // 32 million clusters, nearly all of them in tables that were never allocated)
                long t = Math.min(to, (cluster + count) << cb);
                v.piece(UNALLOCATED, pos, t - pos, 0);
                pos = t;
                visited += count;
                continue;
            }
            for (int i = 0; i < count; i++) {
                long cStart = (cluster + i) << cb;
                long s = Math.max(pos, cStart);
                long t = Math.min(to, cStart + cs);
                long e = entries[i];
                long host = e & Geometry.OFFSET_MASK;
                if ((e & Geometry.COMPRESSED) != 0) {
                    v.piece(COMPRESSED, s, t - s, e);
                } else if (bitmaps == null) {
                    if ((e & Geometry.ZERO) != 0) {
                        v.piece(ZERO, s, t - s, 0);
                    } else if (host == 0) {
                        v.piece(UNALLOCATED, s, t - s, 0);
                    } else {
                        v.piece(DATA, s, t - s, host + (s - cStart));
                    }
                } else {
                    long bm = bitmaps[i];
                    for (long p = s; p < t; ) {
                        int j = (int) ((p - cStart) / sub);
                        long q = Math.min(t, cStart + (j + 1) * sub);
                        if ((bm >>> j & 1) != 0) {
                            v.piece(DATA, p, q - p, host + (p - cStart));
                        } else if ((bm >>> (32 + j) & 1) != 0) {
                            v.piece(ZERO, p, q - p, 0);
                        } else {
                            v.piece(UNALLOCATED, p, q - p, 0);
                        }
                        p = q;
                    }
                }
            }
            pos = Math.min(to, (cluster + count) << cb);
            visited += count;
        }
    }

    /** Merges pieces into as few reads as possible and performs them into {@code dst}. */
    private final class ReadRun implements Visitor {
        private final ByteBuffer dst;
        private final long shift; // dst index = guest + shift
        private int kind = -1;
        private long guest;
        private long length;
        private long host;

        ReadRun(ByteBuffer dst, long shift) {
            this.dst = dst;
            this.shift = shift;
        }

        @Override
        public void piece(int k, long g, long len, long where) throws IOException {
            if (k == COMPRESSED) {
                flush();
                readCompressed(where, g, dst, (int) (g + shift), (int) len);
                return;
            }
            if (k == kind && g == guest + length && (k != DATA || where == host + length)) {
                length += len;
                return;
            }
            flush();
            kind = k;
            guest = g;
            length = len;
            host = where;
        }

        void flush() throws IOException {
            int at = (int) (guest + shift);
            int n = (int) length;
            switch (kind) {
                case DATA -> readFully(dst.slice(at, n), host, guest);
                case ZERO -> zero(dst, at, n);
                case UNALLOCATED -> readBacking(dst, at, guest, n);
                default -> {
                    // nothing pending
                }
            }
            kind = -1;
        }
    }

    /**
     * Merges pieces into extents; unallocated ranges take the backing device's status, and data
     * stored as it is takes the host file's holes (ZERO) where {@link #holes} is known. Compressed
     * clusters are DATA: their bytes are a stream, a hole in it means nothing.
     */
    private final class StatusRun implements Visitor {
        private final List<Extent> out;
        private int kind = -1;
        private long guest;
        private long length;
        private long host;
        /** Set when the host file's holes cut the answer short: later pieces are not described. */
        private boolean stopped;

        StatusRun(List<Extent> out) {
            this.out = out;
        }

        @Override
        public void piece(int k, long g, long len, long where) throws IOException {
            if (stopped) {
                return;
            }
            if (k == kind && g == guest + length && (k != DATA || holes == null || where == host + length)) {
                length += len;
                return;
            }
            flush();
            if (stopped) {
                return; // the answer ends where the last run was cut
            }
            kind = k;
            guest = g;
            length = len;
            host = where;
        }

        @Override
        public boolean full() {
            return stopped || out.size() >= STATUS_EXTENTS_PER_CALL;
        }

        void flush() throws IOException {
            switch (kind) {
                case DATA -> {
                    if (holes != null) {
                        stopped = holes.appendStatus(out, guest, host, length, STATUS_EXTENTS_PER_CALL) < length;
                    } else {
                        Extent.append(out, guest, length, ExtentType.DATA);
                    }
                }
                case COMPRESSED -> Extent.append(out, guest, length, ExtentType.DATA);
                case ZERO -> Extent.append(out, guest, length, ExtentType.ZERO);
                case UNALLOCATED -> backingStatus(out, guest, length);
                default -> {
                    // nothing pending
                }
            }
            kind = -1;
        }
    }

    private void backingStatus(List<Extent> out, long from, long len) throws IOException {
        Extent.appendStatusOf(out, backing, from, from + len);
    }

    /** Reads guest {@code [guest, guest + n)} from the backing device, zeros beyond its end. */
    private void readBacking(ByteBuffer dst, int at, long guest, int n) throws IOException {
        int fromBacking = backing == null ? 0 : (int) Math.max(0, Math.min(n, backing.size() - guest));
        if (fromBacking > 0) {
            backing.read(dst.slice(at, fromBacking), guest);
        }
        zero(dst, at + fromBacking, n - fromBacking);
    }

    static void zero(ByteBuffer dst, int at, int n) {
        for (int done = 0; done < n; ) {
            int k = Math.min(ZEROS.length, n - done);
            dst.put(at + done, ZEROS, 0, k);
            done += k;
        }
    }

    /** Reads exactly {@code dst.remaining()} bytes of the file at {@code host}. */
    void readFully(ByteBuffer dst, long host, long guest) throws IOException {
        long p = host;
        while (dst.hasRemaining()) {
            int r = channel.read(dst, p);
            if (r < 0) {
                throw new EOFException(file + ": unexpected end of file at offset 0x" + Long.toHexString(p)
                        + " reading the data of guest offset 0x" + Long.toHexString(guest));
            }
            p += r;
        }
    }

    /** Per-thread buffers and the last cluster decompressed, for reads of a compressed cluster in parts. */
    private static final class Inflated {
        Object owner;
        long entry;
        byte[] stored = new byte[0];
        byte[] data = new byte[0];
    }

    private static final ThreadLocal<Inflated> INFLATED = ThreadLocal.withInitial(Inflated::new);

    /** The cluster a compressed L2 entry describes, decompressed (valid until this thread's next call). */
    byte[] decompressCluster(long entry, long guest) throws IOException {
        int cs = geo.clusterSize();
        Inflated c = INFLATED.get();
        if (c.owner == this && c.entry == entry && c.data.length >= cs) {
            return c.data;
        }
        long off = geo.compressedOffset(entry);
        int len = geo.compressedLength(entry);
        // The last sector may run past the end of the file: what is there is all of the stream.
        long fileSize = storedSize();
        int avail = (int) Math.max(0, Math.min(len, fileSize - off));
        if (c.stored.length < len) {
            c.stored = new byte[len];
        }
        if (c.data.length < cs) {
            c.data = new byte[cs];
        }
        c.owner = null;
        ByteBuffer in = ByteBuffer.wrap(c.stored, 0, avail);
        readFully(in, off, guest);
        try {
            compression.decompress(c.stored, avail, c.data, cs);
        } catch (Compression.CorruptDataException e) {
            throw BadInputException.atOffset(file, "compressed cluster of guest offset 0x"
                    + Long.toHexString(guest & -(long) cs), off, e.getMessage());
        }
        c.owner = this;
        c.entry = entry;
        return c.data;
    }

    private void readCompressed(long entry, long guest, ByteBuffer dst, int at, int n) throws IOException {
        byte[] data = decompressCluster(entry, guest);
        int inCluster = (int) (guest & (geo.clusterSize() - 1));
        dst.put(at, data, inCluster, n);
    }

    @Override
    public String describe() {
        return file + " (qcow2)";
    }
}
