package org.jv2v.fs.xfs;

import org.jv2v.fs.ByteRange;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Free space from each AG's free-space B+tree by block number (bnobt), cross-checked against the
 * by-size tree (cntbt) and the AGF counter. Everything else in the AG is in use: AG headers, free
 * list, B+trees, inodes, the internal log and file data. Any disagreement is an error rather than
 * a guess, because a block wrongly called free would be skipped by the copier.
 */
final class FreeSpace {
    /** The kernel's deepest free space B+tree for 2^31-block AGs is 5 levels; allow a little more. */
    static final int MAX_LEVELS = 8;

    static final int ABTB_MAGIC = 0x41425442;  // "ABTB" by block number (v4)
    static final int AB3B_MAGIC = 0x41423342;  // "AB3B" (v5)
    static final int ABTC_MAGIC = 0x41425443;  // "ABTC" by size (v4)
    static final int AB3C_MAGIC = 0x41423343;  // "AB3C" (v5)
    static final int SBLOCK_HDR = 0x10;
    static final int SBLOCK3_HDR = 0x38;
    static final int SBLOCK3_CRC = 0x34;

    private FreeSpace() {}

    /** What one AG holds: its length and its free extents (AG block, length), sorted. */
    record AgFree(AgHeaders.Agf agf, long[] starts, long[] lengths) {
        long freeBlocks() {
            long n = 0;
            for (long l : lengths) {
                n += l;
            }
            return n;
        }
    }

    static AgFree scan(Volume v, long agno) throws IOException {
        AgHeaders.Agf agf = AgHeaders.Agf.read(v, agno);
        AgHeaders.checkAgi(v, agno, agf.length());
        // primitive arrays: a badly fragmented AG can hold millions of free extents
        long[][] free = {new long[64], new long[64]};
        int[] count = {0};
        boolean v5 = v.sb.isV5();
        walk(v, agf, agf.bnoRoot(), agf.bnoLevel(), v5 ? AB3B_MAGIC : ABTB_MAGIC, "free space B+tree (by block)",
                (start, len, where) -> {
                    if (len == 0 || start == 0 || start + len > agf.length()) {
                        throw v.corrupt("free space B+tree of AG " + agno, where, "free extent [" + start + ", +" + len
                                + ") is not inside the AG (" + agf.length() + " blocks, block 0 holds the headers)");
                    }
                    int n = count[0];
                    if (n > 0 && start < free[0][n - 1] + free[1][n - 1]) {
                        throw v.corrupt("free space B+tree of AG " + agno, where, "free extent at " + start
                                + " overlaps or precedes the one ending at " + (free[0][n - 1] + free[1][n - 1]));
                    }
                    if (n == free[0].length) {
                        free[0] = Arrays.copyOf(free[0], n * 2);
                        free[1] = Arrays.copyOf(free[1], n * 2);
                    }
                    free[0][n] = start;
                    free[1][n] = len;
                    count[0] = n + 1;
                });
        long[] bySize = {0};
        walk(v, agf, agf.cntRoot(), agf.cntLevel(), v5 ? AB3C_MAGIC : ABTC_MAGIC, "free space B+tree (by size)",
                (start, len, where) -> bySize[0] += len);
        long[] starts = Arrays.copyOf(free[0], count[0]);
        long[] lengths = Arrays.copyOf(free[1], count[0]);
        long total = 0;
        for (long l : lengths) {
            total += l;
        }
        if (total != agf.freeBlocks() || bySize[0] != agf.freeBlocks()) {
            throw v.corrupt("AGF of AG " + agno, agf.offset(), "free block counter " + agf.freeBlocks()
                    + " disagrees with the B+trees (by block " + total + ", by size " + bySize[0] + ")");
        }
        return new AgFree(agf, starts, lengths);
    }

    /** Byte ranges in use: the complement of the free extents of every AG, merged. */
    static List<ByteRange> used(Volume v, List<AgFree> ags) {
        List<ByteRange> out = new ArrayList<>();
        long bs = v.blockSize;
        for (AgFree ag : ags) {
            long base = v.agBlockOffset(ag.agf().agno(), 0);
            long cursor = 0;
            for (int i = 0; i < ag.starts().length; i++) {
                if (ag.starts()[i] > cursor) {
                    add(out, base + cursor * bs, (ag.starts()[i] - cursor) * bs);
                }
                cursor = ag.starts()[i] + ag.lengths()[i];
            }
            if (cursor < ag.agf().length()) {
                add(out, base + cursor * bs, (ag.agf().length() - cursor) * bs);
            }
        }
        return out;
    }

    private static void add(List<ByteRange> out, long offset, long length) {
        if (!out.isEmpty() && out.getLast().end() == offset) {
            ByteRange last = out.removeLast();
            out.add(new ByteRange(last.offset(), last.length() + length));
        } else {
            out.add(new ByteRange(offset, length));
        }
    }

    @FunctionalInterface
    interface RecordAction {
        void accept(long start, long length, long where);
    }

    /** Depth-first walk of a short-format (AG) B+tree, in key order, with loop and level checks. */
    private static void walk(Volume v, AgHeaders.Agf agf, long root, int levels, int magic, String name,
                             RecordAction action) throws IOException {
        long agno = agf.agno();
        String field = name + " of AG " + agno;
        if (levels < 1 || levels > MAX_LEVELS) {
            throw v.corrupt("AGF of AG " + agno, agf.offset(), field + " has " + levels + " levels (1.." + MAX_LEVELS + ")");
        }
        boolean v5 = v.sb.isV5();
        int hdr = v5 ? SBLOCK3_HDR : SBLOCK_HDR;
        int bs = v.blockSize;
        Set<Long> seen = new HashSet<>();
        Deque<long[]> stack = new ArrayDeque<>(); // {agbno, expected level}
        stack.push(new long[] {root, levels - 1});
        while (!stack.isEmpty()) {
            long[] top = stack.pop();
            long agbno = top[0];
            int level = (int) top[1];
            if (agbno == 0 || agbno >= agf.length()) {
                throw v.corrupt(field, agf.offset(), "pointer to block " + agbno + " outside the AG ("
                        + agf.length() + " blocks)");
            }
            if (!seen.add(agbno)) {
                throw v.corrupt(field, v.agBlockOffset(agno, agbno), "block " + agbno + " is reached twice: loop");
            }
            long off = v.agBlockOffset(agno, agbno);
            ByteBuffer b = v.read(off, bs, field);
            if (b.getInt(0) != magic) {
                throw v.corrupt(field, off, "bad magic 0x" + Integer.toHexString(b.getInt(0)));
            }
            if (v5) {
                v.checkCrc(b, bs, SBLOCK3_CRC, field, off);
                v.checkSelf(b, 0x20, 0x10, off, 0x30, 4, agno, field);
            }
            int blockLevel = Superblock.u16(b, 4);
            int numrecs = Superblock.u16(b, 6);
            if (blockLevel != level) {
                throw v.corrupt(field, off, "level " + blockLevel + " where level " + level
                        + " was expected: loop or misplaced block");
            }
            if (level == 0) {
                if (numrecs > (bs - hdr) / 8) {
                    throw v.corrupt(field, off, numrecs + " records do not fit the block");
                }
                for (int i = 0; i < numrecs; i++) {
                    action.accept(Superblock.u32(b, hdr + i * 8), Superblock.u32(b, hdr + i * 8 + 4), off);
                }
            } else {
                int maxrecs = (bs - hdr) / 12;
                if (numrecs < 1 || numrecs > maxrecs) {
                    throw v.corrupt(field, off, numrecs + " keys (1.." + maxrecs + " fit)");
                }
                int ptrs = hdr + maxrecs * 8;
                for (int i = numrecs - 1; i >= 0; i--) { // pushed in reverse: visited in key order
                    stack.push(new long[] {Superblock.u32(b, ptrs + i * 4), level - 1});
                }
            }
        }
    }
}
