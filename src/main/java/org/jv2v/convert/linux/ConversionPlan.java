package org.jv2v.convert.linux;

import org.jv2v.target.GuestCapabilities;
import org.jv2v.target.TargetBus;

import java.util.List;
import java.util.Optional;

/**
 * Everything converting one Linux guest will change, decided before anything is written: printed
 * whole by {@code --plan}, then applied to the overlay by {@link PlanApplier}.
 *
 * @param distro       the guest's distribution
 * @param bootloader   what boots it ("GRUB 2 (BIOS), /boot/grub/grub.cfg")
 * @param kernel       the kernel it will boot on KVM
 * @param diskBus      the virtio bus its disks move to; empty when they stay on the controllers it drives now
 * @param capabilities what it can drive after conversion: the target chooses devices by these
 * @param summary      the decisions in a few lines (kernel, disks, network), for the stage log
 * @param edits        every file change, in the order they are applied
 * @param notes        things worth knowing that need no action
 * @param warnings     things the user should look at
 */
public record ConversionPlan(Distro distro, String bootloader, Kernel kernel, Optional<TargetBus> diskBus,
                             GuestCapabilities capabilities, List<String> summary, List<FileEdit> edits,
                             List<String> notes, List<String> warnings) {
    public ConversionPlan {
        summary = List.copyOf(summary);
        edits = List.copyOf(edits);
        notes = List.copyOf(notes);
        warnings = List.copyOf(warnings);
    }

    /** "Debian GNU/Linux 12 (bookworm)", for "Converting ... to run on KVM". */
    public String product() {
        return distro.product();
    }
}
