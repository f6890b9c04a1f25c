package org.jv2v.volume.lvm;

import java.util.List;

/**
 * An LVM2 volume group as its newest metadata describes it.
 *
 * @param name               the VG name
 * @param uuid               the VG UUID, as lvm prints it (with dashes)
 * @param seqno              the metadata sequence number used
 * @param extentSize         bytes per physical extent
 * @param physicalVolumes    the device names (/dev/sda2) of its PVs that were found
 * @param missingPvs         UUIDs of PVs named in the metadata but on none of the disks
 * @param logicalVolumes     names of its visible LVs
 */
public record VolumeGroup(String name, String uuid, long seqno, long extentSize, List<String> physicalVolumes,
                          List<String> missingPvs, List<String> logicalVolumes) {
    public VolumeGroup {
        physicalVolumes = List.copyOf(physicalVolumes);
        missingPvs = List.copyOf(missingPvs);
        logicalVolumes = List.copyOf(logicalVolumes);
    }

    public boolean complete() {
        return missingPvs.isEmpty();
    }
}
