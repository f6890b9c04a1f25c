package org.jv2v.convert.linux;

import org.jv2v.model.Bus;
import org.jv2v.model.SourceDisk;
import org.jv2v.target.TargetBus;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the guest names its disks on VMware and what the same disks are called on KVM, and the
 * rewriting of {@code /dev/...} names in text by that map.
 *
 * <p>Names, as the Linux kernel gives them: SCSI (pvscsi, LSI), SATA and, on any kernel with
 * libata, IDE disks are {@code sdX} in the guest's disk order; old IDE drivers named them
 * {@code hdX} by slot (hda master of the first channel, hdc master of the second); NVMe disks
 * {@code nvmeNn1}; Xen {@code xvdX} and HP Smart Array {@code cciss/cNdM} by position. On KVM the
 * n-th disk is {@code vdX} on virtio-blk and {@code sdX} on virtio-scsi or SATA. Like virt-v2v,
 * this assumes the kernel enumerates disks in the order the VM lists them.
 *
 * <p>Only whole device names are matched: {@code /dev/sda} never matches inside
 * {@code /dev/sdaa} or {@code /dev/sda-x}, and names under {@code /dev/disk/}, {@code /dev/mapper/}
 * or of CD-ROMs ({@code /dev/sr0}) are not disk names here and stay as they are.
 */
public final class DeviceMap {

    /** One disk's rename: {@code from} and {@code to} without "/dev/" ("sda" -> "vda"). */
    public record Rename(String from, String to, String why) {}

    /** One rewritten occurrence. */
    public record Change(String from, String to, String why) {
        public String describe() {
            return from + " -> " + to + " (" + why + ")";
        }
    }

    /**
     * The result of {@link #remap}: the new text, what changed, and disk-like names that are not
     * among the guest's disks (left alone; the user may have to look at them).
     */
    public record Remapped(String text, List<Change> changes, List<String> unknown) {
        public boolean changed() {
            return !changes.isEmpty();
        }
    }

    // The character before /dev must not continue a word or a path; the name must end there.
    private static final Pattern DEVICE = Pattern.compile(
            "(?<![\\w./-])/dev/(?:(?<sd>(?:sd|hd|vd|xvd)[a-z]{1,3})(?<p1>\\d*)"
                    + "|(?<cc>cciss/c\\d+d\\d+)(?:p(?<p2>\\d+))?"
                    + "|(?<nv>nvme\\d+n\\d+)(?:p(?<p3>\\d+))?)(?![\\w-])");

    private final Map<String, Rename> byName;

    private DeviceMap(Map<String, Rename> byName) {
        this.byName = Map.copyOf(byName);
    }

    /** A map that renames nothing. */
    public static DeviceMap none() {
        return new DeviceMap(Map.of());
    }

    /**
     * The map for {@code disks} (in the VM's order) moving to {@code target}.
     *
     * @param disks  the source disks, in order (as {@link org.jv2v.model.SourceVm#disks()})
     * @param target the bus every disk gets on KVM
     */
    public static DeviceMap of(List<SourceDisk> disks, TargetBus target) {
        Map<String, Rename> m = new LinkedHashMap<>();
        String prefix = target == TargetBus.VIRTIO_BLK ? "vd" : "sd";
        int sd = 0;
        int nvme = 0;
        int vd = 0;
        for (int i = 0; i < disks.size(); i++) {
            SourceDisk d = disks.get(i);
            String to = prefix + TargetBus.driveName(i);
            String why = why(d, target);
            Bus bus = d.bus().orElse(null);
            if (bus == Bus.NVME) {
                put(m, "nvme" + nvme++ + "n1", to, why);
            } else if (bus == Bus.VIRTIO_BLK) {
                put(m, "vd" + TargetBus.driveName(vd++), to, why);
            } else {
                put(m, "sd" + TargetBus.driveName(sd++), to, why);
                if (bus == Bus.IDE) {
                    put(m, "hd" + TargetBus.driveName(d.slot().get().index()), to, why);
                }
            }
            // Xen's and Smart Array's names by position, as virt-v2v maps them
            put(m, "xvd" + TargetBus.driveName(i), to, why);
            put(m, "cciss/c0d" + i, to, why);
        }
        return new DeviceMap(m);
    }

    private static void put(Map<String, Rename> m, String from, String to, String why) {
        m.putIfAbsent(from, new Rename(from, to, why));
    }

    private static String why(SourceDisk d, TargetBus target) {
        String from = d.controllerModel().orElse(d.bus().map(Bus::label).orElse("a bare image"));
        String slot = d.slot().map(s -> " " + s.vmxName()).orElse("");
        return "disk " + (d.id() + 1) + slot + " moves from " + from + " to " + target.label();
    }

    /** The renames that change a name. */
    public List<Rename> renames() {
        return byName.values().stream().filter(r -> !r.from().equals(r.to())).toList();
    }

    public boolean renamesAnything() {
        return !renames().isEmpty();
    }

    /** Rewrites every whole {@code /dev/} disk name in {@code text}, keeping partition numbers. */
    public Remapped remap(String text) {
        Matcher m = DEVICE.matcher(text);
        StringBuilder out = new StringBuilder();
        List<Change> changes = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        int last = 0;
        while (m.find()) {
            String disk;
            String part;
            if (m.group("sd") != null) {
                disk = m.group("sd");
                part = m.group("p1");
            } else if (m.group("cc") != null) {
                disk = m.group("cc");
                part = m.group("p2");
            } else {
                disk = m.group("nv");
                part = m.group("p3");
            }
            part = part == null ? "" : part;
            Rename r = byName.get(disk);
            if (r == null) {
                if (!unknown.contains(m.group())) {
                    unknown.add(m.group());
                }
                continue;
            }
            if (r.from().equals(r.to())) {
                continue;
            }
            String replacement = "/dev/" + r.to() + part;
            out.append(text, last, m.start()).append(replacement);
            last = m.end();
            changes.add(new Change(m.group(), replacement, r.why()));
        }
        out.append(text, last, text.length());
        return new Remapped(out.toString(), changes, unknown);
    }
}
