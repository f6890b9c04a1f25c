package org.jv2v.fs.ext;


import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Maps a file's logical blocks to filesystem blocks, through an extent tree (ext4) or the classic
 * direct/indirect block pointers (ext2/3). Each lookup walks from the root, so a corrupt tree
 * cannot loop: extent depths must fall by one per level, and indirect trees have a fixed depth.
 */
final class BlockMap {
    static final int EXTENT_MAGIC = 0xf30a;
    /** The kernel's own limit (EXT4_MAX_EXTENT_DEPTH). */
    static final int MAX_EXTENT_DEPTH = 5;
    static final long HOLE = -1;
    /** Logical block numbers are 32-bit in both mapping schemes. */
    static final long MAX_LOGICAL = 1L << 32;

    /**
     * A run of {@code length} blocks from the looked-up logical block: at {@code physical}, or a
     * hole ({@link #HOLE}); {@code zero} for holes and unwritten extents, which read as zeros.
     */
    record Run(long physical, long length, boolean zero) {}

    private final ExtFileSystem fs;

    BlockMap(ExtFileSystem fs) {
        this.fs = fs;
    }

    Run map(Inode inode, long logical) throws IOException {
        if (logical >= MAX_LOGICAL) {
            return new Run(HOLE, Long.MAX_VALUE / 2, true);
        }
        return inode.has(Inode.FL_EXTENTS) ? extent(inode, logical) : indirect(inode, logical);
    }

    private Run extent(Inode inode, long logical) throws IOException {
        ByteBuffer node = ByteBuffer.wrap(inode.iblock()).order(ByteOrder.LITTLE_ENDIAN);
        long nodeAt = inode.offset() + 0x28;
        String where = "inode " + inode.number() + " extent tree";
        int expectDepth = -1;
        long boundary = MAX_LOGICAL; // first logical block past the current subtree
        for (int level = 0; level <= MAX_EXTENT_DEPTH + 1; level++) {
            int magic = node.getShort(0x00) & 0xffff;                  // 0x00 eh_magic
            int entries = node.getShort(0x02) & 0xffff;                // 0x02 eh_entries
            int max = node.getShort(0x04) & 0xffff;                    // 0x04 eh_max
            int depth = node.getShort(0x06) & 0xffff;                  // 0x06 eh_depth
            if (magic != EXTENT_MAGIC) {
                throw fs.bad(where + " header magic", nodeAt, String.format("0x%04x is not 0xf30a", magic));
            }
            if (entries > max || 12 + 12L * max > node.limit()) {
                throw fs.bad(where + " header entries", nodeAt + 2,
                        entries + " entries (max " + max + ") do not fit a " + node.limit() + "-byte node");
            }
            if (depth > MAX_EXTENT_DEPTH || (expectDepth >= 0 && depth != expectDepth)) {
                throw fs.bad(where + " header depth", nodeAt + 6, "depth " + depth
                        + (expectDepth >= 0 ? " where " + expectDepth + " was expected (a loop or a corrupt index)"
                        : " is more than " + MAX_EXTENT_DEPTH));
            }
            // the last entry whose first logical block is <= logical
            int lo = 0;
            int hi = entries - 1;
            int found = -1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                long first = node.getInt(12 + 12 * mid) & 0xffffffffL;   // 0x00 ee_block / ei_block
                if (first <= logical) {
                    found = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            if (found + 1 < entries) {
                boundary = Math.min(boundary, node.getInt(12 + 12 * (found + 1)) & 0xffffffffL);
            }
            if (found < 0) {
                return new Run(HOLE, Math.max(1, boundary - logical), true);
            }
            int e = 12 + 12 * found;
            if (depth == 0) {
                long first = node.getInt(e) & 0xffffffffL;              // 0x00 ee_block
                int len = node.getShort(e + 4) & 0xffff;                // 0x04 ee_len (> 32768: unwritten)
                long start = (long) (node.getShort(e + 6) & 0xffff) << 32 // 0x06 ee_start_hi
                        | (node.getInt(e + 8) & 0xffffffffL);           // 0x08 ee_start_lo
                boolean unwritten = len > 32768;
                if (unwritten) {
                    len -= 32768;
                }
                if (logical >= first + len) {
                    return new Run(HOLE, Math.max(1, boundary - logical), true);
                }
                if (start + len > fs.blocksCount() || start < fs.firstDataBlock()) {
                    throw fs.bad(where + " extent", nodeAt + e, "blocks [" + start + ", +" + len
                            + ") lie outside the filesystem's " + fs.blocksCount() + " blocks");
                }
                return new Run(start + (logical - first), first + len - logical, unwritten);
            }
            long leaf = (node.getInt(e + 4) & 0xffffffffL)              // 0x04 ei_leaf_lo
                    | (long) (node.getShort(e + 8) & 0xffff) << 32;     // 0x08 ei_leaf_hi
            nodeAt = fs.blockOffset(leaf, where + " index", nodeAt + e + 4);
            byte[] raw = fs.block(leaf);
            node = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            if (fs.metadataCsum()) {
                // the tail after eh_max entries: crc32c of the node up to it, seeded by the inode
                int max2 = node.getShort(0x04) & 0xffff;
                int tail = 12 + 12 * max2;
                if (tail + 4 > raw.length) {
                    throw fs.bad(where + " header entries", nodeAt + 4, "eh_max " + max2 + " leaves no room for the checksum");
                }
                fs.checkCrc(raw, tail, Crc32c.update(fs.inodeSeed(inode), raw, 0, tail), where + " block checksum",
                        nodeAt + tail);
            }
            expectDepth = depth - 1;
        }
        throw fs.bad(where, nodeAt, "deeper than " + MAX_EXTENT_DEPTH + " levels");
    }

    private Run indirect(Inode inode, long logical) throws IOException {
        long apb = fs.blockSize() / 4; // addresses per block
        if (logical < 12) {
            int first = inode.iblockInt((int) logical);
            int n = 1;
            while (logical + n < 12 && contiguous(first, inode.iblockInt((int) logical + n), n)) {
                n++;
            }
            return run(first, n, inode.offset() + 0x28 + 4 * logical, inode);
        }
        long rel = logical - 12;
        long span = apb;
        int slot = 12;
        int depth = 1;
        while (rel >= span) {
            rel -= span;
            span *= apb;
            slot++;
            depth++;
            if (depth > 3) {
                return new Run(HOLE, Long.MAX_VALUE / 2, true);
            }
        }
        long ptr = inode.iblockInt(slot) & 0xffffffffL;
        long ptrAt = inode.offset() + 0x28 + 4L * slot;
        for (int d = depth; d >= 1; d--) {
            if (ptr == 0) {
                return new Run(HOLE, span - rel, true);
            }
            long blockAt = fs.blockOffset(ptr, "inode " + inode.number() + " indirect block", ptrAt);
            ByteBuffer b = ByteBuffer.wrap(fs.block(ptr)).order(ByteOrder.LITTLE_ENDIAN);
            span /= apb;
            int idx = (int) (rel / span);
            rel %= span;
            if (d == 1) {
                int first = b.getInt(4 * idx);
                int n = 1;
                while (idx + n < apb && contiguous(first, b.getInt(4 * (idx + n)), n)) {
                    n++;
                }
                return run(first, n, blockAt + 4L * idx, inode);
            }
            ptr = b.getInt(4 * idx) & 0xffffffffL;
            ptrAt = blockAt + 4L * idx;
        }
        throw new AssertionError("unreachable");
    }

    private static boolean contiguous(int first, int next, int n) {
        return first == 0 ? next == 0 : (next & 0xffffffffL) == (first & 0xffffffffL) + n;
    }

    private Run run(int first, int n, long at, Inode inode) {
        long p = first & 0xffffffffL;
        if (p == 0) {
            return new Run(HOLE, n, true);
        }
        if (p + n > fs.blocksCount()) {
            throw fs.bad("inode " + inode.number() + " block pointer", at,
                    "block " + p + " lies past the filesystem's " + fs.blocksCount() + " blocks");
        }
        return new Run(p, n, false);
    }

}
