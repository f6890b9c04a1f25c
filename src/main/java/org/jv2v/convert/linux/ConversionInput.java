package org.jv2v.convert.linux;

import org.jv2v.model.Firmware;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceNic;

import java.util.List;
import java.util.Map;

/**
 * What the converter needs to know of the VM around the guest.
 *
 * @param disks       the VM's disks in order (the guest's /dev/sda is the first)
 * @param nics        its NICs (MACs are kept on KVM)
 * @param nicPciSlots {@code ethernetN.pciSlotNumber} by NIC index where the source states it: ESXi
 *                    names a NIC in slot 192 "ens192"
 * @param firmware    BIOS or UEFI
 * @param blockDriver "virtio-blk" or "virtio-scsi" ({@code --block-driver})
 * @param unreadable  filesystems fstab mounts that jv2v could not open, as "MOUNTPOINT: why"
 *                    (the ESP while there is no FAT reader); the planner says what it could not check
 */
public record ConversionInput(List<SourceDisk> disks, List<SourceNic> nics, Map<Integer, Integer> nicPciSlots,
                              Firmware firmware, String blockDriver, Map<String, String> unreadable) {
    public ConversionInput {
        disks = List.copyOf(disks);
        nics = List.copyOf(nics);
        nicPciSlots = Map.copyOf(nicPciSlots);
        unreadable = Map.copyOf(unreadable);
        if (!blockDriver.equals("virtio-blk") && !blockDriver.equals("virtio-scsi")) {
            throw new IllegalArgumentException("block driver must be virtio-blk or virtio-scsi: " + blockDriver);
        }
    }
}
