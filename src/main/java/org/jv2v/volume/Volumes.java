package org.jv2v.volume;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.SliceDevice;
import org.jv2v.volume.gpt.Gpt;
import org.jv2v.volume.lvm.Lvm;
import org.jv2v.volume.mbr.Mbr;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds every volume on a guest's disks: partitions (MBR, GPT), LVM2 logical volumes over any of
 * them, and unpartitioned disks, named as Linux would name them (the first disk is /dev/sda).
 */
public final class Volumes {
    private Volumes() {}

    /** Scans {@code disks} in order (/dev/sda, /dev/sdb ...). Read-only; the devices stay the caller's. */
    public static VolumeScan scan(List<BlockDevice> disks) throws IOException {
        List<Disk> scanned = new ArrayList<>();
        List<Volume> volumes = new ArrayList<>();
        List<Unsupported> unsupported = new ArrayList<>();
        List<Lvm.Candidate> pvs = new ArrayList<>();
        for (int i = 0; i < disks.size(); i++) {
            BlockDevice disk = disks.get(i);
            String name = diskName(i);
            Optional<Unsupported> whole = Signatures.luks(name, disk);
            Optional<PartitionTable> table = whole.isPresent() ? Optional.empty() : table(disk);
            if (whole.isEmpty() && table.isEmpty()) {
                // only without a table: a RAID1 member with the superblock at its end (0.90, 1.0) also
                // shows the array's own partition table at its start, and that is readable as it is
                whole = Signatures.md(name, disk);
            }
            if (whole.isPresent()) {
                unsupported.add(whole.get());
                scanned.add(new Disk(name, disk, Optional.empty()));
                continue;
            }
            scanned.add(new Disk(name, disk, table));
            if (table.isEmpty()) {
                classify(name, disk, Optional.empty(), volumes, unsupported, pvs);
                continue;
            }
            for (Partition p : table.get().partitions()) {
                String pname = name + p.number();
                if (p.isExtended()) {
                    continue;
                }
                if (Signatures.isLdm(p)) {
                    unsupported.add(new Unsupported(pname, "Windows dynamic disk (LDM)",
                            "dynamic disk volumes are not supported"));
                    continue;
                }
                classify(pname, new SliceDevice(disk, p.start(), p.size(), pname), Optional.of(p), volumes,
                        unsupported, pvs);
            }
        }
        Lvm.Result lvm = Lvm.assemble(pvs);
        volumes.addAll(lvm.volumes());
        unsupported.addAll(lvm.unsupported());
        return new VolumeScan(scanned, volumes, lvm.groups(), unsupported);
    }

    /**
     * Where {@code [offset, offset + length)} of a volume (a partition, a logical volume, or a
     * slice of one) lies on the disks it was scanned from, piece by piece in volume order: what the
     * copier needs to turn a filesystem's used ranges into ranges of the disks.
     */
    public static List<Placement> place(BlockDevice device, long offset, long length) {
        List<Placement> out = new ArrayList<>();
        placeInto(device, offset, length, out, 0);
        return out;
    }

    /** Partitions in LVs in partitions...: a handful of levels at most; more means a cycle. */
    private static final int MAX_NESTING = 16;

    private static void placeInto(BlockDevice device, long offset, long length, List<Placement> out, int depth) {
        if (depth > MAX_NESTING) {
            throw new IllegalStateException(device.describe() + ": volumes nested more than " + MAX_NESTING + " deep");
        }
        if (length <= 0) {
            return;
        }
        if (device instanceof SliceDevice s) {
            if (offset < 0 || offset > s.size() || length > s.size() - offset) {
                throw new IllegalArgumentException(s.describe() + ": [" + offset + ", +" + length + ") outside size "
                        + s.size());
            }
            placeInto(s.base(), s.start() + offset, length, out, depth + 1);
            return;
        }
        Optional<List<Placement>> lv = Lvm.place(device, offset, length);
        if (lv.isPresent()) {
            for (Placement piece : lv.get()) {
                placeInto(piece.disk(), piece.offset(), piece.length(), out, depth + 1);
            }
            return;
        }
        out.add(new Placement(device, offset, length));
    }

    /** The disk's partition table: GPT when there is a GPT header or a protective MBR, else MBR. */
    public static Optional<PartitionTable> table(BlockDevice disk) throws IOException {
        if (disk.size() < Mbr.SECTOR) {
            return Optional.empty();
        }
        ByteBuffer s0 = DeviceReads.read(disk, 0, Mbr.SECTOR, "MBR");
        if (Mbr.isProtective(s0) || Gpt.present(disk)) {
            return Optional.of(Gpt.read(disk));
        }
        return Mbr.read(disk);
    }

    private static void classify(String name, BlockDevice dev, Optional<Partition> p, List<Volume> volumes,
                                 List<Unsupported> unsupported, List<Lvm.Candidate> pvs) throws IOException {
        Optional<Unsupported> u = p.isPresent() ? Signatures.check(name, dev) : Optional.empty();
        if (u.isPresent()) {
            unsupported.add(u.get());
        } else if (Lvm.isPhysicalVolume(dev)) {
            pvs.add(new Lvm.Candidate(name, dev));
        } else {
            volumes.add(new Volume(name, dev, p.isPresent() ? Volume.Kind.PARTITION : Volume.Kind.WHOLE_DISK, p));
        }
    }

    /** sda, sdb ... sdz, sdaa ... as Linux names SCSI disks. */
    static String diskName(int index) {
        StringBuilder s = new StringBuilder();
        int i = index;
        do {
            s.insert(0, (char) ('a' + i % 26));
            i = i / 26 - 1;
        } while (i >= 0);
        return "/dev/sd" + s;
    }
}
