package org.jv2v.fs.xfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Editing one of an AG's short-format B+trees (free space by block and by size, inodes, free
 * inodes; the refcount tree is only searched) inside a {@link Txn}. Records are fixed-size byte
 * strings whose leading bytes are the key, as on disk. Inserts split full blocks; deletes keep every
 * block but the root at least half full (borrowing from or merging with a sibling under the same
 * parent), because xfs_repair reports any emptier block; a root node left with one child is
 * removed. Node keys are the first key of their child and are kept so.
 */
final class AgBtree {
    /** Deepest tree accepted (the free space trees of a 2^31-block AG need 5 levels at 512-byte blocks). */
    static final int MAX_LEVELS = 9;
    static final long NULL_AGBLOCK = 0xffffffffL;

    enum Kind {
        BNO("free space B+tree (by block)", 0x41425442, 0x41423342, 8, 8),
        CNT("free space B+tree (by size)", 0x41425443, 0x41423343, 8, 8),
        INO("inode B+tree", 0x49414254, 0x49414233, 16, 4),
        FINO("free inode B+tree", 0x46494254, 0x46494233, 16, 4),
        REFC("refcount B+tree", 0, 0x52334643, 12, 4);

        final String title;
        final int magicV4;
        final int magicV5;
        final int recSize;
        final int keySize;

        Kind(String title, int magicV4, int magicV5, int recSize, int keySize) {
            this.title = title;
            this.magicV4 = magicV4;
            this.magicV5 = magicV5;
            this.recSize = recSize;
            this.keySize = keySize;
        }

        /** The sort key of a record or node key starting at {@code off}. */
        long key(ByteBuffer b, int off) {
            long first = Superblock.u32(b, off);
            return this == CNT ? (Superblock.u32(b, off + 4) << 32) | first : first;
        }
    }

    /** Where the tree's root and height live (two fields of the AGF or AGI, see {@link AgHeaderEdit#root}). */
    interface Root {
        long root() throws IOException;

        int levels() throws IOException;

        void set(long root, int levels) throws IOException;
    }

    /** Where new blocks come from and freed ones go (the AG free list, or the free space trees). */
    interface Blocks {
        long alloc() throws IOException;

        void free(long agbno) throws IOException;
    }

    /** A position: the block and index at each level, leaf at 0. {@code idx[0]} is -1 before the first record. */
    static final class Cursor {
        final long[] blk;
        final int[] idx;

        Cursor(int levels) {
            blk = new long[levels];
            idx = new int[levels];
        }

        int levels() {
            return blk.length;
        }
    }

    private final Volume v;
    private final Txn t;
    final long agno;
    final Kind kind;
    private final Root root;
    /** Null for a tree that is only searched. */
    private final Blocks blocks;
    private final int magic;
    private final int hdr;
    private final int leafMax;
    private final int nodeMax;
    private final String name;

    AgBtree(Volume v, Txn t, long agno, Kind kind, Root root, Blocks blocks) {
        this.v = v;
        this.t = t;
        this.agno = agno;
        this.kind = kind;
        this.root = root;
        this.blocks = blocks;
        boolean v5 = v.sb.isV5();
        this.magic = v5 ? kind.magicV5 : kind.magicV4;
        this.hdr = v5 ? FreeSpace.SBLOCK3_HDR : FreeSpace.SBLOCK_HDR;
        this.leafMax = (v.blockSize - hdr) / kind.recSize;
        this.nodeMax = (v.blockSize - hdr) / (kind.keySize + 4);
        this.name = kind.title + " of AG " + agno;
    }

    /** A tree that is only searched (the refcount tree): any change to it is a bug. */
    static AgBtree searchOnly(Volume v, Txn t, long agno, Kind kind, Root root) {
        return new AgBtree(v, t, agno, kind, root, null);
    }

    private void requireEditable() {
        if (blocks == null) {
            throw new IllegalStateException("the " + kind.title + " is not edited");
        }
    }

    int leafMax() {
        return leafMax;
    }

    private int minRecs(int level) {
        return (level == 0 ? leafMax : nodeMax) / 2;
    }

    // ---- blocks ----

    private long offset(long agbno) {
        return v.agBlockOffset(agno, agbno);
    }

    private ByteBuffer block(long agbno, int level) throws IOException {
        if (agbno == 0 || agbno >= v.sb.agBlocks()) {
            throw v.corrupt(name, offset(0), "pointer to block " + agbno + " outside the AG");
        }
        long off = offset(agbno);
        ByteBuffer b = t.get(off, v.blockSize, FreeSpace.SBLOCK3_CRC, name);
        if (b.getInt(0) != magic) {
            throw v.corrupt(name, off, "bad magic 0x" + Integer.toHexString(b.getInt(0)));
        }
        if (v.sb.isV5()) {
            v.checkSelf(b, 0x20, 0x10, off, 0x30, 4, agno, name);
        }
        if (Superblock.u16(b, 4) != level) {
            throw v.corrupt(name, off, "level " + Superblock.u16(b, 4) + " where " + level + " was expected");
        }
        int n = numrecs(b);
        if (n > (level == 0 ? leafMax : nodeMax)) {
            throw v.corrupt(name, off, n + " records do not fit the block");
        }
        return b;
    }

    private ByteBuffer newBlock(long agbno, int level) {
        long off = offset(agbno);
        ByteBuffer b = t.create(off, v.blockSize, FreeSpace.SBLOCK3_CRC);
        b.putInt(0x00, magic);
        b.putShort(0x04, (short) level);
        b.putShort(0x06, (short) 0);
        b.putInt(0x08, (int) NULL_AGBLOCK);
        b.putInt(0x0c, (int) NULL_AGBLOCK);
        if (v.sb.isV5()) {
            b.putLong(0x10, off >> 9);
            b.putLong(0x18, 0);
            putUuid(b, 0x20, v.sb.metadataUuid());
            b.putInt(0x30, (int) agno);
        }
        return b;
    }

    static void putUuid(ByteBuffer b, int off, java.util.UUID u) {
        b.putLong(off, u.getMostSignificantBits());
        b.putLong(off + 8, u.getLeastSignificantBits());
    }

    private void dirty(long agbno) {
        t.dirty(offset(agbno));
    }

    private void freeBlock(long agbno) throws IOException {
        t.forget(offset(agbno), v.blockSize);
        blocks.free(agbno);
    }

    private static int numrecs(ByteBuffer b) {
        return Superblock.u16(b, 6);
    }

    private static void setNumrecs(ByteBuffer b, int n) {
        b.putShort(6, (short) n);
    }

    private static long right(ByteBuffer b) {
        return Superblock.u32(b, 0x0c);
    }

    private int entrySize(int level) {
        return level == 0 ? kind.recSize : kind.keySize;
    }

    private int entryOff(int level, int i) {
        return hdr + i * entrySize(level);
    }

    private int ptrOff(int i) {
        return hdr + nodeMax * kind.keySize + i * 4;
    }

    private byte[] entry(ByteBuffer b, int level, int i) {
        byte[] e = new byte[entrySize(level)];
        b.get(entryOff(level, i), e);
        return e;
    }

    private long ptr(ByteBuffer b, int i) {
        return Superblock.u32(b, ptrOff(i));
    }

    private long keyAt(ByteBuffer b, int level, int i) {
        return kind.key(b, entryOff(level, i));
    }

    /** The node key of a block: the leading key bytes of its first entry. */
    private byte[] firstKey(ByteBuffer b, int level) {
        byte[] k = new byte[kind.keySize];
        b.get(entryOff(level, 0), k);
        return k;
    }

    private void writeAll(ByteBuffer b, int level, List<byte[]> entries, List<Long> ptrs) {
        int size = entrySize(level);
        for (int i = 0; i < entries.size(); i++) {
            b.put(hdr + i * size, entries.get(i));
            if (level > 0) {
                b.putInt(ptrOff(i), (int) (long) ptrs.get(i));
            }
        }
        setNumrecs(b, entries.size());
    }

    private void readAll(ByteBuffer b, int level, List<byte[]> entries, List<Long> ptrs) {
        int n = numrecs(b);
        for (int i = 0; i < n; i++) {
            entries.add(entry(b, level, i));
            if (level > 0) {
                ptrs.add(ptr(b, i));
            }
        }
    }

    // ---- searching ----

    /** Positions at the last record whose key is at most {@code key} ({@code idx[0] == -1} if none in that leaf). */
    Cursor lookup(long key) throws IOException {
        int levels = root.levels();
        if (levels < 1 || levels > MAX_LEVELS) {
            throw v.corrupt(name, offset(0), levels + " levels (1.." + MAX_LEVELS + ")");
        }
        Cursor c = new Cursor(levels);
        long bno = root.root();
        for (int lev = levels - 1; lev >= 0; lev--) {
            ByteBuffer b = block(bno, lev);
            int n = numrecs(b);
            if (lev > 0 && n == 0) {
                throw v.corrupt(name, offset(bno), "empty node");
            }
            int lo = 0;
            int hi = n;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (Long.compareUnsigned(keyAt(b, lev, mid), key) <= 0) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            int i = lo - 1;
            c.blk[lev] = bno;
            if (lev > 0) {
                c.idx[lev] = Math.max(i, 0);
                bno = ptr(b, c.idx[lev]);
            } else {
                c.idx[0] = i;
            }
        }
        return c;
    }

    /** The record at the cursor, or null when the cursor is before the first or after the last. */
    ByteBuffer record(Cursor c) throws IOException {
        ByteBuffer b = block(c.blk[0], 0);
        if (c.idx[0] < 0 || c.idx[0] >= numrecs(b)) {
            return null;
        }
        return b.slice(entryOff(0, c.idx[0]), kind.recSize);
    }

    long recordKey(Cursor c) throws IOException {
        ByteBuffer r = record(c);
        return r == null ? -1 : kind.key(r, 0);
    }

    /** Moves to the next record; false at the end. */
    boolean increment(Cursor c) throws IOException {
        ByteBuffer leaf = block(c.blk[0], 0);
        if (c.idx[0] + 1 < numrecs(leaf)) {
            c.idx[0]++;
            return true;
        }
        int lev = 1;
        while (lev < c.levels()) {
            ByteBuffer b = block(c.blk[lev], lev);
            if (c.idx[lev] + 1 < numrecs(b)) {
                c.idx[lev]++;
                break;
            }
            lev++;
        }
        if (lev == c.levels()) {
            c.idx[0] = numrecs(leaf);
            return false;
        }
        for (int l = lev - 1; l >= 0; l--) {
            c.blk[l] = ptr(block(c.blk[l + 1], l + 1), c.idx[l + 1]);
            c.idx[l] = 0;
            if (numrecs(block(c.blk[l], l)) == 0) {
                throw v.corrupt(name, offset(c.blk[l]), "empty block in the middle of the tree");
            }
        }
        return true;
    }

    /** The first record at or after {@code key}, or null (the cursor then is past the end). */
    Cursor ge(long key) throws IOException {
        Cursor c = lookup(key);
        ByteBuffer r = record(c);
        if (r != null && kind.key(r, 0) == key) {
            return c;
        }
        return increment(c) ? c : null;
    }

    /** The record with exactly this key, or null. */
    Cursor eq(long key) throws IOException {
        Cursor c = lookup(key);
        ByteBuffer r = record(c);
        return r != null && kind.key(r, 0) == key ? c : null;
    }

    /** The last record of the tree (the largest key), or null for an empty tree. */
    Cursor last() throws IOException {
        int levels = root.levels();
        Cursor c = new Cursor(levels);
        long bno = root.root();
        for (int lev = levels - 1; lev >= 0; lev--) {
            ByteBuffer b = block(bno, lev);
            int n = numrecs(b);
            c.blk[lev] = bno;
            c.idx[lev] = n - 1;
            if (lev > 0) {
                if (n == 0) {
                    throw v.corrupt(name, offset(bno), "empty node");
                }
                bno = ptr(b, n - 1);
            }
        }
        return c.idx[0] >= 0 ? c : null;
    }

    // ---- changing ----

    void insert(byte[] rec) throws IOException {
        requireEditable();
        long key = kind.key(ByteBuffer.wrap(rec), 0);
        Cursor c = lookup(key);
        ByteBuffer r = record(c);
        if (r != null && kind.key(r, 0) == key) {
            throw v.corrupt(name, offset(c.blk[0]), "a record with key " + key + " is already there");
        }
        insertAt(c, 0, c.idx[0] + 1, rec, 0);
    }

    /** Overwrites the record at the cursor; its key may change only within its neighbours' keys. */
    void update(Cursor c, byte[] rec) throws IOException {
        requireEditable();
        ByteBuffer b = block(c.blk[0], 0);
        b.put(entryOff(0, c.idx[0]), rec);
        dirty(c.blk[0]);
        if (c.idx[0] == 0) {
            updateKeys(c, 0);
        }
    }

    void delete(Cursor c) throws IOException {
        requireEditable();
        deleteAt(c, 0, c.idx[0]);
    }

    /** After the first entry of the block at {@code level} changed: fixes the keys above it. */
    private void updateKeys(Cursor c, int level) throws IOException {
        ByteBuffer b = block(c.blk[level], level);
        if (numrecs(b) == 0) {
            return;
        }
        byte[] k = firstKey(b, level);
        for (int l = level + 1; l < c.levels(); l++) {
            ByteBuffer p = block(c.blk[l], l);
            p.put(entryOff(l, c.idx[l]), k);
            dirty(c.blk[l]);
            if (c.idx[l] != 0) {
                break;
            }
        }
    }

    private void insertAt(Cursor c, int level, int pos, byte[] entry, long ptr) throws IOException {
        long bno = c.blk[level];
        ByteBuffer b = block(bno, level);
        int n = numrecs(b);
        int max = level == 0 ? leafMax : nodeMax;
        if (n < max) {
            int size = entrySize(level);
            move(b, entryOff(level, pos), entryOff(level, pos + 1), (n - pos) * size);
            b.put(entryOff(level, pos), entry, 0, size);
            if (level > 0) {
                for (int i = n; i > pos; i--) {
                    b.putInt(ptrOff(i), b.getInt(ptrOff(i - 1)));
                }
                b.putInt(ptrOff(pos), (int) ptr);
            }
            setNumrecs(b, n + 1);
            dirty(bno);
            if (pos == 0) {
                updateKeys(c, level);
            }
            return;
        }
        // full: split into this block (lower half) and a new right sibling
        List<byte[]> entries = new ArrayList<>();
        List<Long> ptrs = new ArrayList<>();
        readAll(b, level, entries, ptrs);
        entries.add(pos, entry);
        if (level > 0) {
            ptrs.add(pos, ptr);
        }
        int leftCount = entries.size() / 2;
        long newBno = blocks.alloc();
        ByteBuffer nb = newBlock(newBno, level);
        b = block(bno, level); // the allocation may have evicted nothing, but re-fetch to be safe
        writeAll(b, level, entries.subList(0, leftCount), level > 0 ? ptrs.subList(0, leftCount) : null);
        writeAll(nb, level, entries.subList(leftCount, entries.size()),
                level > 0 ? ptrs.subList(leftCount, ptrs.size()) : null);
        long oldRight = right(b);
        nb.putInt(0x08, (int) bno);
        nb.putInt(0x0c, (int) oldRight);
        b.putInt(0x0c, (int) newBno);
        dirty(bno);
        if (oldRight != NULL_AGBLOCK) {
            ByteBuffer rb = block(oldRight, level);
            rb.putInt(0x08, (int) newBno);
            dirty(oldRight);
        }
        byte[] rightKey = firstKey(nb, level);
        if (level == c.levels() - 1) {
            long rootBno = blocks.alloc();
            ByteBuffer r = newBlock(rootBno, level + 1);
            writeAll(r, level + 1, List.of(firstKey(b, level), rightKey), List.of(bno, newBno));
            root.set(rootBno, c.levels() + 1);
            return;
        }
        if (pos == 0) {
            updateKeys(c, level);
        }
        insertAt(c, level + 1, c.idx[level + 1] + 1, rightKey, newBno);
    }

    private void deleteAt(Cursor c, int level, int pos) throws IOException {
        long bno = c.blk[level];
        ByteBuffer b = block(bno, level);
        int n = numrecs(b);
        if (pos < 0 || pos >= n) {
            throw new IllegalStateException(name + ": delete at " + pos + " of " + n);
        }
        int size = entrySize(level);
        move(b, entryOff(level, pos + 1), entryOff(level, pos), (n - pos - 1) * size);
        if (level > 0) {
            for (int i = pos; i < n - 1; i++) {
                b.putInt(ptrOff(i), b.getInt(ptrOff(i + 1)));
            }
        }
        n--;
        setNumrecs(b, n);
        dirty(bno);
        if (level == c.levels() - 1) {
            if (level > 0 && n == 1) { // a root node with one child: the child becomes the root
                long child = ptr(b, 0);
                root.set(child, c.levels() - 1);
                freeBlock(bno);
            }
            return;
        }
        if (pos == 0 && n > 0) {
            updateKeys(c, level);
        }
        if (n >= minRecs(level)) {
            return;
        }
        int pl = level + 1;
        ByteBuffer parent = block(c.blk[pl], pl);
        int pi = c.idx[pl];
        int pn = numrecs(parent);
        if (pi + 1 < pn) {
            long rBno = ptr(parent, pi + 1);
            ByteBuffer rb = block(rBno, level);
            int rn = numrecs(rb);
            if (rn > minRecs(level)) { // borrow the right sibling's first entry
                b.put(entryOff(level, n), entry(rb, level, 0));
                if (level > 0) {
                    b.putInt(ptrOff(n), (int) ptr(rb, 0));
                }
                setNumrecs(b, n + 1);
                dirty(bno);
                List<byte[]> re = new ArrayList<>();
                List<Long> rp = new ArrayList<>();
                readAll(rb, level, re, rp);
                writeAll(rb, level, re.subList(1, re.size()), level > 0 ? rp.subList(1, rp.size()) : null);
                dirty(rBno);
                parent.put(entryOff(pl, pi + 1), firstKey(rb, level));
                dirty(c.blk[pl]);
                if (n == 0) {
                    updateKeys(c, level);
                }
                return;
            }
            // merge the right sibling into this block
            mergeInto(b, bno, n, rb, rBno, level);
            if (n == 0) {
                updateKeys(c, level);
            }
            deleteAt(c, pl, pi + 1);
        } else if (pi > 0) {
            long lBno = ptr(parent, pi - 1);
            ByteBuffer lb = block(lBno, level);
            int ln = numrecs(lb);
            if (ln > minRecs(level)) { // borrow the left sibling's last entry
                List<byte[]> es = new ArrayList<>();
                List<Long> ps = new ArrayList<>();
                readAll(b, level, es, ps);
                es.addFirst(entry(lb, level, ln - 1));
                if (level > 0) {
                    ps.addFirst(ptr(lb, ln - 1));
                }
                writeAll(b, level, es, level > 0 ? ps : null);
                setNumrecs(lb, ln - 1);
                dirty(bno);
                dirty(lBno);
                updateKeys(c, level);
                return;
            }
            mergeInto(lb, lBno, ln, b, bno, level);
            deleteAt(c, pl, pi);
        } else if (pl == c.levels() - 1 && pn == 1) {
            // the parent is a root with this block as its only child: this block becomes the root
            root.set(bno, c.levels() - 1);
            freeBlock(c.blk[pl]);
        }
    }

    /** Appends the right block's entries to the left one, unlinks and frees the right block. */
    private void mergeInto(ByteBuffer lb, long lBno, int ln, ByteBuffer rb, long rBno, int level) throws IOException {
        List<byte[]> es = new ArrayList<>();
        List<Long> ps = new ArrayList<>();
        readAll(lb, level, es, ps);
        es = new ArrayList<>(es.subList(0, ln));
        if (level > 0) {
            ps = new ArrayList<>(ps.subList(0, ln));
        }
        readAll(rb, level, es, ps);
        writeAll(lb, level, es, level > 0 ? ps : null);
        long rr = right(rb);
        lb.putInt(0x0c, (int) rr);
        dirty(lBno);
        if (rr != NULL_AGBLOCK) {
            ByteBuffer rrb = block(rr, level);
            rrb.putInt(0x08, (int) lBno);
            dirty(rr);
        }
        freeBlock(rBno);
    }

    /** Calls {@code action} with each record in key order (for scans of small trees). */
    void forEach(RecordAction action) throws IOException {
        Cursor c = lookup(0);
        if (record(c) == null && !increment(c)) {
            return;
        }
        do {
            if (!action.accept(record(c))) {
                return;
            }
        } while (increment(c));
    }

    @FunctionalInterface
    interface RecordAction {
        boolean accept(ByteBuffer rec) throws IOException;
    }

    /** Copies {@code len} bytes within one buffer; the ranges may overlap. */
    static void move(ByteBuffer b, int from, int to, int len) {
        if (len <= 0) {
            return;
        }
        byte[] tmp = new byte[len];
        b.get(from, tmp);
        b.put(to, tmp);
    }
}
