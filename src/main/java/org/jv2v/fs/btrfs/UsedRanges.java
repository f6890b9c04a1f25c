package org.jv2v.fs.btrfs;

import org.jv2v.BadInputException;
import org.jv2v.fs.ByteRange;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The map of bytes in use on one device, from the extent tree mapped through the chunks. */
final class UsedRanges {
    /** btrfs never allocates chunks in the first MiB of a device: boot loaders may live there. */
    static final long RESERVED = 1 << 20;

    private UsedRanges() {}

    static List<ByteRange> of(Volume v, BlockDevice device) throws IOException {
        long devId = -1;
        for (Map.Entry<Long, BlockDevice> e : v.devices.entrySet()) {
            if (e.getValue() == device) {
                devId = e.getKey();
            }
        }
        if (devId < 0) {
            throw new IllegalArgumentException(device.describe() + " is not a device of " + v.name);
        }
        long size = device.size();
        List<long[]> r = new ArrayList<>();
        r.add(new long[] {0, Math.min(RESERVED, size)});
        r.add(new long[] {Superblock.OFFSET, Superblock.OFFSET + Superblock.SIZE});
        for (long m : Superblock.MIRRORS) {
            if (m + Superblock.SIZE <= size) {
                r.add(new long[] {m, m + Superblock.SIZE});
            }
        }
        boolean log = v.sb.logRoot() != 0;
        for (ChunkMap.Chunk c : v.chunks.all()) {
            if (log || (c.type() & ChunkMap.TYPE_SYSTEM) != 0 || parity(c)) {
                for (ChunkMap.Stripe s : c.stripes()) {
                    if (s.devId() == devId) {
                        r.add(new long[] {s.offset(), s.offset() + c.stripeLength()});
                    }
                }
            }
        }
        if (!log) {
            Volume.Root extents = v.treeRoot(Volume.EXTENT_TREE);
            if (extents == null) {
                throw BadInputException.of(v.name + ": root tree has no extent tree root item");
            }
            long node = v.sb.nodeSize();
            long id = devId;
            v.walk(extents, Key.MIN, Key.MAX, it -> {
                Key k = it.key();
                long len = k.type() == Key.EXTENT_ITEM ? k.offset() : k.type() == Key.METADATA_ITEM ? node : -1;
                if (len > 0) {
                    addLogical(v, id, k.objectId(), len, r);
                }
                return true;
            });
        }
        r.sort((a, b) -> Long.compare(a[0], b[0]));
        List<ByteRange> out = new ArrayList<>();
        long s = -1;
        long t = -1;
        for (long[] x : r) {
            long a = Math.min(x[0], size);
            long b = Math.min(x[1], size);
            if (b <= a) {
                continue;
            }
            if (s >= 0 && a <= t) {
                t = Math.max(t, b);
            } else {
                if (s >= 0) {
                    out.add(new ByteRange(s, t - s));
                }
                s = a;
                t = b;
            }
        }
        if (s >= 0) {
            out.add(new ByteRange(s, t - s));
        }
        return out;
    }

    /** RAID5/6 chunks (parity rotates through the stripes) count as used whole: jv2v does not map them. */
    private static boolean parity(ChunkMap.Chunk c) {
        return (c.type() & (ChunkMap.RAID5 | ChunkMap.RAID6)) != 0;
    }

    private static void addLogical(Volume v, long devId, long logical, long len, List<long[]> out) {
        long pos = logical;
        long end = logical + len;
        ChunkMap.Chunk chunk = v.chunks.find(logical);
        if (chunk != null && parity(chunk)) {
            return; // the whole chunk is in the map already
        }
        while (pos < end) {
            List<ChunkMap.Copy> copies = v.chunks.copies(pos, end - pos);
            for (ChunkMap.Copy c : copies) {
                if (c.devId() == devId) {
                    out.add(new long[] {c.offset(), c.offset() + c.length()});
                }
            }
            pos += copies.getFirst().length();
        }
    }
}
