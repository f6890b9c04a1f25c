package org.jv2v.fs.xfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Inode allocation within one edit: the AGI, the inode B+tree (one record per chunk of 64 inodes,
 * with its free mask) and, where the filesystem has one, the free inode B+tree (the same records,
 * only for chunks with a free inode). New chunks are whole, aligned to sb_inoalignmt, and written
 * out as free inodes; chunks are never given back (the kernel keeps them too with ikeep, and
 * xfs_repair accepts an all-free chunk).
 */
final class Ialloc {
    static final int INODES_PER_CHUNK = 64;
    static final int AGI_COUNT = 0x10;
    static final int AGI_ROOT = 0x14;
    static final int AGI_LEVEL = 0x18;
    static final int AGI_FREECOUNT = 0x1c;
    static final int AGI_NEWINO = 0x20;
    static final int AGI_CRC = 0x138;
    static final int AGI_FREE_ROOT = 0x148;
    static final int AGI_FREE_LEVEL = 0x14c;
    static final int AGI_IBLOCKS = 0x150;
    static final int AGI_FBLOCKS = 0x154;

    static final int VERSION_ALIGN = 0x0080;
    static final long RO_COMPAT_FINOBT = 0x1;
    static final long RO_COMPAT_INOBTCNT = 0x8;

    private final Edit e;
    private final Volume v;
    private final Superblock sb;
    private final AgHeaderEdit agi;
    private final Map<Long, AgBtree> ino = new HashMap<>();
    private final Map<Long, AgBtree> fino = new HashMap<>();

    /** One inode chunk record, decoded. */
    static final class Rec {
        long startino;
        int holemask;
        int count;
        int freecount;
        long free;

        long holes() {
            long m = 0;
            for (int i = 0; i < 16; i++) {
                if ((holemask & (1 << i)) != 0) {
                    m |= 0xfL << (i * 4);
                }
            }
            return m;
        }
    }

    Ialloc(Edit e) {
        this.e = e;
        this.v = e.v;
        this.sb = e.v.sb;
        this.agi = AgHeaderEdit.agi(e.v, e.t);
    }

    boolean sparse() {
        return sb.isV5() && (sb.featuresIncompat() & Superblock.INCOMPAT_SPINODES) != 0;
    }

    boolean hasFinobt() {
        return sb.isV5() && (sb.featuresRoCompat() & RO_COMPAT_FINOBT) != 0;
    }

    private boolean hasInobtCount() {
        return sb.isV5() && (sb.featuresRoCompat() & RO_COMPAT_INOBTCNT) != 0;
    }

    AgBtree inoTree(long agno) {
        return ino.computeIfAbsent(agno, a -> tree(a, AgBtree.Kind.INO, AGI_ROOT, AGI_LEVEL, AGI_IBLOCKS));
    }

    AgBtree finoTree(long agno) {
        return fino.computeIfAbsent(agno, a -> tree(a, AgBtree.Kind.FINO, AGI_FREE_ROOT, AGI_FREE_LEVEL, AGI_FBLOCKS));
    }

    private AgBtree tree(long agno, AgBtree.Kind kind, int rootOff, int levelOff, int blocksOff) {
        AgBtree.Blocks blocks = new AgBtree.Blocks() {
            @Override
            public long alloc() throws IOException {
                long[] got = e.alloc.allocate(agno, 1, 1, 1);
                if (got == null) {
                    throw e.alloc.noSpace("AG " + agno + " has no block for its " + kind.title);
                }
                if (hasInobtCount()) {
                    agi.add(agno, blocksOff, 1);
                }
                return got[0];
            }

            @Override
            public void free(long agbno) throws IOException {
                e.alloc.free(agno, agbno, 1);
                if (hasInobtCount()) {
                    agi.add(agno, blocksOff, -1);
                }
            }
        };
        return new AgBtree(v, e.t, agno, kind, agi.root(agno, rootOff, levelOff), blocks);
    }

    Rec decode(ByteBuffer r) {
        Rec x = new Rec();
        x.startino = Superblock.u32(r, 0);
        if (sparse()) {
            x.holemask = Superblock.u16(r, 4);
            x.count = Superblock.u8(r, 6);
            x.freecount = Superblock.u8(r, 7);
        } else {
            x.holemask = 0;
            x.count = INODES_PER_CHUNK;
            x.freecount = (int) Superblock.u32(r, 4);
        }
        x.free = r.getLong(8);
        return x;
    }

    byte[] encode(Rec x) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.putInt(0, (int) x.startino);
        if (sparse()) {
            b.putShort(4, (short) x.holemask);
            b.put(6, (byte) x.count);
            b.put(7, (byte) x.freecount);
        } else {
            b.putInt(4, x.freecount);
        }
        b.putLong(8, x.free);
        return b.array();
    }

    private int inoBits() {
        return sb.agBlkLog() + sb.inopbLog();
    }

    /** Allocates an inode, preferring AG {@code preferAg}; returns its number. */
    long allocate(long preferAg) throws IOException {
        for (long k = 0; k < sb.agCount(); k++) {
            long agno = (preferAg + k) % sb.agCount();
            Rec r = findFree(agno);
            if (r != null) {
                return take(agno, r);
            }
        }
        for (long k = 0; k < sb.agCount(); k++) {
            long agno = (preferAg + k) % sb.agCount();
            Rec r = newChunk(agno);
            if (r != null) {
                return take(agno, r);
            }
        }
        throw e.alloc.noSpace("no free inode and no room for a new inode chunk");
    }

    private Rec findFree(long agno) throws IOException {
        if (agi.field(agno, AGI_FREECOUNT) == 0) {
            return null;
        }
        AgBtree tree = hasFinobt() ? finoTree(agno) : inoTree(agno);
        Rec[] found = {null};
        tree.forEach(rec -> {
            Rec x = decode(rec);
            if (x.freecount > 0 && (x.free & ~x.holes()) != 0) {
                found[0] = x;
                return false;
            }
            return true;
        });
        return found[0];
    }

    private long take(long agno, Rec r) throws IOException {
        long avail = r.free & ~r.holes();
        int idx = Long.numberOfTrailingZeros(avail);
        r.free &= ~(1L << idx);
        r.freecount--;
        AgBtree.Cursor c = inoTree(agno).eq(r.startino);
        if (c == null) {
            throw v.corrupt("inode B+tree of AG " + agno, agi.offset(agno), "no record for chunk " + r.startino);
        }
        inoTree(agno).update(c, encode(r));
        if (hasFinobt()) {
            AgBtree.Cursor fc = finoTree(agno).eq(r.startino);
            if (fc == null) {
                throw v.corrupt("free inode B+tree of AG " + agno, agi.offset(agno), "no record for chunk "
                        + r.startino + " which has free inodes");
            }
            if (r.freecount == 0) {
                finoTree(agno).delete(fc);
            } else {
                finoTree(agno).update(fc, encode(r));
            }
        }
        agi.add(agno, AGI_FREECOUNT, -1);
        e.alloc.ifreeDelta--;
        return (agno << inoBits()) | (r.startino + idx);
    }

    /** Allocates and writes out a new chunk of free inodes in AG {@code agno}; null when there is no room. */
    private Rec newChunk(long agno) throws IOException {
        int inopb = sb.inodesPerBlock();
        if (inopb > INODES_PER_CHUNK) {
            throw e.unsupported("inode chunks smaller than a block (" + inopb + " inodes per block)");
        }
        int blocks = INODES_PER_CHUNK / inopb;
        long align = (sb.versionNum() & VERSION_ALIGN) != 0 ? Math.max(1, sb.inoAlignment()) : 1;
        long[] got = e.alloc.allocate(agno, blocks, blocks, align);
        if (got == null) {
            return null;
        }
        long startino = got[0] << sb.inopbLog();
        if (startino + INODES_PER_CHUNK > (1L << inoBits())) {
            throw new IllegalStateException("inode chunk past the AG");
        }
        int gen = e.generations.nextInt();
        for (int i = 0; i < INODES_PER_CHUNK; i++) {
            long number = (agno << inoBits()) | (startino + i);
            InodeEdit ie = InodeEdit.fresh(v, e.t, number);
            ByteBuffer b = ie.b;
            b.putShort(0x00, (short) Inode.MAGIC);
            b.put(InodeEdit.OFF_VERSION, (byte) (sb.isV5() ? 3 : 2));
            b.putInt(InodeEdit.OFF_GEN, gen);
            b.putInt(InodeEdit.OFF_NEXT_UNLINKED, (int) InodeEdit.NULL_AGINO);
            if (sb.isV5()) {
                b.putLong(InodeEdit.OFF_INO, number);
                AgBtree.putUuid(b, InodeEdit.OFF_UUID, sb.metadataUuid());
            }
        }
        Rec r = new Rec();
        r.startino = startino;
        r.holemask = 0;
        r.count = INODES_PER_CHUNK;
        r.freecount = INODES_PER_CHUNK;
        r.free = -1L;
        inoTree(agno).insert(encode(r));
        if (hasFinobt()) {
            finoTree(agno).insert(encode(r));
        }
        agi.add(agno, AGI_COUNT, INODES_PER_CHUNK);
        agi.add(agno, AGI_FREECOUNT, INODES_PER_CHUNK);
        agi.set(agno, AGI_NEWINO, startino);
        e.alloc.icountDelta += INODES_PER_CHUNK;
        e.alloc.ifreeDelta += INODES_PER_CHUNK;
        return r;
    }

    /** Marks inode {@code number} free in the inode B+trees (its on-disk core is cleared by the caller). */
    void free(long number) throws IOException {
        long agno = number >>> inoBits();
        long agino = number & ((1L << inoBits()) - 1);
        AgBtree tree = inoTree(agno);
        AgBtree.Cursor c = tree.lookup(agino);
        ByteBuffer rec = tree.record(c);
        Rec r = rec == null ? null : decode(rec);
        if (r == null || agino < r.startino || agino >= r.startino + INODES_PER_CHUNK) {
            throw v.corrupt("inode B+tree of AG " + agno, agi.offset(agno), "no chunk holds inode " + number);
        }
        long bit = 1L << (agino - r.startino);
        if ((r.free & bit) != 0) {
            throw v.corrupt("inode B+tree of AG " + agno, agi.offset(agno), "inode " + number + " is already free");
        }
        r.free |= bit;
        r.freecount++;
        tree.update(c, encode(r));
        if (hasFinobt()) {
            if (r.freecount == 1) {
                finoTree(agno).insert(encode(r));
            } else {
                AgBtree.Cursor fc = finoTree(agno).eq(r.startino);
                if (fc == null) {
                    throw v.corrupt("free inode B+tree of AG " + agno, agi.offset(agno), "no record for chunk "
                            + r.startino + " which has free inodes");
                }
                finoTree(agno).update(fc, encode(r));
            }
        }
        agi.add(agno, AGI_FREECOUNT, 1);
        e.alloc.ifreeDelta++;
    }
}
