package org.jv2v.inspect;

import java.util.Map;
import java.util.Optional;

/**
 * An installed Linux kernel: /boot/vmlinuz-VERSION with its modules in /lib/modules/VERSION.
 *
 * @param version     the kernel release ("6.1.0-18-amd64")
 * @param vmlinuz     the kernel image's path in the guest
 * @param initrd      the matching initramfs, if one was found in /boot
 * @param config      /boot/config-VERSION, if present
 * @param modulesDir  /lib/modules/VERSION, if it exists
 * @param moduleCount how many loadable modules (*.ko, *.ko.xz, *.ko.zst, *.ko.gz) it has
 * @param drivers     for each driver of interest (virtio_blk, virtio_net, virtio_scsi, virtio_pci,
 *                    virtio_console, virtio_rng, virtio_balloon, vmw_vsock_virtio_transport, pvpanic):
 *                    how the kernel provides it: "builtin" (modules.builtin or CONFIG_...=y),
 *                    "module" (a module file, or CONFIG_...=m); absent when it does not
 */
public record Kernel(String version, String vmlinuz, Optional<String> initrd, Optional<String> config,
                     Optional<String> modulesDir, int moduleCount, Map<String, String> drivers) {

    public boolean hasVirtioBlk() {
        return drivers.containsKey("virtio_blk");
    }

    public boolean hasVirtioNet() {
        return drivers.containsKey("virtio_net");
    }

    /** What virt-v2v requires to switch a Linux guest to virtio disks and network. */
    public boolean supportsVirtio() {
        return hasVirtioBlk() && hasVirtioNet();
    }
}
