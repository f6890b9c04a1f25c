package org.jv2v.fs.xfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The block map of one inode fork (data or attributes) in extents or B+tree (bmbt) format: maps
 * file blocks to filesystem blocks. B+tree lookups descend from the root kept in the inode; each
 * level must be exactly one below its parent, so a pointer loop cannot recurse forever, and a
 * lookup that visits too many blocks (inconsistent keys, shared subtrees) is refused.
 */
final class Fork {
    /** The kernel's deepest block map tree is 9 levels (64-bit extent counts); allow one more. */
    static final int MAX_LEVELS = 10;
    /** A lookup in a sound tree reads at most two blocks per level. */
    static final int MAX_VISITS_PER_LOOKUP = 4 * MAX_LEVELS;

    static final int BMAP_MAGIC = 0x424d4150;  // "BMAP"
    static final int BMAP3_MAGIC = 0x424d4133; // "BMA3"
    static final int LBLOCK_HDR = 0x18;
    static final int LBLOCK3_HDR = 0x48;
    static final int LBLOCK3_CRC = 0x40;

    private final Volume v;
    private final Inode inode;
    private final String name;
    private final int format;
    private final ByteBuffer area;
    private final List<BmapExtent> extents; // extents format only
    private final long fieldOffset;

    private Fork(Volume v, Inode inode, boolean attr) {
        this.v = v;
        this.inode = inode;
        this.name = (attr ? "attribute fork of " : "data fork of ") + inode.describe();
        this.format = attr ? inode.aformat() : inode.format();
        this.area = attr ? inode.attrFork() : inode.dataFork();
        this.fieldOffset = inode.offset();
        long count = attr ? inode.anextents() : inode.nextents();
        if (area == null) {
            throw v.corrupt(name, inode.offset(), "missing");
        }
        if (format == Inode.FMT_EXTENTS) {
            this.extents = inlineExtents(count);
        } else if (format == Inode.FMT_BTREE) {
            this.extents = null;
        } else {
            throw v.corrupt(name, inode.offset(), "format " + format + " has no block map");
        }
    }

    static Fork data(Volume v, Inode inode) {
        return new Fork(v, inode, false);
    }

    static Fork attr(Volume v, Inode inode) {
        return new Fork(v, inode, true);
    }

    private List<BmapExtent> inlineExtents(long count) {
        long max = area.capacity() / BmapExtent.SIZE;
        if (count < 0 || count > max) {
            throw v.corrupt(name, fieldOffset, "extent count " + count + " does not fit in the fork (at most " + max + ")");
        }
        List<BmapExtent> list = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            BmapExtent e = BmapExtent.read(area, i * BmapExtent.SIZE);
            check(e, list.isEmpty() ? null : list.getLast(), fieldOffset);
            list.add(e);
        }
        return list;
    }

    private void check(BmapExtent e, BmapExtent previous, long where) {
        if (e.blockCount() == 0) {
            throw v.corrupt(name, where, "empty extent at file block " + e.fileBlock());
        }
        if (previous != null && e.fileBlock() < previous.endBlock()) {
            throw v.corrupt(name, where, "extent at file block " + e.fileBlock() + " overlaps or precedes the one ending at "
                    + previous.endBlock());
        }
        // the whole extent must be inside one AG and the filesystem
        long agbno = e.fsBlock() & ((1L << v.sb.agBlkLog()) - 1);
        v.fsbOffset(e.fsBlock(), name, where);
        if (agbno + e.blockCount() > v.sb.agBlocks()) {
            throw v.corrupt(name, where, "extent of " + e.blockCount() + " blocks at block " + e.fsBlock()
                    + " runs past the end of its AG");
        }
        v.checkRange(v.fsbOffset(e.fsBlock(), name, where), e.blockCount() * v.blockSize, name, where);
    }

    /** The first extent that ends after {@code fileBlock} (it contains the block or lies beyond it), or null. */
    BmapExtent find(long fileBlock) throws IOException {
        if (extents != null) {
            int lo = 0;
            int hi = extents.size();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (extents.get(mid).endBlock() <= fileBlock) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo < extents.size() ? extents.get(lo) : null;
        }
        int level = Superblock.u16(area, 0);
        int numrecs = Superblock.u16(area, 2);
        int maxrecs = (area.capacity() - 4) / 16;
        if (level < 1 || level > MAX_LEVELS) {
            throw v.corrupt(name, fieldOffset, "B+tree root level " + level + " outside 1.." + MAX_LEVELS);
        }
        if (numrecs < 1 || numrecs > maxrecs) {
            throw v.corrupt(name, fieldOffset, "B+tree root has " + numrecs + " records (at most " + maxrecs + ")");
        }
        int[] budget = {MAX_VISITS_PER_LOOKUP};
        return searchNode(area, 4, 4 + maxrecs * 8, numrecs, level, fileBlock, budget, fieldOffset);
    }

    /** Searches the children of a node whose keys and pointers start at the given offsets. */
    private BmapExtent searchNode(ByteBuffer b, int keysOff, int ptrsOff, int numrecs, int level, long target,
                                  int[] budget, long where) throws IOException {
        int start = 0;
        long previousKey = -1;
        for (int i = 0; i < numrecs; i++) {
            long key = b.getLong(keysOff + i * 8);
            if (key <= previousKey) {
                throw v.corrupt(name, where, "B+tree keys out of order (" + key + " after " + previousKey + ")");
            }
            previousKey = key;
            if (key <= target) {
                start = i;
            }
        }
        for (int i = start; i < numrecs; i++) {
            BmapExtent e = searchBlock(b.getLong(ptrsOff + i * 8), level - 1, target, budget, where);
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    private BmapExtent searchBlock(long fsb, int level, long target, int[] budget, long where) throws IOException {
        if (--budget[0] < 0) {
            throw v.corrupt(name, where, "B+tree lookup visited more than " + MAX_VISITS_PER_LOOKUP
                    + " blocks: loop or inconsistent keys");
        }
        long off = v.fsbOffset(fsb, name + " B+tree pointer", where);
        String field = "block map B+tree block of " + inode.describe();
        ByteBuffer b = v.metaBlock(off, field);
        boolean v5 = v.sb.isV5();
        int magic = b.getInt(0);
        if (magic != (v5 ? BMAP3_MAGIC : BMAP_MAGIC)) {
            throw v.corrupt(field, off, "bad magic 0x" + Integer.toHexString(magic));
        }
        int hdr = v5 ? LBLOCK3_HDR : LBLOCK_HDR;
        if (v5) {
            v.checkCrc(b, v.blockSize, LBLOCK3_CRC, field, off);
            v.checkSelf(b, 0x28, 0x18, off, 0x38, 8, inode.ino(), field);
        }
        int blockLevel = Superblock.u16(b, 4);
        if (blockLevel != level) {
            throw v.corrupt(field, off, "level " + blockLevel + " where level " + level
                    + " was expected: B+tree loop or misplaced block");
        }
        int numrecs = Superblock.u16(b, 6);
        int maxrecs = (v.blockSize - hdr) / 16;
        if (numrecs < 1 || numrecs > maxrecs) {
            throw v.corrupt(field, off, numrecs + " records (1.." + maxrecs + " fit)");
        }
        if (level > 0) {
            return searchNode(b, hdr, hdr + maxrecs * 8, numrecs, level, target, budget, off);
        }
        BmapExtent previous = null;
        BmapExtent found = null;
        for (int i = 0; i < numrecs; i++) {
            BmapExtent e = BmapExtent.read(b, hdr + i * BmapExtent.SIZE);
            check(e, previous, off);
            previous = e;
            if (found == null && e.endBlock() > target) {
                found = e;
            }
        }
        return found;
    }

    /**
     * Calls {@code action} for each extent overlapping file blocks {@code [from, to)}, in order. Each
     * step moves strictly forward, so this ends after at most one call per extent.
     */
    void forEach(long from, long to, ExtentAction action) throws IOException {
        long pos = from;
        while (pos < to) {
            BmapExtent e = find(pos);
            if (e == null || e.fileBlock() >= to) {
                return;
            }
            action.accept(e);
            pos = e.endBlock();
        }
    }

    /** Byte offsets on the device of file blocks {@code [fileBlock, fileBlock + count)}; a hole is an error. */
    long[] blockOffsets(long fileBlock, int count, String what) throws IOException {
        long[] out = new long[count];
        for (int i = 0; i < count; ) {
            BmapExtent e = find(fileBlock + i);
            if (e == null || e.fileBlock() > fileBlock + i) {
                throw v.corrupt(what, fieldOffset, "file block " + (fileBlock + i) + " of " + name + " is not mapped");
            }
            long base = v.fsbOffset(e.fsBlock(), name, fieldOffset);
            for (long fb = fileBlock + i; fb < e.endBlock() && i < count; fb++, i++) {
                out[i] = base + (fb - e.fileBlock()) * v.blockSize;
            }
        }
        return out;
    }

    @FunctionalInterface
    interface ExtentAction {
        void accept(BmapExtent e) throws IOException;
    }
}
