package org.jv2v.target;

import org.jv2v.model.Cpu;
import org.jv2v.model.RemovableMedia;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceNic;
import org.jv2v.model.VmGenId;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The guest as it will be on KVM: every device decided, every file named. The writers (libvirt
 * XML, QEMU script, JSON) only format this; they decide nothing.
 *
 * @param name        target name
 * @param description the source's notes (VMware annotation), kept for the admin
 * @param arch        "x86_64"
 * @param machine     "q35" or "pc"
 * @param memoryBytes memory
 * @param cpu         vCPUs and topology
 * @param uefi        UEFI firmware (else BIOS)
 * @param secureBoot  UEFI secure boot with Microsoft keys enrolled
 * @param uuid        SMBIOS system UUID, kept from the source so licences and cloud-init keep matching
 * @param genid       VM generation ID
 * @param localtimeRtc the RTC runs in local time (Windows guests, as on VMware)
 * @param disks       hard disks
 * @param drives      CD-ROM and floppy drives
 * @param scsiControllers SCSI controllers needed (bus and index)
 * @param nics        network interfaces
 * @param sound       libvirt sound model, if any
 * @param tpm         add an emulated TPM 2.0
 * @param virtioExtras add virtio-rng, virtio-balloon and the guest agent channel
 * @param decisions   the device choices and why, as printed
 */
public record TargetVm(String name, Optional<String> description, String arch, String machine, long memoryBytes, Cpu cpu, boolean uefi,
                       boolean secureBoot, Optional<UUID> uuid, Optional<VmGenId> genid, boolean localtimeRtc,
                       List<TargetDisk> disks, List<TargetDrive> drives, List<ScsiController> scsiControllers,
                       List<TargetNic> nics, Optional<String> sound, boolean tpm, boolean virtioExtras,
                       List<Decision> decisions) {

    public TargetVm {
        disks = List.copyOf(disks);
        drives = List.copyOf(drives);
        scsiControllers = List.copyOf(scsiControllers);
        nics = List.copyOf(nics);
        decisions = List.copyOf(decisions);
    }

    /**
     * A target hard disk.
     *
     * @param file       the target image file ({@code NAME-sda})
     * @param format     "raw" or "qcow2"
     * @param dev        libvirt target name ("vda", "sda", "hda")
     * @param controller controller number on its bus
     * @param unit       unit on the controller
     * @param bootOrder  1 for the first disk, then 2, 3 ...
     * @param discardWrites writes discarded at power-off (VMware independent-nonpersistent)
     */
    public record TargetDisk(int id, Path file, String format, TargetBus bus, String dev, int controller, int unit,
                             int bootOrder, boolean discardWrites, SourceDisk source) {}

    /** A CD-ROM or floppy drive; {@code image} is the ISO/floppy image kept in it, if any. */
    public record TargetDrive(RemovableMedia.MediaType type, TargetBus bus, String dev, int controller, int unit,
                              Optional<Path> image, RemovableMedia source) {}

    public record ScsiController(TargetBus bus, int index) {}

    /**
     * A NIC on the target.
     *
     * @param model       libvirt model ("virtio", "e1000e", "vmxnet3" ...)
     * @param qemuDevice  QEMU device ("virtio-net-pci", "e1000e", "vmxnet3" ...)
     * @param mac         MAC kept from the source
     * @param vnetType    network or bridge
     * @param vnet        its name after -n/-b/--mac mapping
     */
    public record TargetNic(int index, String model, String qemuDevice, Optional<String> mac,
                            SourceNic.VnetType vnetType, String vnet, SourceNic source) {}

    /**
     * One printed device choice.
     *
     * @param subject "machine", "disks", "ethernet0" ...
     * @param choice  what was chosen
     * @param reason  why
     * @param warning whether the user should act (printed as a warning)
     */
    public record Decision(String subject, String choice, String reason, boolean warning) {
        public String describe() {
            return subject + ": " + choice + " (" + reason + ")";
        }
    }
}
