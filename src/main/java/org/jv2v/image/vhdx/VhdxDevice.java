package org.jv2v.image.vhdx;

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
import java.util.UUID;

/**
 * The read-only view of one VHDX layer and, for a differencing disk, its parents. Payload block
 * states map to reads and block status as follows:
 * <ul>
 *   <li>FULLY_PRESENT: the block in the file (DATA);</li>
 *   <li>PARTIALLY_PRESENT (differencing only): per sector, the sector bitmap says file (DATA) or
 *       parent;</li>
 *   <li>NOT_PRESENT: the parent in a differencing disk, else zeros (UNALLOCATED);</li>
 *   <li>ZERO: zeros (ZERO);</li>
 *   <li>UNDEFINED, UNMAPPED: contents the specification leaves undefined; read as zeros, like qemu
 *       (UNALLOCATED, or ZERO in a differencing disk, where the parent is not consulted).</li>
 * </ul>
 * Present data is ZERO where the file has a hole (qemu extends the file for each new block and
 * writes only part of it), unless a replayed log lies over the file: then the file's holes are
 * not what a read sees.
 */
final class VhdxDevice implements BlockDevice {
    /** Sector bitmaps kept in memory, bounded whatever the disk size. */
    private static final int BITMAP_CACHE_BYTES = 8 << 20;
    /**
     * One block-status call stops after this many blocks or extents (callers loop), so that asking
     * about a whole 64 TiB disk neither takes long nor builds a huge list.
     */
    static final int STATUS_BLOCKS_PER_CALL = 1 << 16;
    static final int STATUS_EXTENTS_PER_CALL = 4096;

    private final VhdxFile file;
    private final String subformat;
    private final long size;
    private final long blockSize;
    private final int logicalSector;
    private final long chunkRatio;
    private final VhdxBat bat;
    private final BlockDevice parent;
    private final boolean differencing;
    private final UUID dataWriteGuid;
    private final SectorBitmaps bitmaps;
    /** The file's holes, or null when a replayed log lies over the file. */
    private final HostHoles holes;

    VhdxDevice(VhdxFile file, String subformat, long size, long blockSize, int logicalSector, long chunkRatio,
               VhdxBat bat, boolean differencing, BlockDevice parent, UUID dataWriteGuid) throws IOException {
        this.file = file;
        this.subformat = subformat;
        this.size = size;
        this.blockSize = blockSize;
        this.logicalSector = logicalSector;
        this.chunkRatio = chunkRatio;
        this.bat = bat;
        this.differencing = differencing;
        this.parent = parent;
        this.dataWriteGuid = dataWriteGuid;
        int bitmapBytes = (int) (blockSize / logicalSector / 8);
        this.bitmaps = new SectorBitmaps(blockSize, logicalSector, SectorBitmaps.BitOrder.LSB_FIRST,
                Math.max(16, BITMAP_CACHE_BYTES / bitmapBytes));
        this.holes = file.replayed() ? null : HostHoles.open(file.path(), file.fileSize());
    }

    /** Adds the status of guest {@code [guest, guest + length)}, stored as it is at {@code host}. */
    private void addStored(ExtentList out, List<Extent> scratch, long guest, long host, long length)
            throws IOException {
        if (holes == null) {
            out.add(guest, length, ExtentType.DATA);
            return;
        }
        scratch.clear();
        holes.appendStatus(scratch, guest, host, length, Integer.MAX_VALUE);
        out.addAll(scratch);
    }

    /** The data write GUID of this file's header: what a child's parent_linkage must name. */
    UUID dataWriteGuid() {
        return dataWriteGuid;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public String describe() {
        return file.path() + " (vhdx " + subformat + ")";
    }

    long payloadEntry(long block) throws IOException {
        return bat.get(block + block / chunkRatio);
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        checkAccess(offset, dst.remaining());
        long pos = offset;
        while (dst.hasRemaining()) {
            long block = pos / blockSize;
            long blockStart = block * blockSize;
            long within = pos - blockStart;
            int n = (int) Math.min(dst.remaining(), blockSize - within);
            ByteBuffer part = dst.slice(dst.position(), n);
            long entry = payloadEntry(block);
            switch (VhdxBat.state(entry)) {
                case VhdxBat.PAYLOAD_FULLY_PRESENT -> file.readData(part, VhdxBat.fileOffset(entry) + within);
                case VhdxBat.PAYLOAD_NOT_PRESENT -> {
                    if (differencing) {
                        readParent(part, pos);
                    } else {
                        zero(part);
                    }
                }
                case VhdxBat.PAYLOAD_PARTIALLY_PRESENT -> {
                    bitmaps.forEachRun(bitmap(block), within, within + n, (from, to, present) -> {
                        ByteBuffer run = part.slice((int) (from - within), (int) (to - from));
                        if (present) {
                            file.readData(run, VhdxBat.fileOffset(entry) + from);
                        } else {
                            readParent(run, blockStart + from);
                        }
                    });
                }
                default -> zero(part); // ZERO, UNDEFINED, UNMAPPED: validated while opening
            }
            dst.position(dst.position() + n);
            pos += n;
        }
    }

    private void readParent(ByteBuffer dst, long offset) throws IOException {
        long fromParent = Math.max(0, Math.min(dst.remaining(), parent.size() - offset));
        if (fromParent > 0) {
            parent.read(dst.slice(dst.position(), (int) fromParent), offset);
        }
        for (int i = dst.position() + (int) fromParent; i < dst.limit(); i++) {
            dst.put(i, (byte) 0);
        }
    }

    private static void zero(ByteBuffer b) {
        for (int i = b.position(); i < b.limit(); i++) {
            b.put(i, (byte) 0);
        }
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) throws IOException {
        long end = Math.min(size, offset + length);
        checkAccess(offset, end - offset);
        ExtentList out = new ExtentList();
        List<Extent> scratch = new ArrayList<>();
        long pos = offset;
        int blocks = 0;
        while (pos < end && blocks++ < STATUS_BLOCKS_PER_CALL && out.size() < STATUS_EXTENTS_PER_CALL) {
            long block = pos / blockSize;
            long blockStart = block * blockSize;
            long blockEnd = Math.min(end, blockStart + blockSize);
            long entry = payloadEntry(block);
            switch (VhdxBat.state(entry)) {
                case VhdxBat.PAYLOAD_FULLY_PRESENT -> addStored(out, scratch, pos,
                        VhdxBat.fileOffset(entry) + (pos - blockStart), blockEnd - pos);
                case VhdxBat.PAYLOAD_ZERO -> out.add(pos, blockEnd - pos, ExtentType.ZERO);
                case VhdxBat.PAYLOAD_NOT_PRESENT -> {
                    if (differencing) {
                        out.addStatusOf(parent, pos, blockEnd);
                    } else {
                        out.add(pos, blockEnd - pos, ExtentType.UNALLOCATED);
                    }
                }
                case VhdxBat.PAYLOAD_PARTIALLY_PRESENT -> {
                    bitmaps.forEachRun(bitmap(block), pos - blockStart, blockEnd - blockStart, (from, to, present) -> {
                        if (present) {
                            addStored(out, scratch, blockStart + from, VhdxBat.fileOffset(entry) + from, to - from);
                        } else {
                            out.addStatusOf(parent, blockStart + from, blockStart + to);
                        }
                    });
                }
                default -> out.add(pos, blockEnd - pos, differencing ? ExtentType.ZERO : ExtentType.UNALLOCATED);
            }
            pos = blockEnd;
        }
        return out.toList();
    }

    /** The bits of payload block {@code block} in its chunk's sector bitmap block (least significant bit first). */
    private byte[] bitmap(long block) throws IOException {
        return bitmaps.get(block, () -> {
            long chunk = block / chunkRatio;
            long sbEntry = bat.get(chunk * (chunkRatio + 1) + chunkRatio);
            int bytes = (int) (blockSize / logicalSector / 8);
            ByteBuffer buf = ByteBuffer.allocate(bytes);
            file.readData(buf, VhdxBat.fileOffset(sbEntry) + (block % chunkRatio) * bytes);
            return buf.array();
        });
    }

    @Override
    public void close() throws IOException {
        try {
            file.close();
        } finally {
            if (holes != null) {
                holes.close();
            }
            if (parent != null) {
                parent.close();
            }
        }
    }
}
