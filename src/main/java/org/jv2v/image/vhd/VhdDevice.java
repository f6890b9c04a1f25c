package org.jv2v.image.vhd;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentList;
import org.jv2v.image.ExtentType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The read-only view of one VHD layer (and, for a differencing disk, its parent chain below it).
 * A fixed disk is its file minus the footer; a dynamic or differencing disk maps blocks through
 * the BAT, and each block's sector bitmap says which sectors it holds: a clear bit reads from the
 * parent in a differencing disk and as zeros in a dynamic one.
 */
final class VhdDevice implements BlockDevice {
    static final int SECTOR = 512;
    /** Marks an unallocated block in the BAT. */
    static final int UNALLOCATED = 0xffffffff;
    /** Bitmaps kept in memory: enough for a sequential copy, bounded whatever the disk size. */
    private static final int BITMAP_CACHE_BYTES = 4 << 20;
    /**
     * One block-status call stops after this many blocks or extents (callers loop), so that asking
     * about a whole large disk neither takes long nor builds a huge list.
     */
    static final int STATUS_BLOCKS_PER_CALL = 1 << 16;
    static final int STATUS_EXTENTS_PER_CALL = 4096;

    private final SourceFile file;
    private final VhdFooter footer;
    private final long size;
    private final int blockSize;
    private final int bitmapBytes;
    private final int[] bat; // null for a fixed disk
    private final BlockDevice parent; // differencing disks only
    private final Map<Integer, byte[]> bitmaps;

    VhdDevice(SourceFile file, VhdFooter footer, long size, int blockSize, int bitmapBytes, int[] bat,
              BlockDevice parent) {
        this.file = file;
        this.footer = footer;
        this.size = size;
        this.blockSize = blockSize;
        this.bitmapBytes = bitmapBytes;
        this.bat = bat;
        this.parent = parent;
        int capacity = Math.max(16, BITMAP_CACHE_BYTES / Math.max(1, bitmapBytes));
        this.bitmaps = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, byte[]> eldest) {
                return size() > capacity;
            }
        };
    }

    VhdFooter footer() {
        return footer;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public String describe() {
        return file.path() + " (vhd " + footer.typeName() + ")";
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        checkRange(offset, dst.remaining());
        if (bat == null) {
            file.readData(dst, offset);
            return;
        }
        long pos = offset;
        while (dst.hasRemaining()) {
            int block = (int) (pos / blockSize);
            long within = pos % blockSize;
            int n = (int) Math.min(dst.remaining(), blockSize - within);
            ByteBuffer part = dst.slice(dst.position(), n);
            int entry = bat[block];
            if (entry == UNALLOCATED) {
                readBelow(part, pos);
            } else {
                long data = Integer.toUnsignedLong(entry) * SECTOR + bitmapBytes;
                byte[] bitmap = bitmap(block, entry);
                long p = within;
                long end = within + n;
                while (p < end) {
                    int sector = (int) (p / SECTOR);
                    boolean present = isSet(bitmap, sector);
                    long runEnd = Math.min(end, runEnd(bitmap, sector, present, end));
                    ByteBuffer run = part.slice((int) (p - within), (int) (runEnd - p));
                    if (present) {
                        file.readData(run, data + p);
                    } else {
                        readBelow(run, block * (long) blockSize + p);
                    }
                    p = runEnd;
                }
            }
            dst.position(dst.position() + n);
            pos += n;
        }
    }

    /** What lies under this layer: the parent where it reaches, zeros elsewhere. */
    private void readBelow(ByteBuffer dst, long offset) throws IOException {
        long fromParent = parent == null ? 0 : Math.max(0, Math.min(dst.remaining(), parent.size() - offset));
        if (fromParent > 0) {
            parent.read(dst.slice(dst.position(), (int) fromParent), offset);
        }
        int zeroFrom = dst.position() + (int) fromParent;
        for (int i = zeroFrom; i < dst.limit(); i++) {
            dst.put(i, (byte) 0);
        }
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) throws IOException {
        long end = Math.min(size, offset + length);
        checkRange(offset, end - offset);
        ExtentList out = new ExtentList();
        if (bat == null) {
            out.add(offset, end - offset, ExtentType.DATA);
            return out.toList();
        }
        long pos = offset;
        int blocks = 0;
        while (pos < end && blocks++ < STATUS_BLOCKS_PER_CALL && out.size() < STATUS_EXTENTS_PER_CALL) {
            int block = (int) (pos / blockSize);
            long blockStart = block * (long) blockSize;
            long blockEnd = Math.min(end, blockStart + blockSize);
            int entry = bat[block];
            if (entry == UNALLOCATED) {
                out.addStatusOf(parent, pos, blockEnd);
            } else {
                byte[] bitmap = bitmap(block, entry);
                long p = pos - blockStart;
                long limit = blockEnd - blockStart;
                while (p < limit) {
                    int sector = (int) (p / SECTOR);
                    boolean present = isSet(bitmap, sector);
                    long runEnd = Math.min(limit, runEnd(bitmap, sector, present, limit));
                    if (present) {
                        out.add(blockStart + p, runEnd - p, ExtentType.DATA);
                    } else {
                        out.addStatusOf(parent, blockStart + p, blockStart + runEnd);
                    }
                    p = runEnd;
                }
            }
            pos = blockEnd;
        }
        return out.toList();
    }

    private byte[] bitmap(int block, int entry) throws IOException {
        synchronized (bitmaps) {
            byte[] b = bitmaps.get(block);
            if (b != null) {
                return b;
            }
        }
        ByteBuffer buf = ByteBuffer.allocate(bitmapBytes);
        file.readData(buf, Integer.toUnsignedLong(entry) * SECTOR);
        byte[] b = buf.array();
        synchronized (bitmaps) {
            bitmaps.put(block, b);
        }
        return b;
    }

    /** The end (within the block) of the run of sectors from {@code sector} sharing its bit. */
    private long runEnd(byte[] bitmap, int sector, boolean present, long limit) {
        int s = sector + 1;
        int sectors = blockSize / SECTOR;
        byte same = present ? (byte) 0xff : 0;
        while (s < sectors && (long) s * SECTOR < limit) {
            if ((s & 7) == 0 && s + 8 <= sectors && bitmap[s >>> 3] == same) {
                s += 8; // a whole byte of the same bit
                continue;
            }
            if (isSet(bitmap, s) != present) {
                break;
            }
            s++;
        }
        return (long) s * SECTOR;
    }

    /** VHD sector bitmaps are big-endian: sector 0 is the most significant bit of byte 0. */
    private static boolean isSet(byte[] bitmap, int sector) {
        return (bitmap[sector >>> 3] & (0x80 >>> (sector & 7))) != 0;
    }

    private void checkRange(long offset, long len) {
        if (offset < 0 || len < 0 || offset > size || len > size - offset) {
            throw new IllegalArgumentException(describe() + ": access [" + offset + ", +" + len
                    + ") outside size " + size);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            file.close();
        } finally {
            if (parent != null) {
                parent.close();
            }
        }
    }
}
