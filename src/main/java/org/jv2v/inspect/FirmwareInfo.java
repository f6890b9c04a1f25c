package org.jv2v.inspect;

import java.util.List;

/**
 * How the guest boots, as its disks show it. The decision is virt-v2v's: UEFI when a GPT disk has
 * an EFI system partition and no disk has a BIOS boot partition, BIOS otherwise.
 *
 * @param kind           BIOS or UEFI
 * @param espDevices     the EFI system partitions (GPT type C12A7328-..., or MBR type 0xEF)
 * @param biosBootDevices the BIOS boot partitions (GPT type 21686148-...: grub's core image on GPT)
 * @param mbrBootCode    the disks whose MBR holds boot code (non-zero bytes before the partition table)
 * @param evidence       one sentence per fact the decision rests on, for the user
 */
public record FirmwareInfo(Kind kind, List<String> espDevices, List<String> biosBootDevices,
                           List<String> mbrBootCode, List<String> evidence) {
    public enum Kind { BIOS, UEFI }
}
