package org.jv2v.fs.ntfs;

import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The value of one attribute (a file's $DATA, a directory's $INDEX_ALLOCATION, the MFT itself):
 * resident bytes, or runs of clusters possibly spread over several attribute records. Holes and
 * bytes past the initialized size read as zeros; LZNT1-compressed units are decompressed.
 */
final class Stream {
    /** NTFS compresses in units of 16 clusters (2^4), and only on volumes with clusters up to 4 KiB. */
    static final int STANDARD_COMPRESSION_UNIT = 4;
    static final int MAX_COMPRESSED_CLUSTER = 4096;

    private final BlockDevice device;
    private final String deviceName;
    private final String what;
    private final int clusterSize;
    private final byte[] resident;
    private final Run[] runs;
    final long dataSize;
    final long initializedSize;
    final long allocatedSize;
    private final int cuShift;        // 0: not compressed
    private final boolean encrypted;
    private long cachedUnit = -1;     // last decompressed compression unit
    private byte[] unitBuf;

    private Stream(BlockDevice device, String deviceName, String what, int clusterSize, byte[] resident, Run[] runs,
                   long dataSize, long initializedSize, long allocatedSize, int cuShift, boolean encrypted) {
        this.device = device;
        this.deviceName = deviceName;
        this.what = what;
        this.clusterSize = clusterSize;
        this.resident = resident;
        this.runs = runs;
        this.dataSize = dataSize;
        this.initializedSize = initializedSize;
        this.allocatedSize = allocatedSize;
        this.cuShift = cuShift;
        this.encrypted = encrypted;
    }

    /** A stream over the segments of one attribute (all records of the same type and name). */
    static Stream of(BlockDevice device, String deviceName, int clusterSize, List<Attr> segments) {
        Attr first = segments.getFirst();
        String what = first.describe();
        if (first.resident()) {
            if (segments.size() != 1) {
                throw Ntfs.bad(deviceName, what, first.diskOffset(), "resident attribute appears " + segments.size() + " times");
            }
            return new Stream(device, deviceName, what, clusterSize, first.value(), null, first.value().length,
                    first.value().length, first.value().length, 0, first.encrypted());
        }
        List<Attr> sorted = new ArrayList<>(segments);
        sorted.sort(Comparator.comparingLong(Attr::lowestVcn));
        Attr head = sorted.getFirst();
        if (head.lowestVcn() != 0) {
            throw Ntfs.bad(deviceName, what, head.diskOffset(), "no segment starts at VCN 0 (first starts at "
                    + head.lowestVcn() + ")");
        }
        List<Run> all = new ArrayList<>();
        long next = 0;
        for (Attr a : sorted) {
            if (a.resident()) {
                throw Ntfs.bad(deviceName, what, a.diskOffset(), "mixes resident and non-resident segments");
            }
            if (a.lowestVcn() != next) {
                throw Ntfs.bad(deviceName, what, a.diskOffset(), "segment starts at VCN " + a.lowestVcn()
                        + ", expected " + next + " (gap or overlap between attribute records)");
            }
            all.addAll(a.runs());
            next = a.highestVcn() + 1;
        }
        int cuShift = 0;
        if (head.compressed()) {
            if (head.compressionUnit() != STANDARD_COMPRESSION_UNIT || clusterSize > MAX_COMPRESSED_CLUSTER) {
                throw Ntfs.bad(deviceName, what + " compression unit", head.diskOffset() + 0x22,
                        "2^" + head.compressionUnit() + " clusters of " + clusterSize
                                + " bytes: only 16 clusters of at most 4096 bytes exist");
            }
            cuShift = STANDARD_COMPRESSION_UNIT;
        }
        return new Stream(device, deviceName, what, clusterSize, null, all.toArray(Run[]::new), head.dataSize(),
                head.initializedSize(), head.allocatedSize(), cuShift, head.encrypted());
    }

    boolean compressed() {
        return cuShift != 0;
    }

    boolean encrypted() {
        return encrypted;
    }

    List<Run> runs() {
        return runs == null ? List.of() : List.of(runs);
    }

    /** Reads up to {@code dst.remaining()} bytes at {@code pos}; -1 at the end. */
    synchronized int read(long pos, ByteBuffer dst) throws IOException {
        if (encrypted) {
            throw Ntfs.bad(deviceName, what + " is encrypted (EFS): jv2v cannot decrypt it");
        }
        if (pos >= dataSize) {
            return dst.hasRemaining() ? -1 : 0;
        }
        int n = (int) Math.min(dst.remaining(), dataSize - pos);
        if (resident != null) {
            dst.put(resident, (int) pos, n);
            return n;
        }
        long end = pos + n;
        long initEnd = Math.min(end, initializedSize);
        long p = pos;
        while (p < initEnd) {
            int chunk = cuShift != 0 ? readCompressed(p, initEnd, dst) : readPlain(p, initEnd, dst);
            p += chunk;
        }
        if (p < end) {
            zeros(dst, (int) (end - p));
        }
        return n;
    }

    /** Reads the whole value, refusing one bigger than {@code max} bytes. */
    byte[] readAll(int max) throws IOException {
        if (dataSize > max) {
            throw Ntfs.bad(deviceName, what + " is " + dataSize + " bytes, more than the " + max + " expected");
        }
        ByteBuffer b = ByteBuffer.allocate((int) dataSize);
        while (b.hasRemaining()) {
            if (read(b.position(), b) <= 0) {
                break;
            }
        }
        return b.array();
    }

    private int readPlain(long p, long end, ByteBuffer dst) throws IOException {
        long vcn = p / clusterSize;
        int i = find(vcn);
        if (i < 0) {
            throw Ntfs.bad(deviceName, what + " runlist: byte " + p + " (VCN " + vcn + ") is not mapped, though below"
                    + " the initialized size " + initializedSize);
        }
        Run r = runs[i];
        long runEndByte = r.endVcn() * clusterSize;
        int n = (int) Math.min(end - p, runEndByte - p);
        if (r.sparse()) {
            zeros(dst, n);
        } else {
            long disk = r.lcn() * clusterSize + (p - r.vcn() * clusterSize);
            ByteBuffer slice = dst.slice(dst.position(), n);
            device.read(slice, disk);
            dst.position(dst.position() + n);
        }
        return n;
    }

    private int readCompressed(long p, long end, ByteBuffer dst) throws IOException {
        int unitBytes = clusterSize << cuShift;
        long unit = p / unitBytes;
        if (unit != cachedUnit) {
            loadUnit(unit, unitBytes);
        }
        int within = (int) (p - unit * unitBytes);
        int n = (int) Math.min(end - p, unitBytes - within);
        dst.put(unitBuf, within, n);
        return n;
    }

    /** Loads compression unit {@code unit}: all clusters stored (raw), none (zeros), or some (LZNT1). */
    private void loadUnit(long unit, int unitBytes) throws IOException {
        if (unitBuf == null) {
            unitBuf = new byte[unitBytes];
        }
        cachedUnit = -1;
        int clustersPerUnit = 1 << cuShift;
        long firstVcn = unit << cuShift;
        byte[] stored = new byte[unitBytes];
        int storedClusters = 0;
        boolean hole = false;
        for (int c = 0; c < clustersPerUnit; c++) {
            long vcn = firstVcn + c;
            int i = find(vcn);
            if (i < 0 || runs[i].sparse()) {
                hole = true;
                continue;
            }
            if (hole) {
                throw Ntfs.bad(deviceName, what + " compression unit " + unit + ": stored cluster after a hole");
            }
            Run r = runs[i];
            device.read(ByteBuffer.wrap(stored, storedClusters * clusterSize, clusterSize),
                    (r.lcn() + (vcn - r.vcn())) * clusterSize);
            storedClusters++;
        }
        if (storedClusters == clustersPerUnit) {
            System.arraycopy(stored, 0, unitBuf, 0, unitBytes);
        } else if (storedClusters == 0) {
            java.util.Arrays.fill(unitBuf, (byte) 0);
        } else {
            try {
                Lznt1.decompress(stored, storedClusters * clusterSize, unitBuf);
            } catch (Lznt1.Malformed e) {
                throw Ntfs.bad(deviceName, what + " compression unit " + unit + " (VCN " + firstVcn
                        + "): corrupt LZNT1 data: " + e.getMessage());
            }
        }
        cachedUnit = unit;
    }

    /** Where byte {@code pos} of a non-resident, uncompressed value lies on the device (-1: a hole). */
    long deviceOffset(long pos) {
        if (runs == null) {
            return -1;
        }
        int i = find(pos / clusterSize);
        if (i < 0 || runs[i].sparse()) {
            return -1;
        }
        return runs[i].lcn() * clusterSize + (pos - runs[i].vcn() * clusterSize);
    }

    /** Index of the run holding {@code vcn}, or -1. */
    private int find(long vcn) {
        int lo = 0;
        int hi = runs.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Run r = runs[mid];
            if (vcn < r.vcn()) {
                hi = mid - 1;
            } else if (vcn >= r.endVcn()) {
                lo = mid + 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    private static final byte[] ZEROS = new byte[64 << 10];

    private static void zeros(ByteBuffer dst, int n) {
        while (n > 0) {
            int m = Math.min(n, ZEROS.length);
            dst.put(ZEROS, 0, m);
            n -= m;
        }
    }
}
