package org.jv2v.fs.xfs;

import org.jv2v.Jv2vException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The metadata of one edit: every sector or block the edit reads or changes, held in memory and
 * written together at {@link #commit}, each with its v5 CRC recomputed. An edit that fails before
 * the commit leaves the device's metadata as it was. File data does not pass through here (it goes
 * straight to newly allocated blocks), but blocks freed during the edit are forgotten so that a
 * stale copy can never be written over data that reused them.
 */
final class Txn {
    /** Buffers one edit may touch: a rewrite touches a few dozen, a new inode chunk 64 more. */
    static final int MAX_BUFFERS = 65_536;

    private final Volume v;
    private final Map<Long, Buf> bufs = new HashMap<>();
    private final Set<Long> dirty = new LinkedHashSet<>();

    private static final class Buf {
        final ByteBuffer b;
        final int crcOffset;

        Buf(ByteBuffer b, int crcOffset) {
            this.b = b;
            this.crcOffset = crcOffset;
        }
    }

    Txn(Volume v) {
        this.v = v;
    }

    /**
     * The {@code length} bytes at {@code offset}, read once and then shared by every caller of this
     * edit. On v5 filesystems a structure with a CRC ({@code crcOffset >= 0}) is checked on its first
     * read.
     */
    ByteBuffer get(long offset, int length, int crcOffset, String field) throws IOException {
        Buf buf = bufs.get(offset);
        if (buf != null) {
            if (buf.b.capacity() != length) {
                throw new IllegalStateException(field + " at 0x" + Long.toHexString(offset) + " read as " + length
                        + " bytes, held as " + buf.b.capacity());
            }
            return buf.b.clear();
        }
        checkSize();
        ByteBuffer b = v.read(offset, length, field);
        if (v.sb.isV5() && crcOffset >= 0) {
            v.checkCrc(b, length, crcOffset, field, offset);
        }
        bufs.put(offset, new Buf(b, crcOffset));
        return b.clear();
    }

    /** A new zeroed structure at {@code offset} (a block just allocated), already marked dirty. */
    ByteBuffer create(long offset, int length, int crcOffset) {
        checkSize();
        v.checkRange(offset, length, "new metadata", offset);
        ByteBuffer b = ByteBuffer.allocate(length);
        bufs.put(offset, new Buf(b, crcOffset));
        dirty.add(offset);
        return b;
    }

    void dirty(long offset) {
        if (!bufs.containsKey(offset)) {
            throw new IllegalStateException("no buffer at 0x" + Long.toHexString(offset));
        }
        dirty.add(offset);
    }

    /** Drops every buffer that starts inside {@code [offset, offset + length)}: those blocks were freed. */
    void forget(long offset, long length) {
        if (bufs.isEmpty()) {
            return;
        }
        List<Long> gone = new ArrayList<>();
        for (Long o : bufs.keySet()) {
            if (o >= offset && o < offset + length) {
                gone.add(o);
            }
        }
        for (Long o : gone) {
            bufs.remove(o);
            dirty.remove(o);
        }
    }

    private void checkSize() {
        if (bufs.size() >= MAX_BUFFERS) {
            throw new Jv2vException(v.device.describe() + ": XFS edit touches more than " + MAX_BUFFERS
                    + " metadata blocks");
        }
    }

    /** Writes every changed buffer, with its CRC, and forgets them all. */
    void commit() throws IOException {
        for (Long off : dirty) {
            Buf buf = bufs.get(off);
            ByteBuffer b = buf.b.clear();
            if (v.sb.isV5() && buf.crcOffset >= 0) {
                b.order(ByteOrder.LITTLE_ENDIAN).putInt(buf.crcOffset, Volume.computeCrc(b, b.capacity(), buf.crcOffset));
                b.order(ByteOrder.BIG_ENDIAN);
            }
            v.device.write(b.duplicate().clear(), off);
        }
        bufs.clear();
        dirty.clear();
    }

    void abort() {
        bufs.clear();
        dirty.clear();
    }
}
