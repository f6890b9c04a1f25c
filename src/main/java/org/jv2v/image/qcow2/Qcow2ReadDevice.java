package org.jv2v.image.qcow2;

import org.jv2v.BadInputException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.raw.HostHoles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A qcow2 image opened read-only: L2 tables are read on demand, checked once when loaded, and kept
 * in a small LRU cache; safe for reads from several threads at once.
 */
final class Qcow2ReadDevice extends Qcow2Device {
    private final long[] l1;
    private final long fileSize;
    private final Map<Long, long[]> tables;
    /** The array of the table evicted last, for the next load to fill (under the tables' lock). */
    private long[] spare;

    Qcow2ReadDevice(Qcow2Metadata meta, java.nio.channels.FileChannel channel, BlockDevice backing,
                    HostHoles holes) {
        super(meta.file(), channel, meta.geo(), meta.compression(), backing, holes);
        this.l1 = meta.l1();
        this.fileSize = meta.fileSize();
        int maxTables = (int) Math.max(4, Qcow2Limits.READ_L2_CACHE_BYTES / geo.clusterSize());
        this.tables = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, long[]> eldest) {
                if (size() > maxTables) {
                    spare = eldest.getValue();
                    return true;
                }
                return false;
            }
        };
    }

    @Override
    boolean mapping(long first, int count, long[] entries, long[] bitmaps) throws IOException {
        int l1Index = (int) (first >>> geo.l2Bits());
        long l2 = l1[l1Index] & Geometry.OFFSET_MASK;
        if (l2 == 0) {
            return false;
        }
        // Loaded and copied from under the lock: an evicted table's array is reused by the next load,
        // so no table is used outside it (and a long copy leaves no trail of dead tables behind).
        synchronized (tables) {
            long[] table = tables.get(l2);
            if (table == null) {
                long[] into = spare;
                spare = null;
                table = load(l2, l1Index, into);
                tables.put(l2, table);
            }
            int idx = (int) (first & (geo.l2Entries() - 1));
            if (bitmaps == null) {
                System.arraycopy(table, idx, entries, 0, count);
            } else {
                for (int i = 0; i < count; i++) {
                    entries[i] = table[2 * (idx + i)];
                    bitmaps[i] = table[2 * (idx + i) + 1];
                }
            }
        }
        return true;
    }

    /** A read-only image does not change size: the size checked at open. */
    @Override
    long storedSize() {
        return fileSize;
    }

    /** Reads the L2 table at {@code l2} and checks every entry that maps part of the disk. */
    private long[] load(long l2, int l1Index, long[] into) throws IOException {
        int cs = geo.clusterSize();
        ByteBuffer buf = Qcow2Metadata.readAt(file, channel, l2, cs);
        long[] t = into != null && into.length == cs / 8 ? into : new long[cs / 8];
        buf.asLongBuffer().get(t);
        int width = geo.extendedL2() ? 2 : 1;
        long firstCluster = (long) l1Index << geo.l2Bits();
        int used = (int) Math.min(geo.l2Entries(), geo.clusters() - firstCluster);
        for (int i = 0; i < used; i++) {
            check(t[i * width], width == 2 ? t[i * width + 1] : 0, l2 + (long) i * 8 * width, i);
        }
        return t;
    }

    /** The field an error names; built only then (a table has thousands of entries to check). */
    private static String field(int index) {
        return "L2 table entry " + index;
    }

    private void check(long e, long bitmap, long at, int index) {
        int cs = geo.clusterSize();
        if ((e & Geometry.COMPRESSED) != 0) {
            long off = geo.compressedOffset(e);
            long len = geo.compressedLength(e);
            // The stream ends inside the file; its last sector may run past the end by less than 512 bytes.
            long limit = (fileSize + Geometry.SECTOR - 1) & -(long) Geometry.SECTOR;
            if (off >= fileSize || off + len > limit) {
                throw BadInputException.atOffset(file, field(index), at, "compressed cluster at 0x" + Long.toHexString(off)
                        + " (" + len + " bytes) runs past the end of the file (size 0x" + Long.toHexString(fileSize)
                        + ")");
            }
            return;
        }
        long host = e & Geometry.OFFSET_MASK;
        long reads; // bytes of the host cluster that reads use
        if (geo.extendedL2()) {
            long alloc = bitmap & 0xffff_ffffL;
            long zero = bitmap >>> 32;
            if ((alloc & zero) != 0) {
                throw BadInputException.atOffset(file, field(index), at + 8, "subcluster allocation bitmap 0x"
                        + Long.toHexString(bitmap) + " marks subclusters both allocated and zero");
            }
            if (alloc != 0 && host == 0) {
                throw BadInputException.atOffset(file, field(index), at, "subclusters are allocated but the cluster has no"
                        + " host offset");
            }
            // qemu writes only the allocated subclusters: the file may end after the last of them.
            reads = (long) (32 - Integer.numberOfLeadingZeros((int) alloc)) * (cs / Geometry.SUBCLUSTERS);
        } else {
            reads = (e & Geometry.ZERO) == 0 ? cs : 0;
        }
        if (host == 0) {
            return;
        }
        if ((host & (cs - 1)) != 0) {
            throw BadInputException.atOffset(file, field(index), at, "cluster offset 0x" + Long.toHexString(host)
                    + " is not aligned to a cluster");
        }
        if (reads > 0 && host > fileSize - reads) {
            throw BadInputException.atOffset(file, field(index), at, "data cluster at 0x" + Long.toHexString(host)
                    + " is past the end of the file (size 0x" + Long.toHexString(fileSize) + ")");
        }
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            try {
                holes.close();
            } finally {
                if (backing != null) {
                    backing.close();
                }
            }
        }
    }
}
