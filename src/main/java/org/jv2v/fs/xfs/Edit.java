package org.jv2v.fs.xfs;

import org.jv2v.Jv2vException;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One edit of the filesystem: its {@link Txn}, the free space and inode allocators that work in
 * it, the time stamped on what it changes, and block-number arithmetic.
 */
final class Edit {
    final Volume v;
    final Txn t;
    final Alloc alloc;
    final Ialloc ialloc;
    final Instant now;
    /** Generation numbers of new inodes (see {@link org.jv2v.fs.EditClock#generations}). */
    final java.util.Random generations;

    Edit(Volume v, Instant now, java.util.Random generations) {
        this.v = v;
        this.t = new Txn(v);
        this.now = now;
        this.generations = generations;
        this.alloc = new Alloc(v, t);
        this.ialloc = new Ialloc(this);
    }

    Jv2vException unsupported(String what) {
        return new Jv2vException(v.device.describe() + ": editing XFS: " + what + " is not supported");
    }

    long agOfIno(long ino) {
        return ino >>> (v.sb.agBlkLog() + v.sb.inopbLog());
    }

    long fsb(long agno, long agbno) {
        return (agno << v.sb.agBlkLog()) | agbno;
    }

    long agOfFsb(long fsb) {
        return fsb >>> v.sb.agBlkLog();
    }

    long agbnoOfFsb(long fsb) {
        return fsb & ((1L << v.sb.agBlkLog()) - 1);
    }

    void freeFsb(long fsb, long len) throws IOException {
        alloc.free(agOfFsb(fsb), agbnoOfFsb(fsb), len);
    }

    /** AG numbers starting at {@code prefer}, wrapping around. */
    private long ag(long prefer, long k) {
        return (prefer + k) % v.sb.agCount();
    }

    /** {@code len} contiguous blocks, in AG {@code prefer} if it has them, else in another AG; fs block number. */
    long allocContig(long prefer, long len) throws IOException {
        for (long k = 0; k < v.sb.agCount(); k++) {
            long agno = ag(prefer, k);
            long[] got = alloc.allocate(agno, len, len, 1);
            if (got != null) {
                return fsb(agno, got[0]);
            }
        }
        throw alloc.noSpace("no " + len + " contiguous free blocks");
    }

    /** {@code count} single blocks for metadata; fs block numbers. */
    long[] allocMetaBlocks(long prefer, int count) throws IOException {
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            out[i] = allocContig(prefer, 1);
        }
        return out;
    }

    /**
     * {@code blocks} blocks of file data as few extents as free space allows: one extent if some AG
     * has it (the preferred AG first), else the largest free extents of each AG in turn. Returns
     * {fs block, length} pairs.
     */
    List<long[]> allocData(long prefer, long blocks) throws IOException {
        List<long[]> out = new ArrayList<>();
        if (blocks == 0) {
            return out;
        }
        long total = 0;
        for (long k = 0; k < v.sb.agCount(); k++) {
            total += alloc.available(k);
        }
        if (total < blocks) {
            throw alloc.noSpace(blocks + " blocks needed, " + total + " available");
        }
        if (blocks <= Alloc.MAX_EXTLEN) {
            for (long k = 0; k < v.sb.agCount(); k++) {
                long agno = ag(prefer, k);
                long[] got = alloc.allocate(agno, blocks, blocks, 1);
                if (got != null) {
                    out.add(new long[] {fsb(agno, got[0]), got[1]});
                    return out;
                }
            }
        }
        long left = blocks;
        for (long k = 0; k < v.sb.agCount() && left > 0; k++) {
            long agno = ag(prefer, k);
            while (left > 0) {
                long[] got = alloc.allocate(agno, 1, Math.min(left, Alloc.MAX_EXTLEN), 1);
                if (got == null) {
                    break;
                }
                out.add(new long[] {fsb(agno, got[0]), got[1]});
                left -= got[1];
            }
        }
        if (left > 0) {
            throw alloc.noSpace(blocks + " blocks needed, " + left + " of them not found");
        }
        return out;
    }

    /** Writes every change of this edit to the device. */
    void commit() throws IOException {
        alloc.finish();
        t.commit();
    }
}
