package org.jv2v.inspect;

/**
 * The guest's boot loader, found by its configuration file (as virt-v2v finds it).
 *
 * @param kind     "grub2", "grub-legacy" or "systemd-boot"
 * @param firmware "bios" or "efi": which flavour is installed (grub's i386-pc or x86_64-efi modules,
 *                 or the configuration's place on the EFI system partition)
 * @param config   the configuration file's path in the guest (/boot/grub/grub.cfg ...)
 */
public record Bootloader(String kind, String firmware, String config) {}
