package org.jv2v.volume;

import java.util.List;
import java.util.Optional;

/**
 * What {@link Volumes#scan} found.
 *
 * @param disks       every disk, with its partition table
 * @param volumes     every place a filesystem may be: unpartitioned disks, partitions that are not
 *                    containers or members of something else (extended partitions, LVM PVs, RAID
 *                    members, LUKS), and logical volumes
 * @param groups      the LVM volume groups
 * @param unsupported what could not be looked into, and why
 */
public record VolumeScan(List<Disk> disks, List<Volume> volumes, List<org.jv2v.volume.lvm.VolumeGroup> groups,
                         List<Unsupported> unsupported) {
    public VolumeScan {
        disks = List.copyOf(disks);
        volumes = List.copyOf(volumes);
        groups = List.copyOf(groups);
        unsupported = List.copyOf(unsupported);
    }

    public Optional<Volume> volume(String name) {
        return volumes.stream().filter(v -> v.name().equals(name)).findFirst();
    }
}
