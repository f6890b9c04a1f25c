package org.jv2v.fs.xfs;

import org.jv2v.Jv2vException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Free space of every AG within one edit: the AGF and its two free space B+trees (kept in step:
 * every extent is in both, by block and by size), the AG free list that feeds those trees' own
 * splits, and the superblock's free block counter. AG block numbers are AG-relative throughout.
 *
 * <p>Before each allocation or free the free list is topped up to what the kernel wants for the
 * current tree heights (one block per level plus one for each tree), as xfs_alloc_fix_freelist
 * does, so that splits always find a block; blocks the trees give back go onto the free list.
 */
final class Alloc {
    /** Longest extent a block map record can hold (21 bits of length). */
    static final long MAX_EXTLEN = (1L << 21) - 1;

    // AGF fields
    static final int AGF_BNO_ROOT = 0x10;
    static final int AGF_CNT_ROOT = 0x14;
    static final int AGF_BNO_LEVEL = 0x1c;
    static final int AGF_CNT_LEVEL = 0x20;
    static final int AGF_FLFIRST = 0x28;
    static final int AGF_FLLAST = 0x2c;
    static final int AGF_FLCOUNT = 0x30;
    static final int AGF_FREEBLKS = 0x34;
    static final int AGF_LONGEST = 0x38;
    static final int AGF_BTREEBLKS = 0x3c;
    static final int AGF_REFC_ROOT = 0x58;
    static final int AGF_REFC_LEVEL = 0x5c;
    static final int AGFL_HDR_V5 = 0x24;
    static final int AGFL_CRC = 0x20;

    final Volume v;
    final Txn t;
    private final Superblock sb;
    private final AgHeaderEdit agf;
    /** Changes to the superblock's free data blocks, free inodes and inode count, applied at commit. */
    long fdDelta;
    long icountDelta;
    long ifreeDelta;
    private final Map<Long, AgBtree> bno = new HashMap<>();
    private final Map<Long, AgBtree> cnt = new HashMap<>();
    private final Set<Long> touched = new LinkedHashSet<>();
    private boolean fixing;

    Alloc(Volume v, Txn t) {
        this.v = v;
        this.t = t;
        this.sb = v.sb;
        this.agf = AgHeaderEdit.agf(v, t, this::agLength);
    }

    // ---- headers ----

    long agLength(long agno) {
        return agno < sb.agCount() - 1 ? sb.agBlocks() : sb.dataBlocks() - (sb.agCount() - 1) * sb.agBlocks();
    }

    long agfField(long agno, int off) throws IOException {
        return agf.field(agno, off);
    }

    private void addFreeblks(long agno, long d) throws IOException {
        agf.add(agno, AGF_FREEBLKS, d);
        fdDelta += d;
        touched.add(agno);
    }

    private void addBtreeblks(long agno, long d) throws IOException {
        agf.add(agno, AGF_BTREEBLKS, d);
        fdDelta += d;
    }

    int agflSize() {
        return sb.isV5() ? (sb.sectSize() - AGFL_HDR_V5) / 4 : sb.sectSize() / 4;
    }

    private long agflOffset(long agno) {
        return v.agBlockOffset(agno, 0) + 3L * sb.sectSize();
    }

    private ByteBuffer agfl(long agno) throws IOException {
        long off = agflOffset(agno);
        String field = "AGFL of AG " + agno;
        ByteBuffer b = t.get(off, sb.sectSize(), AGFL_CRC, field);
        if (sb.isV5()) {
            if (b.getInt(0) != 0x5841464c) { // "XAFL"
                throw v.corrupt(field, off, "bad magic 0x" + Integer.toHexString(b.getInt(0)));
            }
            if (Superblock.u32(b, 4) != agno || !Superblock.uuid(b, 8).equals(sb.metadataUuid())) {
                throw v.corrupt(field, off, "belongs to another AG or filesystem");
            }
        }
        return b;
    }

    private int agflEntry(int i) {
        return (sb.isV5() ? AGFL_HDR_V5 : 0) + i * 4;
    }

    /** Takes a block off the free list (for a free space B+tree). */
    private long agflGet(long agno) throws IOException {
        long count = agfField(agno, AGF_FLCOUNT);
        if (count == 0) {
            throw new Jv2vException(v.device.describe() + ": XFS AG " + agno + ": the free list is empty");
        }
        int first = (int) agfField(agno, AGF_FLFIRST);
        checkAgflIndex(agno, first);
        long bno = Superblock.u32(agfl(agno), agflEntry(first));
        if (bno == 0 || bno >= agLength(agno)) {
            throw v.corrupt("AGFL of AG " + agno, agflOffset(agno) + agflEntry(first),
                    "free list block " + bno + " outside the AG");
        }
        agf.set(agno, AGF_FLFIRST, (first + 1) % agflSize());
        agf.set(agno, AGF_FLCOUNT, count - 1);
        fdDelta -= 1;
        return bno;
    }

    /** Puts a block onto the free list. */
    private void agflPut(long agno, long bno) throws IOException {
        long count = agfField(agno, AGF_FLCOUNT);
        if (count >= agflSize()) {
            throw new Jv2vException(v.device.describe() + ": XFS AG " + agno + ": the free list is full");
        }
        int last = (int) agfField(agno, AGF_FLLAST);
        checkAgflIndex(agno, last);
        int next = (last + 1) % agflSize();
        ByteBuffer fl = agfl(agno);
        fl.putInt(agflEntry(next), (int) bno);
        t.dirty(agflOffset(agno));
        agf.set(agno, AGF_FLLAST, next);
        agf.set(agno, AGF_FLCOUNT, count + 1);
        fdDelta += 1;
    }

    private void checkAgflIndex(long agno, int i) {
        if (i < 0 || i >= agflSize()) {
            throw v.corrupt("AGF of AG " + agno, agf.offset(agno), "free list index " + i + " outside 0.." + (agflSize() - 1));
        }
    }

    // ---- the two trees ----

    AgBtree bnoTree(long agno) {
        return bno.computeIfAbsent(agno, a -> tree(a, AgBtree.Kind.BNO, AGF_BNO_ROOT, AGF_BNO_LEVEL));
    }

    AgBtree cntTree(long agno) {
        return cnt.computeIfAbsent(agno, a -> tree(a, AgBtree.Kind.CNT, AGF_CNT_ROOT, AGF_CNT_LEVEL));
    }

    private AgBtree tree(long agno, AgBtree.Kind kind, int rootOff, int levelOff) {
        AgBtree.Blocks freeList = new AgBtree.Blocks() {
            @Override
            public long alloc() throws IOException {
                long b = agflGet(agno);
                addBtreeblks(agno, 1);
                return b;
            }

            @Override
            public void free(long agbno) throws IOException {
                addBtreeblks(agno, -1);
                agflPut(agno, agbno);
            }
        };
        return new AgBtree(v, t, agno, kind, agf.root(agno, rootOff, levelOff), freeList);
    }

    /** The refcount B+tree of a reflink filesystem (searched, never changed). */
    AgBtree refcountTree(long agno) {
        return AgBtree.searchOnly(v, t, agno, AgBtree.Kind.REFC, agf.root(agno, AGF_REFC_ROOT, AGF_REFC_LEVEL));
    }

    /** True when any block of {@code [agbno, agbno + len)} is shared with another file (reflink). */
    boolean shared(long agno, long agbno, long len) throws IOException {
        AgBtree rc = refcountTree(agno);
        AgBtree.Cursor c = rc.lookup(agbno);
        ByteBuffer r = rc.record(c);
        if (r != null && Superblock.u32(r, 0) + Superblock.u32(r, 4) > agbno) {
            return true;
        }
        if (!rc.increment(c)) {
            return false;
        }
        r = rc.record(c);
        long start = Superblock.u32(r, 0);
        // records of the copy-on-write domain (high bit) are staging extents, not sharing
        return start < 0x80000000L && start < agbno + len;
    }

    private static byte[] rec(long start, long len) {
        ByteBuffer b = ByteBuffer.allocate(8);
        b.putInt(0, (int) start).putInt(4, (int) len);
        return b.array();
    }

    private static long cntKey(long start, long len) {
        return (len << 32) | start;
    }

    // ---- allocation ----

    /** Blocks the free list must hold before a change to the free space trees (kernel's minimum). */
    private long minFreelist(long agno) throws IOException {
        return agfField(agno, AGF_BNO_LEVEL) + 1 + agfField(agno, AGF_CNT_LEVEL) + 1;
    }

    /** Brings the free list between its minimum and a level that leaves room for blocks given back. */
    void fixFreelist(long agno) throws IOException {
        if (fixing) {
            return;
        }
        fixing = true;
        try {
            long need = minFreelist(agno);
            long ceiling = agflSize() - 2 * (AgBtree.MAX_LEVELS + 1L);
            while (agfField(agno, AGF_FLCOUNT) > Math.max(need, ceiling)) {
                long b = agflGet(agno);
                freeExtent(agno, b, 1);
            }
            while (agfField(agno, AGF_FLCOUNT) < need) {
                long want = need - agfField(agno, AGF_FLCOUNT);
                long[] found = find(agno, 1, want, 1);
                if (found == null) {
                    throw noSpace("AG " + agno + " has no blocks left for its free list");
                }
                take(agno, found[0], found[1], found[2], found[3]);
                for (long i = 0; i < found[3]; i++) {
                    agflPut(agno, found[2] + i);
                }
            }
        } finally {
            fixing = false;
        }
    }

    /** The filesystem (or an AG, for a structure that must stay in it) has no room for an edit. */
    static final class NoSpace extends Jv2vException {
        NoSpace(String message) {
            super(message);
        }
    }

    NoSpace noSpace(String detail) {
        return new NoSpace(v.device.describe() + ": no space left on the XFS filesystem (" + detail + ")");
    }

    /**
     * Finds free space in an AG: {@code maxLen} blocks starting on a multiple of {@code align} if
     * some free extent has them, else the longest free extent if it yields at least {@code minLen}.
     * Returns {free start, free length, chosen start, chosen length}, or null.
     */
    long[] find(long agno, long minLen, long maxLen, long align) throws IOException {
        maxLen = Math.min(maxLen, MAX_EXTLEN);
        AgBtree cntbt = cntTree(agno);
        // smallest extent certain to hold maxLen aligned blocks
        AgBtree.Cursor c = cntbt.ge(cntKey(0, maxLen + align - 1));
        if (c != null) {
            ByteBuffer r = cntbt.record(c);
            long s = Superblock.u32(r, 0);
            long l = Superblock.u32(r, 4);
            return new long[] {s, l, roundUp(s, align), maxLen};
        }
        if (align > 1) {
            c = cntbt.ge(cntKey(0, maxLen));
            while (c != null) {
                ByteBuffer r = cntbt.record(c);
                long s = Superblock.u32(r, 0);
                long l = Superblock.u32(r, 4);
                long a = roundUp(s, align);
                if (a + maxLen <= s + l) {
                    return new long[] {s, l, a, maxLen};
                }
                if (!cntbt.increment(c)) {
                    break;
                }
            }
        }
        if (minLen >= maxLen) {
            return null;
        }
        c = cntbt.last();
        if (c == null) {
            return null;
        }
        ByteBuffer r = cntbt.record(c);
        long s = Superblock.u32(r, 0);
        long l = Superblock.u32(r, 4);
        long a = roundUp(s, align);
        long len = Math.min(s + l - a, maxLen);
        return len >= minLen ? new long[] {s, l, a, len} : null;
    }

    private static long roundUp(long x, long align) {
        return align <= 1 ? x : (x + align - 1) / align * align;
    }

    /** Removes {@code [a, a + len)} from the free extent {@code [s, s + l)} in both trees. */
    private void take(long agno, long s, long l, long a, long len) throws IOException {
        if (a < s || a + len > s + l || len <= 0) {
            throw new IllegalStateException("take [" + a + ", +" + len + ") from [" + s + ", +" + l + ")");
        }
        AgBtree bnobt = bnoTree(agno);
        AgBtree.Cursor c = bnobt.eq(s);
        if (c == null || Superblock.u32(bnobt.record(c), 4) != l) {
            throw v.corrupt("free space B+trees of AG " + agno, agf.offset(agno), "free extent [" + s + ", +" + l
                    + ") is in the by-size tree but not in the by-block tree");
        }
        long headLen = a - s;
        long tailLen = s + l - (a + len);
        if (headLen == 0 && tailLen == 0) {
            bnobt.delete(c);
        } else if (headLen == 0) {
            bnobt.update(c, rec(a + len, tailLen));
        } else {
            bnobt.update(c, rec(s, headLen));
            if (tailLen > 0) {
                bnobt.insert(rec(a + len, tailLen));
            }
        }
        AgBtree cntbt = cntTree(agno);
        AgBtree.Cursor cc = cntbt.eq(cntKey(s, l));
        if (cc == null) {
            throw v.corrupt("free space B+trees of AG " + agno, agf.offset(agno), "free extent [" + s + ", +" + l
                    + ") is missing from the by-size tree");
        }
        cntbt.delete(cc);
        if (headLen > 0) {
            cntbt.insert(rec(s, headLen));
        }
        if (tailLen > 0) {
            cntbt.insert(rec(a + len, tailLen));
        }
        addFreeblks(agno, -len);
        t.forget(v.agBlockOffset(agno, a), len * v.blockSize);
    }

    /**
     * Allocates up to {@code maxLen} blocks (at least {@code minLen}) in one extent of AG {@code agno},
     * starting on a multiple of {@code align}. Returns {agbno, length} or null when the AG cannot.
     */
    long[] allocate(long agno, long minLen, long maxLen, long align) throws IOException {
        fixFreelist(agno);
        // keep what the free list may still need after this allocation
        long reserve = minFreelist(agno) + 2;
        long free = agfField(agno, AGF_FREEBLKS);
        if (free <= reserve) {
            return null;
        }
        maxLen = Math.min(maxLen, free - reserve);
        if (maxLen < minLen) {
            return null;
        }
        long[] f = find(agno, minLen, maxLen, align);
        if (f == null) {
            return null;
        }
        take(agno, f[0], f[1], f[2], f[3]);
        return new long[] {f[2], f[3]};
    }

    /** Frees {@code [agbno, agbno + len)} of AG {@code agno}, merging with free neighbours. */
    void free(long agno, long agbno, long len) throws IOException {
        fixFreelist(agno);
        freeExtent(agno, agbno, len);
    }

    private void freeExtent(long agno, long agbno, long len) throws IOException {
        if (agbno <= 0 || len <= 0 || agbno + len > agLength(agno)) {
            throw new IllegalStateException("free [" + agbno + ", +" + len + ") in AG " + agno);
        }
        t.forget(v.agBlockOffset(agno, agbno), len * v.blockSize);
        AgBtree bnobt = bnoTree(agno);
        String field = "free space B+tree (by block) of AG " + agno;
        AgBtree.Cursor c = bnobt.lookup(agbno);
        long ls = -1;
        long ll = 0;
        ByteBuffer r = bnobt.record(c);
        if (r != null) {
            ls = Superblock.u32(r, 0);
            ll = Superblock.u32(r, 4);
            if (ls + ll > agbno) {
                throw v.corrupt(field, agf.offset(agno), "freeing [" + agbno + ", +" + len
                        + ") which is already free in [" + ls + ", +" + ll + ")");
            }
        }
        long rs = -1;
        long rl = 0;
        AgBtree.Cursor rc = bnobt.ge(agbno);
        if (rc != null) {
            ByteBuffer rr = bnobt.record(rc);
            rs = Superblock.u32(rr, 0);
            rl = Superblock.u32(rr, 4);
            if (rs < agbno + len) {
                throw v.corrupt(field, agf.offset(agno), "freeing [" + agbno + ", +" + len
                        + ") which overlaps free [" + rs + ", +" + rl + ")");
            }
        }
        boolean mergeLeft = ls >= 0 && ls + ll == agbno;
        boolean mergeRight = rs >= 0 && rs == agbno + len;
        AgBtree cntbt = cntTree(agno);
        if (mergeLeft && mergeRight) {
            bnobt.delete(bnobt.eq(rs));
            bnobt.update(bnobt.eq(ls), rec(ls, ll + len + rl));
            cntbt.delete(cntEq(cntbt, ls, ll));
            cntbt.delete(cntEq(cntbt, rs, rl));
            cntbt.insert(rec(ls, ll + len + rl));
        } else if (mergeLeft) {
            bnobt.update(bnobt.eq(ls), rec(ls, ll + len));
            cntbt.delete(cntEq(cntbt, ls, ll));
            cntbt.insert(rec(ls, ll + len));
        } else if (mergeRight) {
            bnobt.update(bnobt.eq(rs), rec(agbno, len + rl));
            cntbt.delete(cntEq(cntbt, rs, rl));
            cntbt.insert(rec(agbno, len + rl));
        } else {
            bnobt.insert(rec(agbno, len));
            cntbt.insert(rec(agbno, len));
        }
        addFreeblks(agno, len);
    }

    private AgBtree.Cursor cntEq(AgBtree cntbt, long s, long l) throws IOException {
        AgBtree.Cursor c = cntbt.eq(cntKey(s, l));
        if (c == null) {
            throw v.corrupt("free space B+trees of AG " + cntbt.agno, agf.offset(cntbt.agno), "free extent [" + s
                    + ", +" + l + ") is missing from the by-size tree");
        }
        return c;
    }

    /** Free blocks an allocation in this AG may use, keeping the free list's needs back. */
    long available(long agno) throws IOException {
        return Math.max(0, agfField(agno, AGF_FREEBLKS) - minFreelist(agno) - 2);
    }

    /** Sets agf_longest of every AG whose free space changed, then the superblock counters. */
    void finish() throws IOException {
        for (long agno : touched) {
            AgBtree.Cursor c = cntTree(agno).last();
            long longest = c == null ? 0 : Superblock.u32(cntTree(agno).record(c), 4);
            agf.set(agno, AGF_LONGEST, longest);
        }
        if (fdDelta != 0 || icountDelta != 0 || ifreeDelta != 0) {
            ByteBuffer s = t.get(0, sb.sectSize(), Superblock.CRC_OFFSET, "superblock");
            s.putLong(0x80, s.getLong(0x80) + icountDelta);
            s.putLong(0x88, s.getLong(0x88) + ifreeDelta);
            s.putLong(0x90, s.getLong(0x90) + fdDelta);
            t.dirty(0);
        }
    }
}
