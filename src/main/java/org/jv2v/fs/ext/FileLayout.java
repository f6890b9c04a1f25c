package org.jv2v.fs.ext;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A file's block mapping, for editing: walks an extent tree or the classic indirect blocks
 * (checking every node as the reader does, and refusing a node referenced twice), frees it, and
 * writes a new one: a minimal extent tree (up to four extents in the inode, then full leaves and
 * index blocks, each with its checksum) or direct and indirect pointers for files without extents.
 */
final class FileLayout {
    /** A run of logical blocks and where it lies. */
    record Piece(long logical, long physical, long length, boolean unwritten) {
        long end() {
            return logical + length;
        }
    }

    /** The data pieces in logical order and the tree (extent or indirect) blocks. */
    record Mapping(List<Piece> pieces, List<Long> tree) {
        long dataBlocks() {
            long n = 0;
            for (Piece p : pieces) {
                n += p.length;
            }
            return n;
        }
    }

    interface Visitor {
        void data(long logical, long physical, long length, boolean unwritten) throws IOException;

        void tree(long block) throws IOException;
    }

    static final int HEADER = 12;
    static final int ENTRY = 12;
    static final int ROOT_ENTRIES = 4;
    /** Longest initialised extent (ee_len's top bit marks unwritten ones, which hold one block less). */
    static final int MAX_EXTENT = 32768;
    static final int MAX_UNWRITTEN_EXTENT = 32767;
    /**
     * Most tree blocks walked for one file: 2^18 indirect blocks of 4 KiB map 1 TiB, far beyond any
     * file a conversion edits; it bounds the set kept to catch a block referenced twice.
     */
    static final int MAX_TREE_BLOCKS = 1 << 18;
    /** Most pieces collected for one file (directories only: their size is capped). */
    static final int MAX_PIECES = 1 << 20;

    private final ExtFileSystem fs;
    private final MetaStore meta;
    private final Allocator alloc;
    private final int bs;

    FileLayout(ExtFileSystem fs, MetaStore meta, Allocator alloc) {
        this.fs = fs;
        this.meta = meta;
        this.alloc = alloc;
        this.bs = (int) fs.blockSize();
    }

    // ---- reading ----

    /** Every piece and tree block of a file that is neither inline nor a fast symlink. */
    Mapping read(InodeRecord in) throws IOException {
        List<Piece> pieces = new ArrayList<>();
        List<Long> tree = new ArrayList<>();
        walk(in, new Visitor() {
            @Override
            public void data(long logical, long physical, long length, boolean unwritten) {
                if (!pieces.isEmpty()) {
                    Piece last = pieces.getLast();
                    if (last.end() == logical && last.physical() + last.length() == physical
                            && last.unwritten() == unwritten) {
                        pieces.set(pieces.size() - 1, new Piece(last.logical(), last.physical(),
                                last.length() + length, unwritten));
                        return;
                    }
                }
                if (pieces.size() >= MAX_PIECES) {
                    throw fs.bad("inode " + in.number + " block map", in.diskOffset() + 0x28,
                            "more than " + MAX_PIECES + " separate runs of blocks");
                }
                pieces.add(new Piece(logical, physical, length, unwritten));
            }

            @Override
            public void tree(long block) {
                tree.add(block);
            }
        });
        return new Mapping(pieces, tree);
    }

    void walk(InodeRecord in, Visitor v) throws IOException {
        Set<Long> seen = new HashSet<>();
        if (in.has(Inode.FL_EXTENTS)) {
            long[] prevEnd = {0};
            extentNode(in, in.iblock(), in.diskOffset() + 0x28, -1, 0, BlockMap.MAX_LOGICAL, true, seen, prevEnd, v);
        } else {
            indirect(in, seen, v);
        }
    }

    private void extentNode(InodeRecord in, byte[] node, long at, int expectDepth, long lo, long hi, boolean root,
                            Set<Long> seen, long[] prevEnd, Visitor v) throws IOException {
        String where = "inode " + in.number + " extent tree";
        int magic = Le.u16(node, 0x00);                              // 0x00 eh_magic
        int entries = Le.u16(node, 0x02);                            // 0x02 eh_entries
        int max = Le.u16(node, 0x04);                                // 0x04 eh_max
        int depth = Le.u16(node, 0x06);                              // 0x06 eh_depth
        if (magic != BlockMap.EXTENT_MAGIC) {
            throw fs.bad(where + " header magic", at, String.format("0x%04x is not 0xf30a", magic));
        }
        if (entries > max || HEADER + (long) ENTRY * max > node.length) {
            throw fs.bad(where + " header entries", at + 2, entries + " entries (max " + max + ") do not fit a "
                    + node.length + "-byte node");
        }
        if (depth > BlockMap.MAX_EXTENT_DEPTH || (expectDepth >= 0 && depth != expectDepth)) {
            throw fs.bad(where + " header depth", at + 6, "depth " + depth + (expectDepth >= 0
                    ? " where " + expectDepth + " was expected" : " is more than " + BlockMap.MAX_EXTENT_DEPTH));
        }
        if (!root && fs.metadataCsum()) {
            int tail = HEADER + ENTRY * max;
            if (tail + 4 > node.length) {
                throw fs.bad(where + " header eh_max", at + 4, max + " leaves no room for the checksum");
            }
            fs.checkCrc(node, tail, Crc32c.update(in.seed(), node, 0, tail), where + " block checksum", at + tail);
        }
        for (int i = 0; i < entries; i++) {
            int e = HEADER + ENTRY * i;
            long first = Le.u32(node, e);                            // 0x00 ee_block / ei_block
            long next = i + 1 < entries ? Le.u32(node, e + ENTRY) : hi;
            if (first < lo || first >= hi || next <= first) {
                throw fs.bad(where + " entry", at + e, "logical block " + first + " is out of order (expected within ["
                        + lo + ", " + hi + ") and before " + next + ")");
            }
            if (depth == 0) {
                int len = Le.u16(node, e + 4);                       // 0x04 ee_len
                boolean unwritten = len > MAX_EXTENT;
                if (unwritten) {
                    len -= MAX_EXTENT;
                }
                long start = (long) Le.u16(node, e + 6) << 32 | Le.u32(node, e + 8); // 0x06 ee_start_hi, 0x08 _lo
                if (len == 0 || first < prevEnd[0] || first + len > hi) {
                    throw fs.bad(where + " extent", at + e, "logical blocks [" + first + ", +" + len
                            + ") are empty or overlap their neighbours");
                }
                if (start < fs.firstDataBlock() || start + len > fs.blocksCount()) {
                    throw fs.bad(where + " extent", at + e, "blocks [" + start + ", +" + len
                            + ") lie outside the filesystem's " + fs.blocksCount() + " blocks");
                }
                prevEnd[0] = first + len;
                v.data(first, start, len, unwritten);
            } else {
                long child = Le.u32(node, e + 4) | (long) Le.u16(node, e + 8) << 32; // 0x04 ei_leaf_lo, 0x08 _hi
                long childAt = fs.blockOffset(child, where + " index", at + e + 4);
                if (child < fs.firstDataBlock() || !seen.add(child) || seen.size() > MAX_TREE_BLOCKS) {
                    throw fs.bad(where + " index", at + e + 4, "block " + child
                            + " is referenced twice, lies in the boot block, or the tree has too many blocks");
                }
                v.tree(child);
                extentNode(in, meta.read(child), childAt, depth - 1, first, next, false, seen, prevEnd, v);
            }
        }
    }

    private void indirect(InodeRecord in, Set<Long> seen, Visitor v) throws IOException {
        byte[] ib = in.iblock();
        long apb = bs / 4;
        for (int i = 0; i < 12; i++) {
            long p = Le.u32(ib, 4 * i);
            if (p != 0) {
                checkData(in, p, in.diskOffset() + 0x28 + 4 * i);
                v.data(i, p, 1, false);
            }
        }
        long base = 12;
        long span = apb;
        for (int depth = 1; depth <= 3; depth++) {
            long p = Le.u32(ib, 4 * (11 + depth));
            if (p != 0) {
                indirectBlock(in, p, in.diskOffset() + 0x28 + 4 * (11 + depth), depth, base, seen, v);
            }
            base += span;
            span *= apb;
        }
    }

    private void indirectBlock(InodeRecord in, long block, long ptrAt, int depth, long base, Set<Long> seen,
                               Visitor v) throws IOException {
        String where = "inode " + in.number + " indirect block";
        long at = fs.blockOffset(block, where, ptrAt);
        if (block < fs.firstDataBlock() || !seen.add(block) || seen.size() > MAX_TREE_BLOCKS) {
            throw fs.bad(where, ptrAt, "block " + block
                    + " is referenced twice, lies in the boot block, or the file has too many indirect blocks");
        }
        v.tree(block);
        byte[] b = meta.read(block);
        long apb = bs / 4;
        long span = 1;
        for (int d = 1; d < depth; d++) {
            span *= apb;
        }
        for (int k = 0; k < apb; k++) {
            long p = Le.u32(b, 4 * k);
            if (p == 0) {
                continue;
            }
            if (depth == 1) {
                checkData(in, p, at + 4L * k);
                v.data(base + k, p, 1, false);
            } else {
                indirectBlock(in, p, at + 4L * k, depth - 1, base + k * span, seen, v);
            }
        }
    }

    private void checkData(InodeRecord in, long p, long at) {
        if (p < fs.firstDataBlock() || p >= fs.blocksCount()) {
            throw fs.bad("inode " + in.number + " block pointer", at, "block " + p + " lies outside the filesystem's "
                    + fs.blocksCount() + " blocks");
        }
    }

    // ---- freeing ----

    /** Frees every data and tree block of the file; returns how many. */
    long freeAll(InodeRecord in) throws IOException {
        String owner = "inode " + in.number;
        List<Long> tree = new ArrayList<>();
        long[] freed = {0};
        long[] run = {-1, 0}; // pending run of physical blocks, freed in one call
        walk(in, new Visitor() {
            @Override
            public void data(long logical, long physical, long length, boolean unwritten) throws IOException {
                if (run[0] + run[1] == physical) {
                    run[1] += length;
                    return;
                }
                flush();
                run[0] = physical;
                run[1] = length;
            }

            void flush() throws IOException {
                if (run[1] > 0) {
                    alloc.free(run[0], run[1], owner, in.diskOffset() + 0x28);
                    freed[0] += run[1];
                }
            }

            @Override
            public void tree(long block) {
                tree.add(block);
            }
        });
        if (run[1] > 0) {
            alloc.free(run[0], run[1], owner, in.diskOffset() + 0x28);
            freed[0] += run[1];
        }
        // tree blocks last: the walk read them
        for (long b : tree) {
            alloc.free(b, 1, owner, in.diskOffset() + 0x28);
        }
        return freed[0] + tree.size();
    }

    // ---- writing ----

    /**
     * Makes {@code pieces} (in logical order, not overlapping) the inode's mapping, as an extent
     * tree when the inode has the extents flag, else as direct and indirect pointers. Tree blocks
     * are allocated near {@code goal}. Returns the number of tree blocks.
     */
    long build(InodeRecord in, List<Piece> pieces, long goal) throws IOException {
        return in.has(Inode.FL_EXTENTS) ? buildExtents(in, pieces, goal) : buildIndirect(in, pieces, goal);
    }

    /** An empty extent tree root for i_block. */
    static byte[] emptyExtentRoot() {
        byte[] root = new byte[Inode.IBLOCK_SIZE];
        header(root, 0, ROOT_ENTRIES, 0);
        return root;
    }

    private static void header(byte[] node, int entries, int max, int depth) {
        Le.put16(node, 0x00, BlockMap.EXTENT_MAGIC);
        Le.put16(node, 0x02, entries);
        Le.put16(node, 0x04, max);
        Le.put16(node, 0x06, depth);
    }

    private long buildExtents(InodeRecord in, List<Piece> pieces, long goal) throws IOException {
        // split into extents no longer than ee_len allows
        List<long[]> ext = new ArrayList<>(); // {logical, physical, length, unwritten}
        for (Piece p : pieces) {
            int max = p.unwritten() ? MAX_UNWRITTEN_EXTENT : MAX_EXTENT;
            for (long done = 0; done < p.length(); ) {
                long n = Math.min(max, p.length() - done);
                if (p.logical() + done + n > BlockMap.MAX_LOGICAL) {
                    throw new IllegalArgumentException("logical block past 2^32");
                }
                ext.add(new long[] {p.logical() + done, p.physical() + done, n, p.unwritten() ? 1 : 0});
                done += n;
            }
        }
        byte[] root = new byte[Inode.IBLOCK_SIZE];
        if (ext.size() <= ROOT_ENTRIES) {
            header(root, ext.size(), ROOT_ENTRIES, 0);
            for (int i = 0; i < ext.size(); i++) {
                putExtent(root, HEADER + ENTRY * i, ext.get(i));
            }
            in.setIblock(root);
            return 0;
        }
        int per = (bs - HEADER) / ENTRY;
        // nodes per level, leaves first, until the inode's four entries can hold the top level
        List<Integer> perLevel = new ArrayList<>();
        long n = ext.size();
        while (n > ROOT_ENTRIES) {
            n = (n + per - 1) / per;
            perLevel.add((int) n);
        }
        if (perLevel.size() > BlockMap.MAX_EXTENT_DEPTH) {
            throw new IllegalArgumentException("extent tree deeper than " + BlockMap.MAX_EXTENT_DEPTH);
        }
        long total = perLevel.stream().mapToLong(Integer::longValue).sum();
        List<Long> blocks = blocks(alloc.allocate(goal, total));
        int next = 0;
        // level 0: leaves of extents; each level after: index nodes over the one below. {first logical, block}
        List<long[]> level = new ArrayList<>();
        for (int i = 0; i < ext.size(); i += per) {
            List<long[]> chunk = ext.subList(i, Math.min(ext.size(), i + per));
            byte[] node = new byte[bs];
            header(node, chunk.size(), per, 0);
            for (int k = 0; k < chunk.size(); k++) {
                putExtent(node, HEADER + ENTRY * k, chunk.get(k));
            }
            long blk = blocks.get(next++);
            sealExtentBlock(in, node, per);
            meta.replace(blk, node);
            level.add(new long[] {chunk.getFirst()[0], blk});
        }
        int depth = 1;
        while (level.size() > ROOT_ENTRIES) {
            List<long[]> up = new ArrayList<>();
            for (int i = 0; i < level.size(); i += per) {
                List<long[]> chunk = level.subList(i, Math.min(level.size(), i + per));
                byte[] node = new byte[bs];
                header(node, chunk.size(), per, depth);
                for (int k = 0; k < chunk.size(); k++) {
                    putIndex(node, HEADER + ENTRY * k, chunk.get(k));
                }
                long blk = blocks.get(next++);
                sealExtentBlock(in, node, per);
                meta.replace(blk, node);
                up.add(new long[] {chunk.getFirst()[0], blk});
            }
            level = up;
            depth++;
        }
        header(root, level.size(), ROOT_ENTRIES, depth);
        for (int k = 0; k < level.size(); k++) {
            putIndex(root, HEADER + ENTRY * k, level.get(k));
        }
        in.setIblock(root);
        return total;
    }

    private static void putExtent(byte[] node, int e, long[] x) {
        Le.put32(node, e, x[0]);                                     // 0x00 ee_block
        Le.put16(node, e + 4, (int) (x[2] + (x[3] != 0 ? MAX_EXTENT : 0))); // 0x04 ee_len
        Le.put16(node, e + 6, (int) (x[1] >>> 32));                  // 0x06 ee_start_hi
        Le.put32(node, e + 8, x[1]);                                 // 0x08 ee_start_lo
    }

    private static void putIndex(byte[] node, int e, long[] x) {
        Le.put32(node, e, x[0]);                                     // 0x00 ei_block
        Le.put32(node, e + 4, x[1]);                                 // 0x04 ei_leaf_lo
        Le.put16(node, e + 8, (int) (x[1] >>> 32));                  // 0x08 ei_leaf_hi
    }

    private void sealExtentBlock(InodeRecord in, byte[] node, int max) {
        if (fs.metadataCsum()) {
            int tail = HEADER + ENTRY * max;
            Le.put32(node, tail, Crc32c.update(in.seed(), node, 0, tail));
        }
    }

    static List<Long> blocks(List<Allocator.Run> runs) {
        List<Long> out = new ArrayList<>();
        for (Allocator.Run r : runs) {
            for (long b = r.start(); b < r.end(); b++) {
                out.add(b);
            }
        }
        return out;
    }

    private long buildIndirect(InodeRecord in, List<Piece> pieces, long goal) throws IOException {
        long apb = bs / 4;
        long limit = 12 + apb + apb * apb + apb * apb * apb;
        for (Piece p : pieces) {
            if (p.unwritten()) {
                throw new IllegalArgumentException("an unwritten extent cannot be mapped by block pointers");
            }
            if (p.end() > limit || p.physical() + p.length() > 1L << 32) {
                throw new IllegalArgumentException("block beyond what block pointers can map");
            }
        }
        Indirect ind = new Indirect(pieces, apb);
        long[] spans = {apb, apb * apb, apb * apb * apb};
        long[] bases = {12, 12 + apb, 12 + apb + apb * apb};
        long needed = 0;
        for (int d = 0; d < 3; d++) {
            needed += ind.count(d + 1, bases[d]);
        }
        ind.blocks = blocks(alloc.allocate(goal, needed));
        byte[] ib = new byte[Inode.IBLOCK_SIZE];
        for (int i = 0; i < 12; i++) {
            Le.put32(ib, 4 * i, ind.lookup(i));
        }
        for (int d = 0; d < 3; d++) {
            if (ind.anyMapped(bases[d], bases[d] + spans[d])) {
                Le.put32(ib, 4 * (12 + d), ind.write(d + 1, bases[d]));
            }
        }
        in.setIblock(ib);
        return needed;
    }

    /** Builds indirect blocks over a sorted piece list. */
    private final class Indirect {
        final List<Piece> pieces;
        final long apb;
        List<Long> blocks;
        int next;

        Indirect(List<Piece> pieces, long apb) {
            this.pieces = pieces;
            this.apb = apb;
        }

        long span(int depth) {
            long s = 1;
            for (int d = 0; d < depth; d++) {
                s *= apb;
            }
            return s;
        }

        /** Index of the last piece starting at or before {@code logical}, or -1. */
        int floor(long logical) {
            int lo = 0;
            int hi = pieces.size() - 1;
            int found = -1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (pieces.get(mid).logical() <= logical) {
                    found = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            return found;
        }

        long lookup(long logical) {
            int i = floor(logical);
            if (i < 0 || pieces.get(i).end() <= logical) {
                return 0;
            }
            return pieces.get(i).physical() + (logical - pieces.get(i).logical());
        }

        boolean anyMapped(long from, long to) {
            int i = floor(from);
            if (i >= 0 && pieces.get(i).end() > from) {
                return true;
            }
            return i + 1 < pieces.size() && pieces.get(i + 1).logical() < to;
        }

        /** Indirect blocks needed for a subtree of {@code depth} levels covering logical blocks from base. */
        long count(int depth, long base) {
            if (!anyMapped(base, base + span(depth))) {
                return 0;
            }
            long n = 1;
            if (depth > 1) {
                long child = span(depth - 1);
                for (long k = 0; k < apb; k++) {
                    n += count(depth - 1, base + k * child);
                }
            }
            return n;
        }

        long write(int depth, long base) {
            long blk = blocks.get(next++);
            byte[] b = new byte[bs];
            long child = span(depth - 1);
            for (int k = 0; k < apb; k++) {
                long from = base + k * child;
                long v;
                if (depth == 1) {
                    v = lookup(from);
                } else {
                    v = anyMapped(from, from + child) ? write(depth - 1, from) : 0;
                }
                Le.put32(b, 4 * k, v);
            }
            meta.replace(blk, b);
            return blk;
        }
    }
}
