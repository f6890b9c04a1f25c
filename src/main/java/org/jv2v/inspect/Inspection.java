package org.jv2v.inspect;

import org.jv2v.fs.FileSystem;
import org.jv2v.volume.Volume;
import org.jv2v.volume.VolumeScan;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Everything inspection found on a guest's disks: the volumes, what is on each, and the operating
 * systems. The opened filesystems stay usable (read-only) as long as the disks are open.
 *
 * @param scan        the partitions, LVM groups and what could not be looked into
 * @param volumes     every volume with what is on it, in scan order
 * @param roots       the operating systems, in the order their root volumes were found
 * @param firmware    BIOS or UEFI, as the disks show it
 * @param notes       what was skipped or failed, one sentence each (never fatal)
 */
public record Inspection(VolumeScan scan, List<ProbedVolume> volumes, List<GuestInfo> roots, FirmwareInfo firmware,
                         List<String> notes) {
    public Inspection {
        volumes = List.copyOf(volumes);
        roots = List.copyOf(roots);
        notes = List.copyOf(notes);
    }

    /**
     * A volume and what is on it.
     *
     * @param volume      the partition or logical volume
     * @param info        type, label, UUID, space
     * @param fs          the opened filesystem, when jv2v could open it
     * @param usedMapTrust when the filesystem's map of used blocks may be trusted to skip its free
     *                    blocks: empty; otherwise why not (a journal waiting for replay ...)
     * @param swapHeaderBytes for Linux swap holding no hibernation image: the header page, the only
     *                    part whose content matters
     */
    public record ProbedVolume(Volume volume, FilesystemInfo info, Optional<FileSystem> fs,
                               Optional<String> usedMapTrust, OptionalInt swapHeaderBytes) {}

    public Optional<ProbedVolume> volume(String device) {
        return volumes.stream().filter(v -> v.volume().name().equals(device)).findFirst();
    }

    /**
     * A mount point's device as libguestfs names it ("/dev/sda2", or "btrfsvol:/dev/sda2/root" for
     * a btrfs subvolume), taken apart against the volumes found; empty when on none of them.
     */
    public Optional<Mountables.Parsed> mountable(String name) {
        return Mountables.parse(name, volumes.stream().map(v -> v.volume().name()).toList());
    }

    /** The one operating system, or the first when there are several (virt-v2v asks; jv2v takes the first). */
    public Optional<GuestInfo> firstRoot() {
        return roots.isEmpty() ? Optional.empty() : Optional.of(roots.getFirst());
    }
}
