package org.jv2v.image.vhd;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentList;
import org.jv2v.image.ExtentType;
import org.jv2v.image.SectorBitmaps;
import org.jv2v.image.raw.HostHoles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The read-only view of one VHD layer (and, for a differencing disk, its parent chain below it).
 * A fixed disk is its file minus the footer; a dynamic or differencing disk maps blocks through
 * the BAT, and each block's sector bitmap (most significant bit first) says which sectors it holds:
 * a clear bit reads from the parent in a differencing disk and as zeros in a dynamic one.
 *
 * <p>Data stored in the file (all of a fixed disk, the present sectors of a block) is ZERO where the
 * file has a hole: a fixed disk copied sparse, or blocks qemu allocated by extending the file and
 * then wrote only in part. qemu reports the holes of a fixed disk too (not those in blocks).
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
    private final SectorBitmaps bitmaps;
    private final HostHoles holes;

    VhdDevice(SourceFile file, VhdFooter footer, long size, int blockSize, int bitmapBytes, int[] bat,
              BlockDevice parent) throws IOException {
        this.file = file;
        this.footer = footer;
        this.size = size;
        this.blockSize = blockSize;
        this.bitmapBytes = bitmapBytes;
        this.bat = bat;
        this.parent = parent;
        this.bitmaps = new SectorBitmaps(blockSize, SECTOR, SectorBitmaps.BitOrder.MSB_FIRST,
                Math.max(16, BITMAP_CACHE_BYTES / Math.max(1, bitmapBytes)));
        this.holes = HostHoles.open(file.path(), file.size());
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
        checkAccess(offset, dst.remaining());
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
                bitmaps.forEachRun(bitmap(block, entry), within, within + n, (from, to, present) -> {
                    ByteBuffer run = part.slice((int) (from - within), (int) (to - from));
                    if (present) {
                        file.readData(run, data + from);
                    } else {
                        readBelow(run, block * (long) blockSize + from);
                    }
                });
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
        checkAccess(offset, end - offset);
        ExtentList out = new ExtentList();
        if (bat == null) {
            List<Extent> fixed = new ArrayList<>();
            holes.appendStatus(fixed, offset, offset, end - offset, STATUS_EXTENTS_PER_CALL);
            return fixed;
        }
        List<Extent> stored = new ArrayList<>();
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
                long data = Integer.toUnsignedLong(entry) * SECTOR + bitmapBytes;
                bitmaps.forEachRun(bitmap(block, entry), pos - blockStart, blockEnd - blockStart, (from, to, present) -> {
                    if (present) {
                        stored.clear();
                        holes.appendStatus(stored, blockStart + from, data + from, to - from, Integer.MAX_VALUE);
                        out.addAll(stored);
                    } else {
                        out.addStatusOf(parent, blockStart + from, blockStart + to);
                    }
                });
            }
            pos = blockEnd;
        }
        return out.toList();
    }

    private byte[] bitmap(int block, int entry) throws IOException {
        return bitmaps.get(block, () -> {
            ByteBuffer buf = ByteBuffer.allocate(bitmapBytes);
            file.readData(buf, Integer.toUnsignedLong(entry) * SECTOR);
            return buf.array();
        });
    }

    @Override
    public void close() throws IOException {
        try {
            file.close();
        } finally {
            holes.close();
            if (parent != null) {
                parent.close();
            }
        }
    }
}
