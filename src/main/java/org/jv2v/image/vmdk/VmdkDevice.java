package org.jv2v.image.vmdk;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One VMDK layer (its extents, end to end) over its parent: the merged, read-only view of a disk
 * and its snapshot chain. Reads are positional, thread-safe, and leave {@code dst}'s position at
 * its limit. Block status is exact: DATA where a grain or flat extent holds bytes, ZERO for zeroed
 * grains and ZERO extents, UNALLOCATED where no layer of the chain holds the range.
 */
final class VmdkDevice implements BlockDevice {
    /** Runs one blockStatus call returns at most; callers loop for more. */
    static final int MAX_RUNS = 4096;

    private final String name;
    private final VmdkExtent[] extents;
    private final long[] starts;
    private final long size;
    private final BlockDevice parent;
    private final AtomicBoolean closed = new AtomicBoolean();

    VmdkDevice(String name, List<VmdkExtent> extents, BlockDevice parent) {
        this.name = name;
        this.extents = extents.toArray(VmdkExtent[]::new);
        this.starts = new long[this.extents.length];
        long at = 0;
        for (int i = 0; i < this.extents.length; i++) {
            starts[i] = at;
            at += this.extents[i].size();
        }
        this.size = at;
        this.parent = parent;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public String describe() {
        return name;
    }

    private int extentAt(long offset) {
        int i = Arrays.binarySearch(starts, offset);
        return i >= 0 ? i : -i - 2;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        checkAccess(offset, dst.remaining());
        long pos = offset;
        int i = extentAt(pos);
        while (dst.hasRemaining()) {
            while (extents[i].size() == 0 || pos >= starts[i] + extents[i].size()) {
                i++;
            }
            VmdkExtent e = extents[i];
            long in = pos - starts[i];
            int n = (int) Math.min(dst.remaining(), e.size() - in);
            long start = starts[i];
            e.read(dst.slice(dst.position(), n), in, (b, o) -> readParent(b, start + o));
            dst.position(dst.position() + n);
            pos += n;
        }
    }

    /** What this layer does not hold: the parent's bytes, zeros past the parent's end or without one. */
    private void readParent(ByteBuffer b, long offset) throws IOException {
        if (parent == null) {
            Io.zero(b);
            return;
        }
        long avail = Math.max(0, parent.size() - offset);
        if (avail >= b.remaining()) {
            parent.read(b, offset);
            b.position(b.limit());
            return;
        }
        if (avail > 0) {
            ByteBuffer head = b.slice(b.position(), (int) avail);
            parent.read(head, offset);
            b.position(b.position() + (int) avail);
        }
        Io.zero(b);
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) throws IOException {
        long end = Math.min(size, offset + Math.max(0, length));
        checkAccess(offset, end - offset);
        List<Extent> own = new ArrayList<>();
        if (end == offset) {
            return own;
        }
        long pos = offset;
        for (int i = extentAt(pos); pos < end && own.size() < MAX_RUNS; i++) {
            VmdkExtent e = extents[i];
            if (e.size() == 0 || pos >= starts[i] + e.size()) {
                continue;
            }
            long in = pos - starts[i];
            long n = Math.min(end - pos, e.size() - in);
            e.status(in, n, starts[i], own, MAX_RUNS);
            pos = own.getLast().end();
        }
        if (parent == null) {
            return own;
        }
        List<Extent> out = new ArrayList<>();
        for (Extent r : own) {
            if (r.type() != ExtentType.UNALLOCATED) {
                Extent.append(out, r.offset(), r.length(), r.type());
                continue;
            }
            Extent.appendStatusOf(out, parent, r.offset(), r.end());
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        IOException first = null;
        for (VmdkExtent e : extents) {
            try {
                e.close();
            } catch (IOException ex) {
                first = first == null ? ex : first;
            }
        }
        if (parent != null) {
            try {
                parent.close();
            } catch (IOException ex) {
                first = first == null ? ex : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
