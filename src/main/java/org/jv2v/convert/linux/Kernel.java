package org.jv2v.convert.linux;

import org.jv2v.target.TargetBus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One installed kernel and what it can drive on KVM.
 *
 * @param version    "6.1.0-50-amd64", "5.14.0-362.8.1.el9_3.x86_64" (the /lib/modules folder name)
 * @param vmlinuz    its image in the guest ("/boot/vmlinuz-...")
 * @param initrd     its initramfs, if it has one
 * @param modulesDir "/lib/modules/VERSION"
 * @param drivers    how it provides each driver of {@link #DRIVERS}
 * @param debug      a debug build (RHEL's "+debug"), which virt-v2v and jv2v avoid
 * @param xenOnly    a Xen paravirtual-only kernel, which cannot boot on KVM
 */
public record Kernel(String version, String vmlinuz, Optional<String> initrd, String modulesDir,
                     Map<String, Availability> drivers, boolean debug, boolean xenOnly) {

    /** How a kernel provides a driver. */
    public enum Availability { BUILTIN, MODULE, ABSENT }

    /** The drivers that matter on KVM, by module name; sd_mod for disks on virtio-scsi. */
    public static final List<String> DRIVERS = List.of("virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod",
            "virtio_net", "virtio_balloon", "virtio_rng", "virtio_console");

    public Kernel {
        drivers = Map.copyOf(drivers);
    }

    public Availability driver(String module) {
        return drivers.getOrDefault(module, Availability.ABSENT);
    }

    private boolean has(String module) {
        return driver(module) != Availability.ABSENT;
    }

    /** The kernel can reach its disks on {@code bus} (drivers built in, or as modules to load from the initramfs). */
    public boolean canBootOn(TargetBus bus) {
        return switch (bus) {
            case VIRTIO_BLK -> has("virtio_pci") && has("virtio_blk");
            case VIRTIO_SCSI -> has("virtio_pci") && has("virtio_scsi") && has("sd_mod");
            default -> true;
        };
    }

    public boolean hasVirtioDisk() {
        return canBootOn(TargetBus.VIRTIO_BLK) || canBootOn(TargetBus.VIRTIO_SCSI);
    }

    public boolean hasVirtioNet() {
        return has("virtio_pci") && has("virtio_net");
    }

    /** The modules (not built in) the initramfs needs so that the root is found on {@code bus}. */
    public List<String> bootModules(TargetBus bus) {
        List<String> wanted = new ArrayList<>();
        for (String m : bus == TargetBus.VIRTIO_SCSI ? List.of("virtio_pci", "virtio_scsi", "sd_mod")
                : List.of("virtio_pci", "virtio_blk")) {
            if (driver(m) == Availability.MODULE) {
                wanted.add(m);
            }
        }
        return wanted;
    }

    /** "virtio_blk, virtio_scsi as modules; virtio_pci built in" for messages. */
    public String describeVirtio() {
        List<String> mods = new ArrayList<>();
        List<String> builtin = new ArrayList<>();
        for (String d : List.of("virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net")) {
            switch (driver(d)) {
                case MODULE -> mods.add(d);
                case BUILTIN -> builtin.add(d);
                case ABSENT -> { }
            }
        }
        List<String> parts = new ArrayList<>();
        if (!mods.isEmpty()) {
            parts.add(String.join(", ", mods) + " as modules");
        }
        if (!builtin.isEmpty()) {
            parts.add(String.join(", ", builtin) + " built in");
        }
        return parts.isEmpty() ? "no virtio drivers" : String.join("; ", parts);
    }
}
