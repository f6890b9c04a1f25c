package org.jv2v.inspect;

import org.jv2v.fs.ByteRange;
import org.jv2v.image.BlockDevice;
import org.jv2v.volume.Disk;
import org.jv2v.volume.Partition;
import org.jv2v.volume.Placement;
import org.jv2v.volume.Volume;
import org.jv2v.volume.Volumes;
import org.jv2v.volume.lvm.VolumeGroup;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The bytes of each disk that no filesystem uses, so the copier need not read them (virt-v2v gets
 * the same effect by running fstrim in its appliance): every opened filesystem's free blocks,
 * mapped through partitions and logical volumes to the disks, and the content of swap areas
 * (their header page is kept).
 *
 * <p>Never wrong in the unsafe direction. A byte is skippable only when some filesystem calls it
 * free and nothing else claims it: no other volume's used blocks, no volume jv2v cannot read
 * (kept whole: unknown, encrypted, RAID members, filesystems without a reader, filesystems whose
 * journal waits for replay or that are marked unclean, hibernation images), no partition table
 * (the first and last MiB of every disk), no extended-partition boot record (the MiB before each
 * logical partition), no LVM metadata (all of a PV outside its logical volumes). The gaps between
 * partitions (boot loader code) lie in no volume and are never skipped.
 *
 * <p>Compute it on the device the copier reads (the overlay, after the last change to the guest).
 */
public final class UnusedAreas {
    /** Kept at the start and end of every disk: MBR, GPT headers and entries, boot loader code. */
    static final long DISK_EDGE = 1 << 20;
    /** Kept before each logical partition: its extended boot record. */
    static final long EBR_ROOM = 1 << 20;

    /**
     * One disk's map.
     *
     * @param disk      /dev/sda ...
     * @param size      the disk's size
     * @param unused    byte ranges that need not be copied (they may be written as zeros), sorted and disjoint
     */
    public record DiskMap(String disk, long size, List<ByteRange> unused) {
        public DiskMap {
            unused = List.copyOf(unused);
        }

        public long unusedBytes() {
            return unused.stream().mapToLong(ByteRange::length).sum();
        }

        /** True when all of {@code [offset, offset + length)} need not be copied. */
        public boolean isUnused(long offset, long length) {
            int lo = 0;
            int hi = unused.size();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (unused.get(mid).end() <= offset) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo < unused.size() && unused.get(lo).offset() <= offset && unused.get(lo).end() >= offset + length;
        }
    }

    private UnusedAreas() {}

    /** The map of every disk of the inspection, in disk order. */
    public static List<DiskMap> compute(Inspection in) throws IOException {
        List<Disk> disks = in.scan().disks();
        List<List<ByteRange>> candidates = new ArrayList<>();
        List<List<ByteRange>> kept = new ArrayList<>();
        for (Disk d : disks) {
            candidates.add(new ArrayList<>());
            List<ByteRange> k = new ArrayList<>();
            long size = d.device().size();
            k.add(new ByteRange(0, Math.min(DISK_EDGE, size)));
            k.add(new ByteRange(Math.max(0, size - DISK_EDGE), Math.min(DISK_EDGE, size)));
            kept.add(k);
        }
        for (Inspection.ProbedVolume p : in.volumes()) {
            BlockDevice dev = p.volume().device();
            long size = dev.size();
            if (p.fs().isPresent() && p.usedMapTrust().isEmpty()) {
                List<ByteRange> used;
                try {
                    used = clamp(p.fs().get().usedRanges(), size);
                } catch (IOException | RuntimeException e) {
                    used = List.of(new ByteRange(0, size));
                }
                for (ByteRange r : used) {
                    place(disks, dev, r, kept);
                }
                for (ByteRange r : complement(used, size)) {
                    place(disks, dev, r, candidates);
                }
            } else if (p.swapHeaderBytes().isPresent()) {
                long header = Math.min(size, p.swapHeaderBytes().getAsInt());
                place(disks, dev, new ByteRange(0, header), kept);
                place(disks, dev, new ByteRange(header, size - header), candidates);
            } else {
                place(disks, dev, new ByteRange(0, size), kept);
            }
        }
        keepContainers(in, disks, kept);
        List<DiskMap> out = new ArrayList<>();
        for (int i = 0; i < disks.size(); i++) {
            long size = disks.get(i).device().size();
            out.add(new DiskMap(disks.get(i).name(), size,
                    subtract(merge(clamp(candidates.get(i), size)), merge(clamp(kept.get(i), size)))));
        }
        return out;
    }

    /**
     * Partitions that hold no volume of their own: extended partitions (kept but for their logical
     * partitions), LVM physical volumes (kept but for their logical volumes' extents), and anything
     * else (RAID members, encrypted, dynamic disks: kept whole).
     */
    private static void keepContainers(Inspection in, List<Disk> disks, List<List<ByteRange>> kept) {
        Set<String> volumeNames = new HashSet<>();
        for (Volume v : in.scan().volumes()) {
            volumeNames.add(v.name());
        }
        Set<String> pvs = new HashSet<>();
        for (VolumeGroup vg : in.scan().groups()) {
            pvs.addAll(vg.physicalVolumes());
        }
        for (int i = 0; i < disks.size(); i++) {
            Disk d = disks.get(i);
            long size = d.device().size();
            if (d.table().isEmpty()) {
                if (!volumeNames.contains(d.name())) {
                    kept.get(i).addAll(pvs.contains(d.name())
                            ? subtract(List.of(new ByteRange(0, size)), lvExtents(in, disks, i))
                            : List.of(new ByteRange(0, size)));
                }
                continue;
            }
            for (Partition p : d.table().get().partitions()) {
                String name = d.name() + p.number();
                ByteRange whole = new ByteRange(p.start(), p.size());
                if (p.logical()) {
                    long from = Math.max(0, p.start() - EBR_ROOM);
                    kept.get(i).add(new ByteRange(from, p.start() - from));
                }
                if (volumeNames.contains(name)) {
                    continue;
                }
                if (p.isExtended()) {
                    List<ByteRange> logicals = new ArrayList<>();
                    for (Partition l : d.table().get().partitions()) {
                        if (l.logical()) {
                            logicals.add(new ByteRange(l.start(), l.size()));
                        }
                    }
                    kept.get(i).addAll(subtract(List.of(whole), merge(logicals)));
                } else if (pvs.contains(name)) {
                    kept.get(i).addAll(subtract(List.of(whole), lvExtents(in, disks, i)));
                } else {
                    kept.get(i).add(whole);
                }
            }
        }
    }

    /** Where the logical volumes' extents lie on disk {@code index}. */
    private static List<ByteRange> lvExtents(Inspection in, List<Disk> disks, int index) {
        List<List<ByteRange>> per = new ArrayList<>();
        for (int i = 0; i < disks.size(); i++) {
            per.add(new ArrayList<>());
        }
        for (Volume v : in.scan().volumes()) {
            if (v.kind() == Volume.Kind.LOGICAL_VOLUME) {
                place(disks, v.device(), new ByteRange(0, v.device().size()), per);
            }
        }
        return merge(per.get(index));
    }

    private static void place(List<Disk> disks, BlockDevice dev, ByteRange r, List<List<ByteRange>> into) {
        if (r.length() <= 0) {
            return;
        }
        for (Placement pl : Volumes.place(dev, r.offset(), r.length())) {
            for (int i = 0; i < disks.size(); i++) {
                if (disks.get(i).device() == pl.disk()) {
                    into.get(i).add(new ByteRange(pl.offset(), pl.length()));
                }
            }
        }
    }

    private static List<ByteRange> clamp(List<ByteRange> in, long size) {
        List<ByteRange> out = new ArrayList<>();
        for (ByteRange r : in) {
            long s = Math.max(0, r.offset());
            long e = Math.min(size, r.end());
            if (e > s) {
                out.add(new ByteRange(s, e - s));
            }
        }
        return out;
    }

    static List<ByteRange> merge(List<ByteRange> in) {
        List<ByteRange> sorted = new ArrayList<>(in);
        sorted.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        List<ByteRange> out = new ArrayList<>();
        for (ByteRange r : sorted) {
            if (r.length() <= 0) {
                continue;
            }
            if (!out.isEmpty() && r.offset() <= out.getLast().end()) {
                ByteRange last = out.removeLast();
                out.add(new ByteRange(last.offset(), Math.max(last.end(), r.end()) - last.offset()));
            } else {
                out.add(r);
            }
        }
        return out;
    }

    /** [0, size) minus the sorted, merged {@code used}. */
    static List<ByteRange> complement(List<ByteRange> used, long size) {
        return subtract(List.of(new ByteRange(0, size)), merge(used));
    }

    /** {@code a} minus {@code b}; both sorted and merged. */
    static List<ByteRange> subtract(List<ByteRange> a, List<ByteRange> b) {
        List<ByteRange> out = new ArrayList<>();
        int j = 0;
        for (ByteRange r : a) {
            long pos = r.offset();
            while (j < b.size() && b.get(j).end() <= pos) {
                j++;
            }
            int k = j;
            while (k < b.size() && b.get(k).offset() < r.end()) {
                if (b.get(k).offset() > pos) {
                    out.add(new ByteRange(pos, b.get(k).offset() - pos));
                }
                pos = Math.max(pos, b.get(k).end());
                k++;
            }
            if (pos < r.end()) {
                out.add(new ByteRange(pos, r.end() - pos));
            }
        }
        return out;
    }
}
