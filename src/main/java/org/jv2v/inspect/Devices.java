package org.jv2v.inspect;

import org.jv2v.volume.Disk;
import org.jv2v.volume.Partition;
import org.jv2v.volume.PartitionTable;
import org.jv2v.volume.Volume;
import org.jv2v.volume.VolumeScan;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the device names a guest's configuration uses (fstab's UUID=, LABEL=, /dev/vda1,
 * /dev/mapper/VG-LV ...) into the names jv2v gives the volumes it found, with libguestfs's rules:
 * disks are assumed to be in the guest's order, and a name that matches nothing is kept as written.
 */
final class Devices {
    private static final Pattern XDEV = Pattern.compile("^/dev/(h|s|v|xv)d([a-z]+)(\\d*)$");
    private static final Pattern BY_ID_PART = Pattern.compile("^/dev/disk/by-id/.*-part(\\d+)$");

    private final VolumeScan scan;
    private final Map<String, FilesystemInfo> filesystems;

    Devices(VolumeScan scan, Map<String, FilesystemInfo> filesystems) {
        this.scan = scan;
        this.filesystems = filesystems;
    }

    /**
     * The device an fstab spec names, or empty when the entry is to be ignored (a UUID or label
     * that no filesystem has, a pseudo filesystem such as tmpfs, a network share).
     */
    Optional<String> resolve(String spec, String rootDevice) {
        if (spec.startsWith("UUID=")) {
            return byUuid(LinuxRelease.shellUnquote(spec.substring(5)));
        }
        if (spec.startsWith("LABEL=")) {
            return byLabel(LinuxRelease.shellUnquote(spec.substring(6)));
        }
        // PARTUUID= and PARTLABEL= : libguestfs 1.48 ignores these lines; jv2v resolves them
        if (spec.startsWith("PARTUUID=")) {
            return byPartUuid(LinuxRelease.shellUnquote(spec.substring(9)));
        }
        if (spec.startsWith("PARTLABEL=")) {
            return byPartLabel(LinuxRelease.shellUnquote(spec.substring(10)));
        }
        if (spec.equals("/dev/root")) {
            return Optional.of(rootDevice);
        }
        if (spec.startsWith("/dev/")) {
            return Optional.of(devicePath(spec));
        }
        return Optional.empty();
    }

    Optional<String> byUuid(String uuid) {
        return filesystems.values().stream().filter(f -> f.uuid().map(u -> u.equalsIgnoreCase(uuid)).orElse(false))
                .map(FilesystemInfo::device).findFirst();
    }

    Optional<String> byLabel(String label) {
        return filesystems.values().stream().filter(f -> f.label().map(label::equals).orElse(false))
                .map(FilesystemInfo::device).findFirst();
    }

    /** GPT: the partition's unique GUID; MBR: "DISKID-NN" (the disk signature and the partition number in hex). */
    Optional<String> byPartUuid(String id) {
        for (Disk d : scan.disks()) {
            if (d.table().isEmpty()) {
                continue;
            }
            PartitionTable t = d.table().get();
            for (Partition p : t.partitions()) {
                boolean match = t.scheme().equals("gpt")
                        ? p.uniqueGuid().map(g -> g.equalsIgnoreCase(id)).orElse(false)
                        : id.equalsIgnoreCase(t.diskId() + "-" + String.format("%02x", p.number()));
                if (match) {
                    return Optional.of(d.name() + p.number());
                }
            }
        }
        return Optional.empty();
    }

    Optional<String> byPartLabel(String label) {
        for (Disk d : scan.disks()) {
            for (Partition p : d.table().map(PartitionTable::partitions).orElse(List.of())) {
                if (!p.name().isEmpty() && p.name().equals(label)) {
                    return Optional.of(d.name() + p.number());
                }
            }
        }
        return Optional.empty();
    }

    /** A /dev path: mapped to a found device when libguestfs would, else kept (canonically named). */
    String devicePath(String spec) {
        if (spec.startsWith("/dev/mapper/")) {
            return mapperName(spec.substring("/dev/mapper/".length()))
                    .filter(lv -> scan.volume(lv).isPresent()).orElse(spec);
        }
        Matcher x = XDEV.matcher(spec);
        if (x.matches()) {
            int index = driveIndex(x.group(2));
            if (index >= 0 && index < scan.disks().size() && !x.group(3).isEmpty()) {
                Disk d = scan.disks().get(index);
                String dev = d.name() + x.group(3);
                if (isPartition(d, x.group(3))) {
                    return dev;
                }
            }
            return canonical(spec);
        }
        Matcher id = BY_ID_PART.matcher(spec);
        if (id.matches()) {
            if (scan.disks().size() == 1 && isPartition(scan.disks().getFirst(), id.group(1))) {
                return scan.disks().getFirst().name() + id.group(1);
            }
            return spec;
        }
        // the udev links of /dev/disk/by-*: libguestfs 1.48 keeps them as written; jv2v resolves them
        Optional<String> byLink = Optional.empty();
        if (spec.startsWith("/dev/disk/by-uuid/")) {
            byLink = byUuid(spec.substring("/dev/disk/by-uuid/".length()));
        } else if (spec.startsWith("/dev/disk/by-label/")) {
            byLink = byLabel(Fstab.unescapeUdev(spec.substring("/dev/disk/by-label/".length())));
        } else if (spec.startsWith("/dev/disk/by-partuuid/")) {
            byLink = byPartUuid(spec.substring("/dev/disk/by-partuuid/".length()));
        } else if (spec.startsWith("/dev/disk/by-partlabel/")) {
            byLink = byPartLabel(Fstab.unescapeUdev(spec.substring("/dev/disk/by-partlabel/".length())));
        }
        return byLink.orElse(canonical(spec));
    }

    private static boolean isPartition(Disk d, String number) {
        int n;
        try {
            n = Integer.parseInt(number);
        } catch (NumberFormatException e) {
            return false;
        }
        return d.table().map(t -> t.partitions().stream().anyMatch(p -> p.number() == n && !p.isExtended()))
                .orElse(false);
    }

    /** "vg-lv" to "/dev/vg/lv"; device-mapper doubles a '-' that is part of a name. */
    static Optional<String> mapperName(String dm) {
        for (int i = 0; i < dm.length(); i++) {
            if (dm.charAt(i) == '-') {
                if (i + 1 < dm.length() && dm.charAt(i + 1) == '-') {
                    i++;
                    continue;
                }
                String vg = dm.substring(0, i).replace("--", "-");
                String lv = dm.substring(i + 1).replace("--", "-");
                if (vg.isEmpty() || lv.isEmpty()) {
                    return Optional.empty();
                }
                return Optional.of("/dev/" + vg + "/" + lv);
            }
        }
        return Optional.empty();
    }

    /** a -> 0, z -> 25, aa -> 26: the disk's position from its letters. */
    static int driveIndex(String letters) {
        int index = 0;
        for (int i = 0; i < letters.length(); i++) {
            index = index * 26 + (letters.charAt(i) - 'a' + 1);
            if (index > 1 << 20) {
                return -1;
            }
        }
        return index - 1;
    }

    /**
     * libguestfs's canonical_device_name for names that are not volumes: /dev/vda1, /dev/hda1,
     * /dev/xvda1 are all /dev/sda1.
     */
    static String canonical(String device) {
        if (device.startsWith("/dev/") && device.indexOf('/', 5) < 0 && device.length() > 5
                && device.charAt(5) != 'm') {
            int len = device.indexOf('d', 5) - 5;
            if (len > 0 && len <= 2) {
                return "/dev/sd" + device.substring(5 + len + 1);
            }
        }
        return device;
    }

    List<Volume> volumes() {
        return scan.volumes();
    }
}
