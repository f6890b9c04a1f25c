package org.jv2v.fs.xfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongUnaryOperator;

/**
 * One kind of AG header sector (the AGF or the AGI) as an edit sees it: read through the
 * {@link Txn} and checked (magic, AG number, filesystem UUID, and for the AGF the AG length) each
 * time, with its 32-bit fields read and set. Both hold the roots and heights of their AG's B+trees,
 * which {@link #root} hands to {@link AgBtree}.
 */
final class AgHeaderEdit {
    private final Volume v;
    private final Txn t;
    private final String name;
    private final int sector;
    private final int magic;
    private final int crcOffset;
    private final int uuidOffset;
    /** The AG length the header must state at 0x0c, by AG number; null where it is not checked. */
    private final LongUnaryOperator agLength;

    private AgHeaderEdit(Volume v, Txn t, String name, int sector, int magic, int crcOffset, int uuidOffset,
            LongUnaryOperator agLength) {
        this.v = v;
        this.t = t;
        this.name = name;
        this.sector = sector;
        this.magic = magic;
        this.crcOffset = crcOffset;
        this.uuidOffset = uuidOffset;
        this.agLength = agLength;
    }

    /** The AG free space header (sector 1), which must state the AG's length. */
    static AgHeaderEdit agf(Volume v, Txn t, LongUnaryOperator agLength) {
        return new AgHeaderEdit(v, t, "AGF", 1, AgHeaders.Agf.MAGIC, AgHeaders.Agf.CRC_OFFSET, 0x40, agLength);
    }

    /** The AG inode header (sector 2). */
    static AgHeaderEdit agi(Volume v, Txn t) {
        return new AgHeaderEdit(v, t, "AGI", 2, 0x58414749 /* "XAGI" */, Ialloc.AGI_CRC, 0x128, null);
    }

    long offset(long agno) {
        return v.agBlockOffset(agno, 0) + (long) sector * v.sb.sectSize();
    }

    ByteBuffer get(long agno) throws IOException {
        long off = offset(agno);
        String field = name + " of AG " + agno;
        ByteBuffer b = t.get(off, v.sb.sectSize(), crcOffset, field);
        if (b.getInt(0) != magic) {
            throw v.corrupt(field, off, "bad magic 0x" + Integer.toHexString(b.getInt(0)));
        }
        long seqno = Superblock.u32(b, 0x08);
        if (agLength == null ? seqno != agno : seqno != agno || Superblock.u32(b, 0x0c) != agLength.applyAsLong(agno)) {
            throw v.corrupt(field, off, "says it is AG " + seqno
                    + (agLength == null ? "" : " of " + Superblock.u32(b, 0x0c) + " blocks"));
        }
        if (v.sb.isV5() && !Superblock.uuid(b, uuidOffset).equals(v.sb.metadataUuid())) {
            throw v.corrupt(field, off, "belongs to filesystem " + Superblock.uuid(b, uuidOffset));
        }
        return b;
    }

    long field(long agno, int off) throws IOException {
        return Superblock.u32(get(agno), off);
    }

    void set(long agno, int off, long value) throws IOException {
        get(agno).putInt(off, (int) value);
        t.dirty(offset(agno));
    }

    void add(long agno, int off, long delta) throws IOException {
        set(agno, off, field(agno, off) + delta);
    }

    /** The root block and height of one of this AG's B+trees, kept in the fields at {@code rootOff} and {@code levelOff}. */
    AgBtree.Root root(long agno, int rootOff, int levelOff) {
        return new AgBtree.Root() {
            @Override
            public long root() throws IOException {
                return field(agno, rootOff);
            }

            @Override
            public int levels() throws IOException {
                return (int) field(agno, levelOff);
            }

            @Override
            public void set(long root, int levels) throws IOException {
                AgHeaderEdit.this.set(agno, rootOff, root);
                AgHeaderEdit.this.set(agno, levelOff, levels);
            }
        };
    }
}
