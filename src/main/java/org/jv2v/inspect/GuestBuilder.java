package org.jv2v.inspect;

import org.jv2v.fs.FileSystem;
import org.jv2v.fs.btrfs.BtrfsFileSystem;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Turns what was learnt about a root filesystem into its {@link GuestInfo}: mounts the guest's
 * other filesystems as its fstab says (read-only, in a {@link GuestFiles} view) and reads what needs
 * the whole tree (packages, kernels, boot loader, init, network).
 */
final class GuestBuilder {
    private GuestBuilder() {}

    static GuestInfo build(String rootDevice, OsData d, Map<String, FileSystem> opened,
                           Map<String, FilesystemInfo> infos, FirmwareInfo firmware, InspectOptions options) {
        List<String> notes = new ArrayList<>(d.notes);
        GuestFiles tree = mount(rootDevice, d, opened, notes);
        boolean linux = "linux".equals(d.osType);
        boolean windows = "windows".equals(d.osType);

        List<MountPoint> mountpoints = new ArrayList<>();
        List<FilesystemInfo> filesystems = new ArrayList<>();
        if (d.fstab == null || d.fstab.isEmpty()) {
            mountpoints.add(new MountPoint("/", rootDevice));
            filesystems.add(info(rootDevice, infos));
        } else {
            for (Fstab.Entry e : d.fstab) {
                if (e.mountPoint().startsWith("/")) {
                    mountpoints.add(new MountPoint(e.mountPoint(), e.mountable()));
                }
                filesystems.add(info(e.mountable(), infos));
            }
        }
        mountpoints.sort(Inspector.MOUNT_ORDER);
        filesystems.sort(Comparator.comparing(FilesystemInfo::device));

        Optional<String> packageFormat = linux ? LinuxRoot.packageFormat(d.distro) : Optional.empty();
        Optional<String> packageManagement = Optional.empty();
        List<Application> apps = List.of();
        List<Kernel> kernels = List.of();
        Optional<Bootloader> bootloader = Optional.empty();
        String init = windows ? "windows" : "unknown";
        List<NetworkConfig> network = windows ? List.of(new NetworkConfig("windows", "HKLM\\SYSTEM")) : List.of();
        if (linux) {
            packageManagement = guard(notes, "package manager", Optional.empty(),
                    () -> LinuxRoot.packageManagement(d.distro, d.major(), tree));
            if (options.applications()) {
                apps = guard(notes, "applications", List.of(), () -> Packages.list(tree, packageFormat.orElse(null), notes));
            }
            kernels = guard(notes, "kernels", List.of(), () -> LinuxSystem.kernels(tree, notes));
            bootloader = guard(notes, "boot loader", Optional.empty(), () -> LinuxSystem.bootloader(tree, firmware.kind()));
            init = guard(notes, "init system", "unknown", () -> LinuxSystem.initSystem(tree));
            network = guard(notes, "network configuration", List.of(), () -> LinuxSystem.network(tree));
        }
        Optional<WindowsInfo> win = Optional.empty();
        if (windows) {
            if (options.applications()) {
                apps = guard(notes, "applications", List.of(), () -> WindowsRoot.applications(tree, d, notes));
            }
            win = guard(notes, "services", Optional.empty(), () -> WindowsRoot.info(tree, d, notes));
        }
        List<DriveMapping> drives = new ArrayList<>(d.driveMappings);
        drives.sort(Comparator.comparing(m -> m.letter().toLowerCase(java.util.Locale.ROOT)));
        return new GuestInfo(rootDevice, d.osType, Optional.ofNullable(d.distro), Optional.ofNullable(d.productName),
                Optional.ofNullable(d.productVariant), d.major(), d.minor(), Optional.ofNullable(d.arch),
                Optional.ofNullable(d.hostname), packageFormat, packageManagement,
                Osinfo.of(d.osType, d.distro, d.major(), d.minor(), d.productName, d.productVariant),
                mountpoints, filesystems, apps, kernels, bootloader, init, network, win, drives, notes);
    }

    /**
     * The root at "/", and every other fstab filesystem jv2v could open at its mount point: a btrfs
     * line's subvol= (or subvolid=) is that subvolume, found from the filesystem's top level as the
     * kernel finds it, whatever the default subvolume is.
     *
     * @param opened the devices' filesystems and the btrfs subvolumes, by libguestfs's names
     */
    static GuestFiles mount(String rootDevice, OsData d, Map<String, FileSystem> opened, List<String> notes) {
        List<GuestFiles.Mount> mounts = new ArrayList<>();
        mounts.add(new GuestFiles.Mount("/", opened.get(rootDevice), ""));
        if (d.fstab != null) {
            for (Fstab.Entry e : d.fstab) {
                if (!e.mountPoint().startsWith("/") || e.mountPoint().equals("/")) {
                    continue;
                }
                FileSystem fs = opened.get(e.device());
                if (fs == null) {
                    if (!e.vfsType().equals("swap")) {
                        notes.add(e.mountPoint() + " (" + e.mountable() + "): not mounted: jv2v could not open it");
                    }
                    continue;
                }
                try {
                    if (e.subvolume().isPresent()) {
                        fs = Mountables.view(fs, e.subvolume());
                    } else if (e.subvolumeId().isPresent() && fs instanceof BtrfsFileSystem b) {
                        fs = b.openSubvolume(e.subvolumeId().getAsLong());
                    }
                } catch (IOException | RuntimeException ex) {
                    notes.add(e.mountPoint() + " (" + e.mountable() + "): not mounted: " + Inspector.message(ex));
                    continue;
                }
                mounts.add(new GuestFiles.Mount(e.mountPoint(), fs, ""));
            }
        }
        return GuestFiles.of(mounts);
    }

    /** What is known of a device's filesystem; a btrfs subvolume shares its device's (type, label, UUID, space). */
    static FilesystemInfo info(String device, Map<String, FilesystemInfo> infos) {
        FilesystemInfo i = infos.get(device);
        if (i != null) {
            return i;
        }
        Optional<Mountables.Parsed> p = Mountables.parse(device, infos.keySet());
        if (p.isPresent() && p.get().subvolume().isPresent()) {
            FilesystemInfo b = infos.get(p.get().device());
            return new FilesystemInfo(device, b.type(), b.label(), b.uuid(), b.version(), b.opened(), b.problem(),
                    b.totalBytes(), b.freeBytes());
        }
        return new FilesystemInfo(device, "unknown", Optional.empty(), Optional.empty(),
                OptionalInt.empty(), false, Optional.of("no such device"), OptionalLong.empty(), OptionalLong.empty());
    }

    @FunctionalInterface
    interface Step<T> {
        T run() throws IOException;
    }

    /** One inspection step: a failure becomes a note and {@code fallback}, never the end of inspection. */
    static <T> T guard(List<String> notes, String what, T fallback, Step<T> step) {
        try {
            return step.run();
        } catch (IOException | RuntimeException e) {
            notes.add(what + ": not read: " + Inspector.message(e));
            return fallback;
        }
    }
}
