package org.jv2v.fs.xfs;

import org.jv2v.fs.FileKind;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * One on-disk inode being changed inside a {@link Txn}: typed access to the core fields (v2 cores
 * on v4 filesystems, v3 on v5; the extent counters move with the nrext64 flag) and to the two
 * fork areas. Its CRC is recomputed at commit. Offsets in hex as in the on-disk documentation.
 */
final class InodeEdit {
    static final int OFF_MODE = 0x02;
    static final int OFF_VERSION = 0x04;
    static final int OFF_FORMAT = 0x05;
    static final int OFF_UID = 0x08;
    static final int OFF_GID = 0x0c;
    static final int OFF_NLINK = 0x10;
    static final int OFF_BIG_NEXTENTS = 0x18;
    static final int OFF_ATIME = 0x20;
    static final int OFF_MTIME = 0x28;
    static final int OFF_CTIME = 0x30;
    static final int OFF_SIZE = 0x38;
    static final int OFF_NBLOCKS = 0x40;
    static final int OFF_NEXTENTS = 0x4c;
    static final int OFF_ANEXTENTS = 0x50;
    static final int OFF_FORKOFF = 0x52;
    static final int OFF_AFORMAT = 0x53;
    static final int OFF_FLAGS = 0x5a;
    static final int OFF_GEN = 0x5c;
    static final int OFF_NEXT_UNLINKED = 0x60;
    static final int OFF_CHANGECOUNT = 0x68;
    static final int OFF_LSN = 0x70;
    static final int OFF_FLAGS2 = 0x78;
    static final int OFF_CRTIME = 0x90;
    static final int OFF_INO = 0x98;
    static final int OFF_UUID = 0xa0;

    static final long FLAG2_REFLINK = 0x2;
    static final long NULL_AGINO = 0xffffffffL;

    final Volume v;
    final Txn t;
    final long ino;
    final long offset;
    final ByteBuffer b;

    private InodeEdit(Volume v, Txn t, long ino, long offset, ByteBuffer b) {
        this.v = v;
        this.t = t;
        this.ino = ino;
        this.offset = offset;
        this.b = b;
    }

    /** Byte offset of inode {@code ino} on the device, checked against the geometry. */
    static long offsetOf(Volume v, long ino) {
        return Inode.locate(v, ino, "inode number", 0).offset(v);
    }

    static int crcOffset(Volume v) {
        return v.sb.isV5() ? Inode.CRC_OFFSET : -1;
    }

    /** An inode in use, checked as the reader checks it. */
    static InodeEdit load(Volume v, Txn t, long ino) throws IOException {
        long off = offsetOf(v, ino);
        ByteBuffer b = t.get(off, v.sb.inodeSize(), crcOffset(v), "inode " + ino);
        Inode.parse(v, ino, off, b, "inode " + ino); // validates magic, version, ownership, forks
        return new InodeEdit(v, t, ino, off, b);
    }

    /** A free inode slot about to be initialised (its old content is replaced). */
    static InodeEdit fresh(Volume v, Txn t, long ino) {
        long off = offsetOf(v, ino);
        ByteBuffer b = t.create(off, v.sb.inodeSize(), crcOffset(v));
        return new InodeEdit(v, t, ino, off, b);
    }

    void dirty() {
        t.dirty(offset);
    }

    /** The parsed view of the current bytes (forks are views of the same buffer). */
    Inode parsed() {
        return Inode.parse(v, ino, offset, b, describe());
    }

    String describe() {
        return "inode " + ino;
    }

    boolean v3() {
        return Superblock.u8(b, OFF_VERSION) == 3;
    }

    int coreSize() {
        return v3() ? Inode.CORE_V3 : Inode.CORE_V2;
    }

    int literalSize() {
        return v.sb.inodeSize() - coreSize();
    }

    int mode() {
        return Superblock.u16(b, OFF_MODE);
    }

    FileKind kind() {
        return Inode.kindOf(mode());
    }

    int format() {
        return Superblock.u8(b, OFF_FORMAT);
    }

    void format(int f) {
        b.put(OFF_FORMAT, (byte) f);
    }

    long nlink() {
        return Superblock.u32(b, OFF_NLINK);
    }

    void nlink(long n) {
        b.putInt(OFF_NLINK, (int) n);
    }

    long size() {
        return b.getLong(OFF_SIZE);
    }

    void size(long s) {
        b.putLong(OFF_SIZE, s);
    }

    long nblocks() {
        return b.getLong(OFF_NBLOCKS);
    }

    void nblocks(long n) {
        b.putLong(OFF_NBLOCKS, n);
    }

    long flags2() {
        return v3() ? b.getLong(OFF_FLAGS2) : 0;
    }

    boolean nrext64() {
        return (flags2() & Inode.FLAG2_NREXT64) != 0;
    }

    long nextents() {
        return nrext64() ? b.getLong(OFF_BIG_NEXTENTS) : Superblock.u32(b, OFF_NEXTENTS);
    }

    void nextents(long n) {
        if (nrext64()) {
            b.putLong(OFF_BIG_NEXTENTS, n);
        } else {
            if (n > Integer.MAX_VALUE) {
                throw new IllegalStateException("too many extents " + n);
            }
            b.putInt(OFF_NEXTENTS, (int) n);
        }
    }

    long anextents() {
        return nrext64() ? Superblock.u32(b, OFF_NEXTENTS) : Superblock.u16(b, OFF_ANEXTENTS);
    }

    int forkOff() {
        return Superblock.u8(b, OFF_FORKOFF);
    }

    int aformat() {
        return Superblock.u8(b, OFF_AFORMAT);
    }

    boolean hasAttrFork() {
        return forkOff() != 0;
    }

    /** Offset of the data fork area in the inode, and its size. */
    int dataForkOffset() {
        return coreSize();
    }

    int dataForkSize() {
        return forkOff() != 0 ? forkOff() * 8 : literalSize();
    }

    int attrForkOffset() {
        return coreSize() + forkOff() * 8;
    }

    int attrForkSize() {
        return forkOff() != 0 ? literalSize() - forkOff() * 8 : 0;
    }

    /** Zeroes the data fork area. */
    void clearDataFork() {
        b.put(dataForkOffset(), new byte[dataForkSize()]);
    }

    boolean bigTime() {
        return (flags2() & Inode.FLAG2_BIGTIME) != 0;
    }

    void setTime(int off, Instant when) {
        if (bigTime()) {
            long secs = when.getEpochSecond() + (1L << 31);
            b.putLong(off, Math.max(0, secs) * 1_000_000_000L + when.getNano());
        } else {
            long secs = Math.clamp(when.getEpochSecond(), Integer.MIN_VALUE, Integer.MAX_VALUE);
            b.putInt(off, (int) secs);
            b.putInt(off + 4, when.getNano());
        }
    }

    /** The file's mtime and ctime become {@code now} (a directory that gained or lost a name). */
    void touchModified(Instant now) {
        setTime(OFF_MTIME, now);
        setTime(OFF_CTIME, now);
        if (v3()) {
            b.putLong(OFF_CHANGECOUNT, b.getLong(OFF_CHANGECOUNT) + 1);
        }
    }

    void touchChanged(Instant now) {
        setTime(OFF_CTIME, now);
        if (v3()) {
            b.putLong(OFF_CHANGECOUNT, b.getLong(OFF_CHANGECOUNT) + 1);
        }
    }
}
