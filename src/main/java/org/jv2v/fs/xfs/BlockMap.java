package org.jv2v.fs.xfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A fork's whole block map read into memory for editing, and written back in the form the count
 * of extents calls for: records in the inode while they fit (xfs_repair refuses a B+tree that
 * could have been a list), else a one-level B+tree whose root stays in the inode and whose leaves
 * are new blocks. Deeper trees are read but never written.
 */
final class BlockMap {
    /** Extents of one fork held in memory for an edit: far more than any file a conversion touches. */
    static final int MAX_EXTENTS = 500_000;
    static final long NULL_FSBLOCK = -1L;

    /** The extents in file order and the fs block numbers of the B+tree blocks that held them. */
    record Mapping(List<BmapExtent> extents, List<Long> btreeBlocks) {
        long mappedBlocks() {
            long n = 0;
            for (BmapExtent e : extents) {
                n += e.blockCount();
            }
            return n;
        }

        /** The extent holding file block {@code fb}, or null for a hole. */
        BmapExtent find(long fb) {
            int lo = 0;
            int hi = extents.size();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (extents.get(mid).endBlock() <= fb) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if (lo < extents.size() && extents.get(lo).fileBlock() <= fb) {
                return extents.get(lo);
            }
            return null;
        }
    }

    private BlockMap() {}

    static int btreeHeader(Volume v) {
        return v.sb.isV5() ? Fork.LBLOCK3_HDR : Fork.LBLOCK_HDR;
    }

    static Mapping read(Volume v, Txn t, InodeEdit ie, boolean attr) throws IOException {
        int format = attr ? ie.aformat() : ie.format();
        int areaOff = attr ? ie.attrForkOffset() : ie.dataForkOffset();
        int areaSize = attr ? ie.attrForkSize() : ie.dataForkSize();
        long count = attr ? ie.anextents() : ie.nextents();
        String name = (attr ? "attribute fork of " : "data fork of ") + ie.describe();
        List<BmapExtent> out = new ArrayList<>();
        List<Long> btree = new ArrayList<>();
        if (attr && !ie.hasAttrFork()) {
            return new Mapping(out, btree);
        }
        if (format == Inode.FMT_EXTENTS) {
            if (count < 0 || count > areaSize / BmapExtent.SIZE) {
                throw v.corrupt(name, ie.offset, "extent count " + count + " does not fit in the fork");
            }
            for (int i = 0; i < count; i++) {
                add(v, out, BmapExtent.read(ie.b, areaOff + i * BmapExtent.SIZE), name, ie.offset);
            }
        } else if (format == Inode.FMT_BTREE) {
            ByteBuffer root = ie.b.slice(areaOff, areaSize);
            int level = Superblock.u16(root, 0);
            int numrecs = Superblock.u16(root, 2);
            int maxrecs = (areaSize - 4) / 16;
            if (level < 1 || level > Fork.MAX_LEVELS || numrecs < 1 || numrecs > maxrecs) {
                throw v.corrupt(name, ie.offset, "B+tree root of level " + level + " with " + numrecs + " records");
            }
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < numrecs; i++) {
                walk(v, t, ie, root.getLong(4 + maxrecs * 8 + i * 8), level - 1, out, btree, seen, name);
            }
        } else {
            throw v.corrupt(name, ie.offset, "format " + format + " has no block map");
        }
        if (format == Inode.FMT_BTREE && out.size() != count) {
            throw v.corrupt(name, ie.offset, "B+tree holds " + out.size() + " extents, the inode says " + count);
        }
        return new Mapping(out, btree);
    }

    private static void walk(Volume v, Txn t, InodeEdit ie, long fsb, int level, List<BmapExtent> out,
                             List<Long> btree, Set<Long> seen, String name) throws IOException {
        if (!seen.add(fsb)) {
            throw v.corrupt(name, ie.offset, "B+tree block " + fsb + " is reached twice: loop");
        }
        long off = v.fsbOffset(fsb, name + " B+tree pointer", ie.offset);
        String field = "block map B+tree block of " + ie.describe();
        ByteBuffer b = t.get(off, v.blockSize, Fork.LBLOCK3_CRC, field);
        boolean v5 = v.sb.isV5();
        if (b.getInt(0) != (v5 ? Fork.BMAP3_MAGIC : Fork.BMAP_MAGIC)) {
            throw v.corrupt(field, off, "bad magic 0x" + Integer.toHexString(b.getInt(0)));
        }
        if (v5) {
            v.checkSelf(b, 0x28, 0x18, off, 0x38, 8, ie.ino, field);
        }
        if (Superblock.u16(b, 4) != level) {
            throw v.corrupt(field, off, "level " + Superblock.u16(b, 4) + " where " + level + " was expected");
        }
        btree.add(fsb);
        int hdr = btreeHeader(v);
        int numrecs = Superblock.u16(b, 6);
        int maxrecs = (v.blockSize - hdr) / 16;
        if (numrecs < 1 || numrecs > maxrecs) {
            throw v.corrupt(field, off, numrecs + " records (1.." + maxrecs + " fit)");
        }
        if (level == 0) {
            for (int i = 0; i < numrecs; i++) {
                add(v, out, BmapExtent.read(b, hdr + i * BmapExtent.SIZE), field, off);
            }
            return;
        }
        long[] ptrs = new long[numrecs];
        for (int i = 0; i < numrecs; i++) {
            ptrs[i] = b.getLong(hdr + maxrecs * 8 + i * 8);
        }
        for (long p : ptrs) {
            walk(v, t, ie, p, level - 1, out, btree, seen, name);
        }
    }

    private static void add(Volume v, List<BmapExtent> out, BmapExtent e, String field, long where) {
        if (out.size() >= MAX_EXTENTS) {
            throw v.corrupt(field, where, "more than " + MAX_EXTENTS + " extents");
        }
        if (e.blockCount() == 0) {
            throw v.corrupt(field, where, "empty extent at file block " + e.fileBlock());
        }
        if (!out.isEmpty() && e.fileBlock() < out.getLast().endBlock()) {
            throw v.corrupt(field, where, "extent at file block " + e.fileBlock() + " overlaps the one ending at "
                    + out.getLast().endBlock());
        }
        long agbno = e.fsBlock() & ((1L << v.sb.agBlkLog()) - 1);
        v.fsbOffset(e.fsBlock(), field, where);
        if (agbno + e.blockCount() > v.sb.agBlocks()) {
            throw v.corrupt(field, where, "extent of " + e.blockCount() + " blocks at block " + e.fsBlock()
                    + " runs past the end of its AG");
        }
        out.add(e);
    }

    static void encode(ByteBuffer b, int off, BmapExtent e) {
        long l0 = (e.unwritten() ? 1L << 63 : 0) | (e.fileBlock() << 9) | (e.fsBlock() >>> 43);
        long l1 = (e.fsBlock() << 21) | e.blockCount();
        b.putLong(off, l0);
        b.putLong(off + 8, l1);
    }

    /**
     * Replaces the data fork's block map: frees the old B+tree blocks, then writes {@code extents}
     * in extents format or as a one-level B+tree with new leaf blocks, and adjusts di_nblocks for
     * the B+tree blocks (the caller accounts for the data blocks).
     */
    static void writeData(Edit e, InodeEdit ie, List<BmapExtent> extents, Mapping old) throws IOException {
        Volume v = e.v;
        for (long fsb : old.btreeBlocks()) {
            e.freeFsb(fsb, 1);
        }
        long nblocks = ie.nblocks() - old.btreeBlocks().size();
        int forkSize = ie.dataForkSize();
        int off = ie.dataForkOffset();
        ie.clearDataFork();
        int n = extents.size();
        if (n <= forkSize / BmapExtent.SIZE) {
            ie.format(Inode.FMT_EXTENTS);
            for (int i = 0; i < n; i++) {
                encode(ie.b, off + i * BmapExtent.SIZE, extents.get(i));
            }
        } else {
            int hdr = btreeHeader(v);
            int leafMax = (v.blockSize - hdr) / 16;
            int leaves = (n + leafMax - 1) / leafMax;
            int rootMax = (forkSize - 4) / 16;
            if (leaves > rootMax) {
                throw e.unsupported(ie.describe() + " would need " + n
                        + " extents, more than a one-level block map B+tree holds (free space too fragmented)");
            }
            long[] fsbs = e.allocMetaBlocks(e.agOfIno(ie.ino), leaves);
            ByteBuffer root = ie.b;
            root.putShort(off, (short) 1);
            root.putShort(off + 2, (short) leaves);
            int done = 0;
            for (int l = 0; l < leaves; l++) {
                int take = (n - done) / (leaves - l);
                long leafOff = v.fsbOffset(fsbs[l], "new block map B+tree block", ie.offset);
                ByteBuffer b = e.t.create(leafOff, v.blockSize, Fork.LBLOCK3_CRC);
                b.putInt(0, v.sb.isV5() ? Fork.BMAP3_MAGIC : Fork.BMAP_MAGIC);
                b.putShort(4, (short) 0);
                b.putShort(6, (short) take);
                b.putLong(0x08, l == 0 ? NULL_FSBLOCK : fsbs[l - 1]);
                b.putLong(0x10, l == leaves - 1 ? NULL_FSBLOCK : fsbs[l + 1]);
                if (v.sb.isV5()) {
                    b.putLong(0x18, leafOff >> 9);
                    b.putLong(0x20, 0);
                    AgBtree.putUuid(b, 0x28, v.sb.metadataUuid());
                    b.putLong(0x38, ie.ino);
                }
                for (int i = 0; i < take; i++) {
                    encode(b, hdr + i * BmapExtent.SIZE, extents.get(done + i));
                }
                root.putLong(off + 4 + l * 8, extents.get(done).fileBlock());
                root.putLong(off + 4 + rootMax * 8 + l * 8, fsbs[l]);
                done += take;
            }
            ie.format(Inode.FMT_BTREE);
            nblocks += leaves;
        }
        ie.nextents(n);
        ie.nblocks(nblocks);
        ie.dirty();
    }
}
