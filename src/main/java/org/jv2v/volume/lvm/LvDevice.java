package org.jv2v.volume.lvm;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.volume.Placement;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A logical volume: segments laid end to end, each on one area (linear) or spread over several in
 * chunks of {@code stripeSize} bytes, round-robin (striped, as dm-stripe maps it).
 */
final class LvDevice implements BlockDevice {

    /** Where one stripe of a segment lives. */
    record Area(BlockDevice device, long offset) {}

    /**
     * @param start      first byte in the LV
     * @param length     bytes
     * @param stripeSize chunk size in bytes (ignored for a single area)
     */
    record Segment(long start, long length, long stripeSize, List<Area> areas) {
        long end() {
            return start + length;
        }
    }

    /** A piece of the LV that is contiguous on one device. */
    private record Piece(BlockDevice device, long deviceOffset, long length) {}

    private final String name;
    private final List<Segment> segments;
    private final long size;

    LvDevice(String name, List<Segment> segments) {
        this.name = name;
        this.segments = List.copyOf(segments);
        this.size = segments.isEmpty() ? 0 : segments.getLast().end();
    }

    @Override
    public long size() {
        return size;
    }

    private Piece locate(long offset) {
        int lo = 0;
        int hi = segments.size() - 1;
        while (lo < hi) { // the last segment starting at or before offset
            int mid = (lo + hi + 1) >>> 1;
            if (segments.get(mid).start <= offset) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Segment s = segments.get(lo);
        long r = offset - s.start;
        int n = s.areas.size();
        if (n == 1) {
            Area a = s.areas.getFirst();
            return new Piece(a.device, a.offset + r, s.length - r);
        }
        long chunk = r / s.stripeSize;
        long within = r % s.stripeSize;
        Area a = s.areas.get((int) (chunk % n));
        long row = chunk / n;
        return new Piece(a.device, a.offset + row * s.stripeSize + within,
                Math.min(s.stripeSize - within, s.end() - offset));
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        checkAccess(offset, dst.remaining());
        int limit = dst.limit();
        try {
            while (dst.hasRemaining()) {
                Piece p = locate(offset);
                int n = (int) Math.min(dst.remaining(), p.length);
                dst.limit(dst.position() + n);
                p.device.read(dst, p.deviceOffset);
                dst.limit(limit);
                offset += n;
            }
        } finally {
            dst.limit(limit);
        }
    }

    /** Writable when every physical volume under it is (the overlays of a conversion). */
    @Override
    public boolean isWritable() {
        for (Segment s : segments) {
            for (Area a : s.areas) {
                if (!a.device.isWritable()) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
        checkAccess(offset, src.remaining());
        if (!isWritable()) {
            throw new IOException(name + ": read-only");
        }
        int limit = src.limit();
        try {
            while (src.hasRemaining()) {
                Piece p = locate(offset);
                int n = (int) Math.min(src.remaining(), p.length);
                src.limit(src.position() + n);
                p.device.write(src, p.deviceOffset);
                src.limit(limit);
                offset += n;
            }
        } finally {
            src.limit(limit);
        }
    }

    @Override
    public void flush() throws IOException {
        for (Segment s : segments) {
            for (Area a : s.areas) {
                a.device.flush();
            }
        }
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) throws IOException {
        long end = Math.min(size, offset + length);
        checkAccess(offset, end - offset);
        Piece p = locate(offset);
        long n = Math.min(end - offset, p.length);
        List<Extent> out = new ArrayList<>();
        for (Extent e : p.device.blockStatus(p.deviceOffset, n)) {
            long s = Math.max(e.offset(), p.deviceOffset);
            long t = Math.min(e.end(), p.deviceOffset + n);
            if (t > s) {
                out.add(new Extent(offset + (s - p.deviceOffset), t - s, e.type()));
            }
        }
        return out;
    }

    /** The pieces of the physical volumes that hold {@code [offset, offset + length)}, in LV order. */
    List<Placement> place(long offset, long length) {
        checkAccess(offset, length);
        List<Placement> out = new ArrayList<>();
        for (long end = offset + length; offset < end; ) {
            Piece p = locate(offset);
            long n = Math.min(end - offset, p.length);
            out.add(new Placement(p.device, p.deviceOffset, n));
            offset += n;
        }
        return out;
    }

    @Override
    public String describe() {
        return name;
    }

    @Override
    public void close() {
        // the physical volumes belong to whoever opened them
    }
}
