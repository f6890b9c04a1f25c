package org.jv2v.image.vmdk;

import org.jv2v.BadInputException;
import org.jv2v.LruMap;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A grain-mapped extent: a grain directory of grain tables whose entries say, for each grain, where
 * it is stored, or that it is zero, or that this layer does not hold it. Three on-disk flavours
 * share the logic: hosted sparse ("KDMV": monolithicSparse, twoGbMaxExtentSparse, streamOptimized,
 * with compressed grains), ESX sparse ("COWD", vmfsSparse deltas) and SEsparse (ESXi 6.5+ deltas).
 *
 * <p>Reads are positional and thread-safe. Grains that lie next to each other in the file are read
 * with one call; the compressed grains of one read are fetched with few large reads and inflated on
 * several threads at once.
 */
final class GrainExtent implements VmdkExtent {

    enum Kind { HOSTED, COWD, SESPARSE }

    /** qemu's bound on a grain (1 GiB): nothing is allocated from it for uncompressed extents. */
    static final long MAX_GRAIN_SECTORS = 0x200000;
    /** Compressed grains are inflated into buffers of this size; VMware writes 64 KiB grains. */
    static final long MAX_COMPRESSED_GRAIN_SECTORS = 2048;
    /** Hosted grain tables have 512 entries (the spec's numGTEsPerGT; qemu refuses more). */
    static final int MAX_HOSTED_GT_ENTRIES = 512;
    /**
     * Grain directory entries held in memory (int each, 16 MiB): 64 TiB of SEsparse needs 4M
     * entries of 16 MiB; hosted and COWD disks (at most 2 TiB of 32-bit sectors) need fewer.
     */
    static final long MAX_GD_ENTRIES = 1L << 22;
    /** Decompressed grains kept for reads smaller than a grain (a file system being inspected). */
    private static final int RECENT_GRAINS = 16;
    /**
     * Bytes read at once for a group of compressed grains that lie together in the file: the
     * compressed form of a 4 MiB read. Group buffers are pooled (direct, never garbage): at most
     * {@link #POOLED_GROUPS} of them are kept.
     */
    private static final int MAX_GROUP_BYTES = 4 << 20;
    private static final int POOLED_GROUPS = 8;
    private static final ConcurrentLinkedQueue<ByteBuffer> GROUPS = new ConcurrentLinkedQueue<>();
    /** Bytes read past the last grain of a group: its marker and usually all of its data. */
    private static final int GROUP_TAIL = 4096;
    /** Bytes of consecutive grain tables loaded with one read (64 hosted tables, 8 SEsparse ones). */
    private static final int TABLE_READ_BYTES = 256 << 10;
    private static final int MARKER_BYTES = 12;     // 0x00 lba (u64), 0x08 size (u32), 0x0c data

    private static final long UNALLOCATED = 0;
    private static final long ZERO = -1;
    private static final long BAD = -2;

    private static final ConcurrentLinkedQueue<Inflater> INFLATERS = new ConcurrentLinkedQueue<>();
    private static volatile ForkJoinPool pool;

    private final Source src;
    private final long fileSize;
    private final Kind kind;
    private final long size;
    private final int grainBytes;
    private final int gtEntries;
    private final int entryBytes;
    /** Grain table positions in sectors (unsigned); 0 = no table. */
    private final int[] gd;
    /** File offset of the grain directory (of each entry's first byte), for messages. */
    private final long gdFileOffset;
    private final int gdEntryBytes;
    private final boolean zeroedGrains;
    private final boolean compressed;
    private final boolean markers;
    private final long seGrainsOffset;
    private final GrainTableCache cache;
    private final int id;
    private final Map<Long, byte[]> recent = new LruMap<>(RECENT_GRAINS);

    private GrainExtent(Source src, Kind kind, long sizeBytes, long grainSectors, int gtEntries,
                        int entryBytes, int[] gd, long gdFileOffset, int gdEntryBytes, boolean zeroedGrains,
                        boolean compressed, boolean markers, long seGrainsOffset, GrainTableCache cache)
            throws IOException {
        this.src = src;
        this.fileSize = src.size();
        this.kind = kind;
        this.size = sizeBytes;
        this.grainBytes = (int) (grainSectors * 512);
        this.gtEntries = gtEntries;
        this.entryBytes = entryBytes;
        this.gd = gd;
        this.gdFileOffset = gdFileOffset;
        this.gdEntryBytes = gdEntryBytes;
        this.zeroedGrains = zeroedGrains;
        this.compressed = compressed;
        this.markers = markers;
        this.seGrainsOffset = seGrainsOffset;
        this.cache = cache;
        this.id = cache.newExtentId();
    }

    // ------------------------------------------------------------------------------------ opening

    /** Opens a hosted sparse extent ("KDMV"), reading the streamOptimized footer when needed. */
    static GrainExtent openHosted(Source src, GrainTableCache cache) throws IOException {
        long fsize = src.size();
        ByteBuffer hb = ByteBuffer.allocate((int) Math.min(fsize, SparseHeader.SIZE));
        Io.readFully(src, hb, 0, "sparse extent header");
        SparseHeader h = SparseHeader.read(hb.flip(), src, 0);
        long at = 0;
        if (h.gdOffset() == SparseHeader.GD_AT_END) {
            at = fsize - 1024;
            h = readFooter(src, fsize);
        }
        if (h.version() < 1 || h.version() > 3) {
            throw src.bad("version", at + 0x04, "unsupported sparse extent version "
                    + h.version());
        }
        if (h.capacity() < 0 || h.capacity() > VmdkDescriptor.MAX_SECTORS) {
            throw src.bad("capacity", at + 0x0c, "capacity of " + h.capacity()
                    + " sectors is out of range (0.." + VmdkDescriptor.MAX_SECTORS + ")");
        }
        if (h.compressAlgorithm() != SparseHeader.COMPRESSION_NONE && !h.compressed()) {
            throw src.bad("compressAlgorithm", at + 0x4d, "unknown compression "
                    + h.compressAlgorithm());
        }
        long maxGrain = h.compressed() ? MAX_COMPRESSED_GRAIN_SECTORS : MAX_GRAIN_SECTORS;
        checkGrain(src, at + 0x14, h.grainSize(), maxGrain);
        if (h.numGTEsPerGT() <= 0 || h.numGTEsPerGT() > MAX_HOSTED_GT_ENTRIES) {
            throw src.bad("numGTEsPerGT", at + 0x2c, "grain tables of "
                    + Integer.toUnsignedString(h.numGTEsPerGT()) + " entries (1.." + MAX_HOSTED_GT_ENTRIES + " allowed)");
        }
        if (h.overhead() < 0 || h.overhead() > fsize / 512) {
            throw src.bad("overHead", at + 0x40, "grains start at sector " + h.overhead()
                    + " but the file has only " + fsize / 512 + " sectors (truncated file?)");
        }
        long perTable = h.grainSize() * h.numGTEsPerGT();
        long entries = ceilDiv(h.capacity(), perTable);
        int[] gd = readDirectory(src, h.gdOffset(), entries, at + 0x38, "gdOffset");
        return new GrainExtent(src, Kind.HOSTED, h.capacity() * 512, h.grainSize(), h.numGTEsPerGT(), 4, gd,
                h.gdOffset() * 512, 4, h.zeroedGrainGte(), h.compressed(), h.markers(), 0, cache);
    }

    /** The footer of a streamOptimized extent: footer marker, header copy, end-of-stream marker. */
    private static SparseHeader readFooter(Source src, long fsize) throws IOException {
        if (fsize < 512 + 1536) {
            throw src.bad("gdOffset", 0x38, "grain directory at the end, but the file ("
                    + fsize + " bytes) is too short for a footer");
        }
        long at = fsize - 1536;
        ByteBuffer f = ByteBuffer.allocate(1536).order(ByteOrder.LITTLE_ENDIAN);
        Io.readFully(src, f, at, "footer");
        f.flip();
        // marker: 0x00 value (u64), 0x08 size (u32, 0 for a metadata marker), 0x0c type (u32)
        if (f.getInt(0x08) != 0 || f.getInt(0x0c) != 3) {
            throw src.bad("footer marker", at, "no footer marker before the end-of-stream "
                    + "marker (truncated stream?)");
        }
        if (f.getLong(1024) != 0 || f.getInt(1024 + 0x08) != 0 || f.getInt(1024 + 0x0c) != 0) {
            throw src.bad("end-of-stream marker", at + 1024, "missing (truncated stream?)");
        }
        SparseHeader h = SparseHeader.read(f.slice(512, 512), src, at + 512);
        if (h.gdOffset() == SparseHeader.GD_AT_END) {
            throw src.bad("gdOffset", at + 512 + 0x38, "the footer does not say where the "
                    + "grain directory is");
        }
        return h;
    }

    /** Opens an ESX sparse extent ("COWD"). */
    static GrainExtent openCowd(Source src, GrainTableCache cache) throws IOException {
        ByteBuffer hb = ByteBuffer.allocate((int) Math.min(src.size(), CowdHeader.SIZE));
        Io.readFully(src, hb, 0, "COWD header");
        CowdHeader h = CowdHeader.read(hb.flip(), src);
        checkGrain(src, 0x10, h.grainSize(), MAX_GRAIN_SECTORS);
        long needed = ceilDiv(h.numSectors(), h.grainSize() * CowdHeader.GT_ENTRIES);
        if (h.numGDEntries() < needed || h.numGDEntries() > MAX_GD_ENTRIES) {
            throw src.bad("numGDEntries", 0x18, h.numGDEntries() + " grain directory entries"
                    + " for " + h.numSectors() + " sectors (" + needed + " needed, at most " + MAX_GD_ENTRIES + ")");
        }
        int[] gd = readDirectory(src, h.gdOffset(), needed, 0x14, "gdOffset");
        return new GrainExtent(src, Kind.COWD, h.numSectors() * 512, h.grainSize(), CowdHeader.GT_ENTRIES, 4,
                gd, h.gdOffset() * 512, 4, false, false, false, 0, cache);
    }

    /** Opens an SEsparse extent. */
    static GrainExtent openSeSparse(Source src, GrainTableCache cache) throws IOException {
        long fsize = src.size();
        ByteBuffer hb = ByteBuffer.allocate((int) Math.min(fsize, SeSparseHeader.SIZE));
        Io.readFully(src, hb, 0, "SEsparse header");
        SeSparseHeader h = SeSparseHeader.read(hb.flip(), src);
        if (h.version() != SeSparseHeader.VERSION_2_1) {
            throw src.bad("version", 0x08, "unsupported SEsparse version 0x"
                    + Long.toHexString(h.version()));
        }
        if (h.grainSize() != 8) {
            throw src.bad("grainSize", 0x18, "unsupported SEsparse grain of " + h.grainSize()
                    + " sectors (ESXi writes 8)");
        }
        if (h.grainTableSize() != 64) {
            throw src.bad("grainTableSize", 0x20, "unsupported SEsparse grain table of "
                    + h.grainTableSize() + " sectors (ESXi writes 64)");
        }
        if (h.flags() != 0) {
            throw src.bad("flags", 0x28, "unsupported SEsparse flags 0x"
                    + Long.toHexString(h.flags()));
        }
        if (h.capacity() < 0 || h.capacity() > VmdkDescriptor.MAX_SECTORS) {
            throw src.bad("capacity", 0x10, "capacity of " + h.capacity()
                    + " sectors is out of range");
        }
        long vat = h.volatileHeaderOffset() * 512;
        if (h.volatileHeaderOffset() <= 0 || h.volatileHeaderOffset() > fsize / 512 - 1) {
            throw src.bad("volatileHeaderOffset", 0x50, "volatile header at sector "
                    + h.volatileHeaderOffset() + " is outside the file");
        }
        ByteBuffer vb = ByteBuffer.allocate(512);
        Io.readFully(src, vb, vat, "SEsparse volatile header");
        SeSparseHeader.checkVolatile(vb.flip(), src, vat);

        int gtEntries = (int) (h.grainTableSize() * 512 / 8);
        long needed = ceilDiv(h.capacity(), h.grainSize() * gtEntries);
        if (h.grainDirSize() < 0 || h.grainDirSize() > MAX_GD_ENTRIES / 64 || h.grainDirSize() * 64 < needed) {
            throw src.bad("grainDirSize", 0x88, "grain directory of " + h.grainDirSize()
                    + " sectors for " + h.capacity() + " sectors of disk (" + needed + " entries needed)");
        }
        long tables = h.grainTablesSize() / h.grainTableSize();
        if (h.grainTablesOffset() <= 0 || h.grainTablesSize() < 0 || h.grainTablesOffset() > fsize / 512) {
            throw src.bad("grainTablesOffset", 0x90, "grain tables at sector "
                    + h.grainTablesOffset() + " are outside the file");
        }
        if (h.grainsOffset() <= 0 || h.grainsOffset() > VmdkDescriptor.MAX_SECTORS) {
            throw src.bad("grainsOffset", 0xc0, "grains at sector " + h.grainsOffset()
                    + " are out of range");
        }
        long gdAt = h.grainDirOffset() * 512;
        if (h.grainDirOffset() <= 0 || h.grainDirOffset() > fsize / 512 || gdAt + needed * 8 > fsize) {
            throw src.bad("grainDirOffset", 0x80, "grain directory at 0x"
                    + Long.toHexString(gdAt) + " lies past the end of the file (" + fsize + " bytes)");
        }
        int[] gd = new int[(int) needed];
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(needed * 8, 1 << 20)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < needed; ) {
            b.clear().limit((int) Math.min(b.capacity(), (needed - i) * 8));
            Io.readFully(src, b, gdAt + i * 8L, "grain directory");
            b.flip();
            while (b.hasRemaining()) {
                long e = b.getLong();
                long entryAt = gdAt + i * 8L;
                if (e != 0) {
                    // top 32 bits 0x10000000 mark an allocated table; the low 32 bits are its index
                    long index = e & 0xffffffffL;
                    if ((e >>> 32) != 0x10000000L || index >= tables) {
                        throw src.bad("grain directory entry " + i, entryAt, "invalid entry 0x"
                                + Long.toHexString(e) + " (" + tables + " grain tables in the file)");
                    }
                    long sector = h.grainTablesOffset() + index * h.grainTableSize();
                    if (sector > 0xffffffffL) {
                        throw src.bad("grain directory entry " + i, entryAt,
                                "grain table beyond 2 TiB");
                    }
                    gd[i] = (int) sector;
                }
                i++;
            }
        }
        return new GrainExtent(src, Kind.SESPARSE, h.capacity() * 512, h.grainSize(), gtEntries, 8, gd, gdAt, 8,
                false, false, false, h.grainsOffset(), cache);
    }

    private static void checkGrain(Source src, long at, long grainSectors, long max) {
        if (grainSectors <= 0 || grainSectors > max || Long.bitCount(grainSectors) != 1) {
            throw src.bad("grainSize", at, "grain of " + grainSectors
                    + " sectors (a power of two up to " + max + " expected)");
        }
    }

    /** Reads {@code entries} 32-bit sector numbers at sector {@code gdSector}, capped before allocating. */
    private static int[] readDirectory(Source src, long gdSector, long entries, long fieldAt,
                                       String field) throws IOException {
        if (entries > MAX_GD_ENTRIES) {
            throw src.bad(field, fieldAt, "a grain directory of " + entries
                    + " entries is too big (at most " + MAX_GD_ENTRIES + ")");
        }
        long at = gdSector * 512;
        if (entries > 0 && (gdSector <= 0 || gdSector > src.size() / 512 || at + entries * 4 > src.size())) {
            throw src.bad(field, fieldAt, "grain directory at sector " + gdSector
                    + " (" + entries + " entries) is not inside the file (" + src.size() + " bytes; truncated file?)");
        }
        int[] gd = new int[(int) entries];
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(entries * 4, 1 << 20)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < entries; ) {
            b.clear().limit((int) Math.min(b.capacity(), (entries - i) * 4));
            Io.readFully(src, b, at + i * 4L, "grain directory");
            b.flip();
            while (b.hasRemaining()) {
                gd[i++] = b.getInt();
            }
        }
        return gd;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    // ------------------------------------------------------------------------------------ lookup

    Source source() {
        return src;
    }

    Kind kind() {
        return kind;
    }

    boolean compressed() {
        return compressed;
    }

    @Override
    public long size() {
        return size;
    }

    /** The entry of {@code grain}: UNALLOCATED, ZERO, BAD or the grain's byte offset in the file. */
    private long lookup(long grain) throws IOException {
        int t = (int) (grain / gtEntries);
        if (gd[t] == 0) {
            return UNALLOCATED;
        }
        return table(t)[(int) (grain % gtEntries)];
    }

    /** Grain table {@code t} (its directory entry must not be 0), decoded, from the cache or the file. */
    private long[] table(int t) throws IOException {
        long[] table = cache.get(id, t);
        if (table == null) {
            table = loadTables(t);
        }
        return table;
    }

    /**
     * Loads table {@code t} and the tables that follow it in the file (writers lay them out one
     * after the other), with one read of at most {@link #TABLE_READ_BYTES}: a sequential scan of a
     * 2 TiB disk then needs a thousand reads, not 64k.
     */
    private long[] loadTables(int t) throws IOException {
        int bytes = gtEntries * entryBytes;
        long stride = (bytes + 511) / 512;
        int more = 0;
        while (t + more + 1 < gd.length && (more + 1) * stride * 512 + bytes <= TABLE_READ_BYTES
                && Integer.toUnsignedLong(gd[t + more + 1]) == Integer.toUnsignedLong(gd[t]) + (more + 1) * stride
                && tableOffset(t + more + 1) + bytes <= fileSize) {
            more++;
        }
        long at = tableOffset(t);
        if (at + bytes > fileSize) {
            throw src.bad("grain directory entry " + t, gdFileOffset + (long) t * gdEntryBytes,
                    "grain table at 0x" + Long.toHexString(at) + " lies past the end of the file (" + fileSize + " bytes)");
        }
        ByteBuffer b = ByteBuffer.allocate((int) (more * stride * 512 + bytes)).order(ByteOrder.LITTLE_ENDIAN);
        Io.readFully(src, b, at, "grain table");
        long[] first = null;
        for (int k = 0; k <= more; k++) {
            b.position((int) (k * stride * 512));
            long[] table = decodeTable(t + k, b);
            cache.put(id, t + k, table);
            if (k == 0) {
                first = table;
            }
        }
        return first;
    }

    private long tableOffset(int t) {
        return Integer.toUnsignedLong(gd[t]) * 512;
    }

    private long[] decodeTable(int t, ByteBuffer b) {
        long[] out = new long[gtEntries];
        long first = (long) t * gtEntries;
        for (int i = 0; i < gtEntries; i++) {
            long raw = entryBytes == 4 ? Integer.toUnsignedLong(b.getInt()) : b.getLong();
            out[i] = decode(raw, first + i);
        }
        return out;
    }

    /** Decodes a raw entry, or returns BAD (then {@link #explain} says why). */
    private long decode(long raw, long grain) {
        long offset;
        switch (kind) {
            case HOSTED, COWD -> {
                if (raw == 0) {
                    return UNALLOCATED;
                }
                if (raw == 1 && zeroedGrains) {
                    return ZERO;
                }
                offset = raw * 512;
            }
            case SESPARSE -> {
                long type = raw >>> 60;
                if (type == 0) {
                    return raw == 0 ? UNALLOCATED : BAD;
                }
                if (type == 1 || type == 2) {
                    return ZERO;        // 1: unmapped by the guest, 2: zeroed: both read as zeros
                }
                if (type != 3) {
                    return BAD;
                }
                // the index is stored split: its low 12 bits in bits 48..59, the rest in bits 0..47
                long index = ((raw & 0x0fff000000000000L) >>> 48) | ((raw & 0x0000ffffffffffffL) << 12);
                if (index > fileSize / grainBytes) {
                    return BAD;
                }
                offset = (seGrainsOffset * 512) + index * grainBytes;
            }
            default -> throw new IllegalStateException();
        }
        long needed = compressed ? (markers ? MARKER_BYTES : 1) : grainLength(grain);
        if (offset < 0 || offset > fileSize || needed > fileSize - offset) {
            return BAD;
        }
        return offset;
    }

    /** Bytes of {@code grain} inside the extent (the last grain may be cut by the capacity). */
    private int grainLength(long grain) {
        return (int) Math.min(grainBytes, size - grain * grainBytes);
    }

    private BadInputException explain(long grain) throws IOException {
        int t = (int) (grain / gtEntries);
        int i = (int) (grain % gtEntries);
        long at = tableOffset(t) + (long) i * entryBytes;
        ByteBuffer b = ByteBuffer.allocate(entryBytes).order(ByteOrder.LITTLE_ENDIAN);
        Io.readFully(src, b, at, "grain table entry");
        long raw = entryBytes == 4 ? Integer.toUnsignedLong(b.getInt(0)) : b.getLong(0);
        String field = "grain table entry " + i + " of table " + t;
        if (kind == Kind.SESPARSE && (raw >>> 60) != 3) {
            return src.bad(field, at, "invalid entry 0x" + Long.toHexString(raw));
        }
        return src.bad(field, at, "grain " + grain + " points past the end of the file ("
                + fileSize + " bytes)");
    }

    // ------------------------------------------------------------------------------------ reading

    /** A piece of one read: {@code len} bytes at {@code dst} offset {@code at}. */
    private record Piece(int at, int len, long grain, int inGrain, long fileOffset) {}

    @Override
    public void read(ByteBuffer dst, long offset, Below below) throws IOException {
        final int base = dst.position();
        final int total = dst.remaining();
        List<Piece> packed = null;
        int runKind = Integer.MIN_VALUE;
        int runAt = 0;
        int runLen = 0;
        long runFile = 0;
        long pos = offset;
        for (int d = 0; d < total; ) {
            long grain = pos / grainBytes;
            int in = (int) (pos % grainBytes);
            int n = (int) Math.min(total - d, grainBytes - in);
            long e = lookup(grain);
            if (e == BAD) {
                throw explain(grain);
            }
            if (e > 0 && compressed) {
                if (packed == null) {
                    packed = new ArrayList<>();
                }
                packed.add(new Piece(d, n, grain, in, e));
            } else {
                int k = e > 0 ? 1 : (int) e;
                if (k == runKind && (k != 1 || runFile + runLen == e + in)) {
                    runLen += n;
                } else {
                    flush(dst, base, runKind, runAt, runLen, runFile, offset, below);
                    runKind = k;
                    runAt = d;
                    runLen = n;
                    runFile = e + in;
                }
            }
            d += n;
            pos += n;
        }
        flush(dst, base, runKind, runAt, runLen, runFile, offset, below);
        if (packed != null) {
            readCompressed(dst, base, packed);
        }
        dst.position(base + total);
    }

    private void flush(ByteBuffer dst, int base, int kind, int at, int len, long fileOffset, long offset, Below below)
            throws IOException {
        if (len == 0) {
            return;
        }
        ByteBuffer part = dst.slice(base + at, len);
        if (kind == 1) {
            Io.readFully(src, part, fileOffset, "grain data");
        } else if (kind == (int) ZERO) {
            Io.zero(part);
        } else {
            below.read(part, offset + at);
        }
    }

    /** Fetches the compressed grains with few large reads, then inflates them in parallel. */
    private void readCompressed(ByteBuffer dst, int base, List<Piece> pieces) throws IOException {
        if (pieces.size() == 1) {
            inflatePiece(dst, base, pieces.getFirst(), null, 0);
            return;
        }
        List<Piece> sorted = new ArrayList<>(pieces);
        sorted.sort(Comparator.comparingLong(Piece::fileOffset));
        long maxSpan = MARKER_BYTES + 2L * grainBytes + 512;
        List<Task> tasks = new ArrayList<>(sorted.size());
        List<ByteBuffer> borrowed = new ArrayList<>();
        try {
            for (int i = 0; i < sorted.size(); ) {
                int j = i;
                long start = sorted.get(i).fileOffset();
                while (j + 1 < sorted.size()
                        && sorted.get(j + 1).fileOffset() - sorted.get(j).fileOffset() <= maxSpan
                        && sorted.get(j + 1).fileOffset() - start + GROUP_TAIL <= MAX_GROUP_BYTES) {
                    j++;
                }
                long end = Math.min(fileSize, sorted.get(j).fileOffset() + GROUP_TAIL);
                ByteBuffer group = GROUPS.poll();
                if (group == null) {
                    group = ByteBuffer.allocateDirect(MAX_GROUP_BYTES);
                }
                borrowed.add(group);
                group.clear().limit((int) (end - start));
                Io.readFully(src, group, start, "compressed grains");
                ByteBuffer bytes = group.flip().asReadOnlyBuffer();
                for (int k = i; k <= j; k++) {
                    Piece p = sorted.get(k);
                    tasks.add(() -> inflatePiece(dst, base, p, bytes, start));
                }
                i = j + 1;
            }
            runAll(tasks);
        } finally {
            for (ByteBuffer g : borrowed) {
                if (GROUPS.size() < POOLED_GROUPS) {
                    GROUPS.offer(g);
                }
            }
        }
    }

    /** One unit of inflation work. */
    @FunctionalInterface
    private interface Task {
        void run() throws IOException;
    }

    /**
     * Runs the tasks on the calling thread and on the pool's threads at once, each taking the next
     * task from a shared counter. The caller never just waits: if the machine is busy and the pool's
     * threads are not scheduled, it does the work itself; a pool thread that started is waited
     * for (it writes into the caller's buffer), one that did not is claimed and skipped.
     */
    private static void runAll(List<Task> tasks) throws IOException {
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int n = tasks.size();
        Runnable worker = () -> {
            for (int k; (k = next.getAndIncrement()) < n; ) {
                try {
                    tasks.get(k).run();
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    next.set(n);
                }
            }
        };
        ForkJoinPool p = pool();
        int count = Math.min(p.getParallelism(), n - 1);
        List<Helper> helpers = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Helper h = new Helper(worker);
            helpers.add(h);
            p.execute(h);
        }
        worker.run();
        boolean interrupted = false;
        for (Helper h : helpers) {
            // claim the helpers that never started; wait for those that did (they write into dst)
            if (!h.claimed.compareAndSet(false, true)) {
                while (true) {
                    try {
                        h.done.await();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable t = failure.get();
        if (t instanceof IOException io) {
            throw io;
        }
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
    }

    /** A pool thread's share of {@link #runAll}: runs only if the caller has not claimed it first. */
    private static final class Helper implements Runnable {
        final AtomicBoolean claimed = new AtomicBoolean();
        final CountDownLatch done = new CountDownLatch(1);
        private final Runnable work;

        Helper(Runnable work) {
            this.work = work;
        }

        @Override
        public void run() {
            if (!claimed.compareAndSet(false, true)) {
                return;
            }
            try {
                work.run();
            } finally {
                done.countDown();
            }
        }
    }

    private static ForkJoinPool pool() {
        ForkJoinPool p = pool;
        if (p == null) {
            synchronized (GrainExtent.class) {
                if (pool == null) {
                    pool = new ForkJoinPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
                }
                p = pool;
            }
        }
        return p;
    }

    /**
     * Inflates the grain of {@code p} into its place in {@code dst}; {@code group} holds the file's
     * bytes from {@code groupStart} when already read.
     */
    private void inflatePiece(ByteBuffer dst, int base, Piece p, ByteBuffer group, long groupStart) throws IOException {
        int grainLen = grainLength(p.grain());
        if (p.inGrain() == 0 && p.len() == grainLen) {
            inflateGrain(p.grain(), p.fileOffset(), group, groupStart, dst.slice(base + p.at(), p.len()));
            return;
        }
        byte[] whole;
        synchronized (recent) {
            whole = recent.get(p.grain());
        }
        if (whole == null) {
            whole = new byte[grainLen];
            inflateGrain(p.grain(), p.fileOffset(), group, groupStart, ByteBuffer.wrap(whole));
            synchronized (recent) {
                recent.put(p.grain(), whole);
            }
        }
        dst.put(base + p.at(), whole, p.inGrain(), p.len());
    }

    /** Inflates the compressed grain at {@code at} into all of {@code out} (exactly the grain's bytes). */
    private void inflateGrain(long grain, long at, ByteBuffer group, long groupStart, ByteBuffer out)
            throws IOException {
        ByteBuffer in = group;
        int inOff = group == null ? 0 : (int) (at - groupStart);
        int dataOff;
        int dataLen;
        if (markers) {
            if (in == null || inOff + MARKER_BYTES > in.limit()) {
                in = readBytes(at, (int) Math.min(fileSize - at, GROUP_TAIL), "grain marker");
                inOff = 0;
            }
            // 0x08 size of the compressed data (the group buffer is shared: read it through a duplicate)
            long size = Integer.toUnsignedLong(in.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt(inOff + 8));
            if (size == 0) {
                throw src.bad("grain marker size", at + 8, "grain " + grain
                        + " points at a metadata marker (compressed size 0), not at grain data");
            }
            if (size > 2L * grainBytes) {
                throw src.bad("grain marker size", at + 8, "compressed grain of " + size
                        + " bytes, more than twice the grain size");
            }
            if (at + MARKER_BYTES + size > fileSize) {
                throw src.bad("grain marker size", at + 8, "compressed grain of " + size
                        + " bytes runs past the end of the file (" + fileSize + " bytes; truncated file?)");
            }
            dataLen = (int) size;
            dataOff = inOff + MARKER_BYTES;
            if (dataOff + dataLen > in.limit()) {
                in = readBytes(at + MARKER_BYTES, dataLen, "compressed grain");
                dataOff = 0;
            }
        } else {
            dataLen = (int) Math.min(2L * grainBytes, fileSize - at);
            in = readBytes(at, dataLen, "compressed grain");
            dataOff = 0;
        }
        Inflater inf = INFLATERS.poll();
        if (inf == null) {
            inf = new Inflater();
        }
        try {
            inf.setInput(in.slice(dataOff, dataLen));
            int want = out.remaining();
            while (out.hasRemaining()) {
                if (inf.inflate(out) == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) {
                    break;
                }
            }
            if (out.hasRemaining()) {
                throw src.bad("compressed grain", at, "grain " + grain + " inflates to "
                        + (want - out.remaining()) + " bytes, " + want + " expected");
            }
            if (!inf.finished()) {
                // the stream may only go on to the end of a whole grain (a cut last grain)
                byte[] rest = new byte[grainBytes - want + 1];
                int extra = 0;
                while (!inf.finished() && extra < rest.length) {
                    int n = inf.inflate(rest, extra, rest.length - extra);
                    if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                        break;
                    }
                    extra += n;
                }
                if (!inf.finished()) {
                    throw src.bad("compressed grain", at, "grain " + grain
                            + (extra > grainBytes - want ? " inflates to more than a grain" : " is cut short"));
                }
            }
        } catch (DataFormatException e) {
            throw src.bad("compressed grain", at, "grain " + grain + " is not valid zlib data ("
                    + e.getMessage() + ")");
        } finally {
            inf.reset();
            if (INFLATERS.size() < 64) {
                INFLATERS.offer(inf);
            } else {
                inf.end();
            }
        }
    }

    private ByteBuffer readBytes(long at, int len, String what) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        Io.readFully(src, b, at, what);
        return b.flip();
    }

    // ------------------------------------------------------------------------------------ status

    @Override
    public void status(long offset, long length, long deviceStart, List<Extent> out, int maxRuns) throws IOException {
        long end = offset + length;
        long pos = offset;
        long tableBytes = (long) grainBytes * gtEntries;
        while (pos < end && out.size() < maxRuns) {
            long grain = pos / grainBytes;
            int t = (int) (grain / gtEntries);
            long n;
            ExtentType type;
            if (gd[t] == 0) {
                n = Math.min(end, (t + 1) * tableBytes) - pos;
                type = ExtentType.UNALLOCATED;
            } else {
                // walk the table's entries while they say the same thing
                long[] table = table(t);
                long first = (long) t * gtEntries;
                int i = (int) (grain - first);
                if (table[i] == BAD) {
                    throw explain(grain);
                }
                type = typeOf(table[i]);
                long lastGrain = Math.min(first + gtEntries, (end + grainBytes - 1) / grainBytes);
                long g = grain + 1;
                while (g < lastGrain && table[(int) (g - first)] != BAD && typeOf(table[(int) (g - first)]) == type) {
                    g++;
                }
                n = Math.min(end, g * grainBytes) - pos;
            }
            Extent.append(out, deviceStart + pos, n, type);
            pos += n;
        }
    }

    private static ExtentType typeOf(long entry) {
        return entry > 0 ? ExtentType.DATA : entry == ZERO ? ExtentType.ZERO : ExtentType.UNALLOCATED;
    }

    @Override
    public void close() throws IOException {
        cache.drop(id);
        src.channel().close();
    }
}
