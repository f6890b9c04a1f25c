package org.jv2v.inspect;

import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystemFormat;
import org.jv2v.fs.FileSystems;
import org.jv2v.fs.btrfs.BtrfsFileSystem;
import org.jv2v.fs.ext.ExtFileSystem;
import org.jv2v.fs.xfs.XfsFileSystem;
import org.jv2v.image.BlockDevice;
import org.jv2v.volume.Unsupported;
import org.jv2v.volume.Volume;
import org.jv2v.volume.VolumeScan;
import org.jv2v.volume.Volumes;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Finds the operating systems on a guest's disks, as libguestfs's inspection does, but by reading
 * the partitions, logical volumes, filesystems and registry directly (no appliance): read-only,
 * and robust: a volume or file that cannot be read becomes a note, never a failure of the whole.
 */
public final class Inspector {
    private Inspector() {}

    /** Inspects {@code disks} (in the guest's order: the first is /dev/sda). The devices stay the caller's. */
    public static Inspection inspect(List<BlockDevice> disks, InspectOptions options) throws IOException {
        VolumeScan scan = Volumes.scan(disks);
        List<String> notes = new ArrayList<>();
        for (Unsupported u : scan.unsupported()) {
            notes.add(u.toString());
        }
        for (var d : scan.disks()) {
            d.table().ifPresent(t -> t.warnings().forEach(w -> notes.add(d.name() + ": " + w)));
        }
        List<Inspection.ProbedVolume> probed = new ArrayList<>();
        for (Volume v : scan.volumes()) {
            probed.add(probe(v, notes));
        }
        Map<String, FilesystemInfo> infos = new LinkedHashMap<>();
        Map<String, FileSystem> opened = new LinkedHashMap<>();
        for (Inspection.ProbedVolume p : probed) {
            infos.put(p.volume().name(), p.info());
            p.fs().ifPresent(fs -> opened.put(p.volume().name(), fs));
        }
        FirmwareInfo firmware = Firmwares.detect(scan, opened);
        Devices devices = new Devices(scan, infos);

        // what each filesystem is to an OS; a btrfs filesystem is looked at through its default
        // subvolume (the device itself) and through each other subvolume (libguestfs's list_filesystems)
        Map<String, FileSystem> mountables = withSubvolumes(opened, notes);
        Map<String, OsData> data = new LinkedHashMap<>();
        for (Map.Entry<String, FileSystem> e : mountables.entrySet()) {
            OsData d = new OsData();
            try {
                classify(e.getKey(), GuestFiles.of(e.getValue()), d, devices, scan);
            } catch (IOException | RuntimeException ex) {
                notes.add(e.getKey() + ": inspection failed: " + message(ex));
                d = new OsData();
            }
            data.put(e.getKey(), d);
        }
        // a separate /usr completes its root (libguestfs's collect_linux_inspection_info)
        for (Map.Entry<String, OsData> e : data.entrySet()) {
            OsData root = e.getValue();
            if (root.role != OsData.Role.ROOT || root.fstab == null) {
                continue;
            }
            for (Fstab.Entry f : root.fstab) {
                OsData usr = data.get(f.mountable());
                if (usr != null && usr.role == OsData.Role.USR) {
                    root.mergeFrom(usr);
                    break;
                }
            }
        }
        List<GuestInfo> roots = new ArrayList<>();
        for (Map.Entry<String, OsData> e : data.entrySet()) {
            if (e.getValue().role == OsData.Role.ROOT) {
                roots.add(GuestBuilder.build(e.getKey(), e.getValue(), mountables, infos, firmware, options));
            }
        }
        return new Inspection(scan, probed, roots, firmware, notes);
    }

    private static void classify(String device, GuestFiles g, OsData d, Devices devices, VolumeScan scan)
            throws IOException {
        if (LinuxRoot.isGrubBoot(g)) {
            return;
        }
        if (LinuxRoot.isRoot(g)) {
            LinuxRoot.inspectRoot(g, d);
            d.fstab = resolveFstab(g, d, device, devices);
        } else if (LinuxRoot.isUsrLocal(g)) {
            return;
        } else if (LinuxRoot.isUsr(g)) {
            LinuxRoot.inspectUsr(g, d);
        } else if (WindowsRoot.systemRoot(g).isPresent()) {
            WindowsRoot.inspect(g, d, scan);
        }
    }

    private static List<Fstab.Entry> resolveFstab(GuestFiles g, OsData d, String root, Devices devices)
            throws IOException {
        List<Fstab.Entry> out = new ArrayList<>();
        for (Fstab.Line l : Fstab.read(g, d.notes).orElse(List.of())) {
            Optional<String> mp = Fstab.keptMountPoint(l);
            if (mp.isEmpty()) {
                continue;
            }
            Optional<String> dev = devices.resolve(l.spec(), root);
            if (dev.isEmpty()) {
                continue;
            }
            // libguestfs names a btrfs line with subvol= after the subvolume, unless the spec was
            // /dev/root and so already the root's own name
            boolean btrfs = l.vfsType().equals("btrfs") && !dev.get().startsWith(Mountables.BTRFSVOL);
            Optional<String> subvol = btrfs ? Fstab.subvolume(l) : Optional.empty();
            java.util.OptionalLong subvolId = btrfs ? Fstab.subvolumeId(l) : java.util.OptionalLong.empty();
            out.add(new Fstab.Entry(dev.get(), mp.get(), l.vfsType(), l.spec(), subvol, subvolId));
        }
        return out;
    }

    /**
     * The opened filesystems, each btrfs one followed by its subvolumes other than the default one
     * (which the device itself shows), named "btrfsvol:DEVICE/PATH" with PATH from the top level, as
     * libguestfs lists them: any of them may hold an OS (Fedora's root is the subvolume "root").
     * A subvolume tree that cannot be read is a note.
     */
    static Map<String, FileSystem> withSubvolumes(Map<String, FileSystem> opened, List<String> notes) {
        Map<String, FileSystem> out = new LinkedHashMap<>();
        for (Map.Entry<String, FileSystem> e : opened.entrySet()) {
            out.put(e.getKey(), e.getValue());
            if (!(e.getValue() instanceof BtrfsFileSystem b)) {
                continue;
            }
            try {
                long def = b.defaultSubvolumeId();
                for (BtrfsFileSystem.Subvolume s : b.subvolumes()) {
                    if (s.id() == def) {
                        continue;
                    }
                    String name = Mountables.btrfsvol(e.getKey(), s.path());
                    try {
                        out.put(name, b.openSubvolume(s.id()));
                    } catch (IOException | RuntimeException ex) {
                        notes.add(name + ": subvolume not looked at: " + message(ex));
                    }
                }
            } catch (IOException | RuntimeException ex) {
                notes.add(e.getKey() + ": btrfs subvolumes not looked at: " + message(ex));
            }
        }
        return out;
    }

    /** Opens the volume's filesystem, or at least names it; never throws for a bad volume. */
    static Inspection.ProbedVolume probe(Volume v, List<String> notes) {
        String name = v.name();
        Optional<FileSystem> fs = Optional.empty();
        Optional<String> problem = Optional.empty();
        Optional<String> untrusted = Optional.empty();
        String type = "unknown";
        Optional<String> label = Optional.empty();
        Optional<String> uuid = Optional.empty();
        OptionalInt version = OptionalInt.empty();
        OptionalLong total = OptionalLong.empty();
        OptionalLong free = OptionalLong.empty();
        OptionalInt swapHeader = OptionalInt.empty();
        try {
            Optional<FileSystemFormat> format = FileSystems.probe(v.device());
            if (format.isPresent()) {
                try {
                    FileSystem f = format.get().open(v.device());
                    fs = Optional.of(f);
                    type = f.type();
                    label = f.label();
                    uuid = f.uuid();
                    FileSystem.SpaceUsage space = f.space();
                    total = OptionalLong.of(space.totalBytes());
                    free = OptionalLong.of(space.freeBytes());
                    if (f instanceof XfsFileSystem x) {
                        version = OptionalInt.of(x.version());
                        var log = x.logState();
                        if (!log.clean()) {
                            untrusted = Optional.of("its log is not clean (" + log.detail() + ")");
                        }
                    } else if (f instanceof ExtFileSystem x) {
                        if (x.journalState() == ExtFileSystem.JournalState.NEEDS_RECOVERY) {
                            untrusted = Optional.of("its journal waits for replay");
                        } else if (x.markedUnclean()) {
                            untrusted = Optional.of("it is marked unclean or with errors");
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    fs = Optional.empty();
                    problem = Optional.of(format.get().name() + " filesystem could not be opened: " + message(e));
                    notes.add(name + ": " + problem.get());
                }
            }
            if (fs.isEmpty()) {
                Optional<Identify.Id> id = Identify.probe(v.device());
                if (id.isPresent()) {
                    type = id.get().type();
                    uuid = id.get().uuid();
                    label = id.get().label();
                    if (type.equals("swap")) {
                        swapHeader = OptionalInt.of(id.get().pageSize());
                    } else if (problem.isEmpty()) {
                        problem = Optional.of("jv2v has no " + type + " reader in this build");
                        notes.add(name + ": " + type + ": " + problem.get() + ": its files are not looked at");
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            problem = Optional.of("cannot be read: " + message(e));
            notes.add(name + ": " + problem.get());
        }
        FilesystemInfo info = new FilesystemInfo(name, type, label, uuid, version, fs.isPresent(), problem, total, free);
        return new Inspection.ProbedVolume(v, info, fs, untrusted, swapHeader);
    }

    static String message(Throwable t) {
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** libguestfs's order for mount points: shortest first, then by name. */
    static final Comparator<MountPoint> MOUNT_ORDER =
            Comparator.comparingInt((MountPoint m) -> m.path().length()).thenComparing(MountPoint::path);
}
