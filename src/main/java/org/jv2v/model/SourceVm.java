package org.jv2v.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Everything jv2v knows about the source guest from its metadata (.vmx, OVF, libvirt XML), before
 * looking inside the disks. Immutable; built by the source readers with {@link Builder}.
 *
 * @param name        the guest's name ({@code displayName})
 * @param hypervisor  where it comes from: "vmware", "kvm", "unknownhv" ({@code -i disk}) ...
 * @param sourceFile  the metadata file read, if any
 * @param memoryBytes memory size
 * @param cpu         vCPUs and topology
 * @param firmware    BIOS or UEFI
 * @param secureBoot  UEFI secure boot enabled on the source
 * @param biosUuid    SMBIOS system UUID ({@code uuid.bios}): the guest sees it, licences may bind to it
 * @param vcUuid      vCenter's instance UUID ({@code vc.uuid})
 * @param genid       VM generation ID ({@code vm.genid} + {@code vm.genidX})
 * @param guestOs     the OS the metadata claims
 * @param controllers storage controllers present
 * @param disks       hard disks, in jv2v's stable order (SCSI, NVMe, SATA, IDE, then controller and unit)
 * @param removables  CD-ROM and floppy drives, by bus, controller and unit
 * @param nics        network interfaces, by their number
 * @param display     remote display (libvirt input only)
 * @param video       video adapter
 * @param sound       sound card
 * @param vtpm        a virtual TPM is present (BitLocker and Windows 11 depend on it)
 * @param annotation  the free-text notes
 */
public record SourceVm(String name, String hypervisor, Optional<Path> sourceFile, long memoryBytes, Cpu cpu,
                       Firmware firmware, boolean secureBoot, Optional<UUID> biosUuid, Optional<UUID> vcUuid,
                       Optional<VmGenId> genid, GuestOsHint guestOs, List<Controller> controllers,
                       List<SourceDisk> disks, List<RemovableMedia> removables, List<SourceNic> nics,
                       Optional<Display> display, Optional<Video> video, Optional<Sound> sound, boolean vtpm,
                       Optional<String> annotation) {

    public SourceVm {
        Objects.requireNonNull(name);
        controllers = List.copyOf(controllers);
        disks = List.copyOf(disks);
        removables = List.copyOf(removables);
        nics = List.copyOf(nics);
        for (int i = 0; i < disks.size(); i++) {
            if (disks.get(i).id() != i) {
                throw new IllegalArgumentException("disk ids must be 0..n-1 in order");
            }
        }
    }

    public Builder toBuilder() {
        Builder b = new Builder(name, hypervisor);
        b.sourceFile = sourceFile;
        b.memoryBytes = memoryBytes;
        b.cpu = cpu;
        b.firmware = firmware;
        b.secureBoot = secureBoot;
        b.biosUuid = biosUuid;
        b.vcUuid = vcUuid;
        b.genid = genid;
        b.guestOs = guestOs;
        b.controllers.addAll(controllers);
        b.disks.addAll(disks);
        b.removables.addAll(removables);
        b.nics.addAll(nics);
        b.display = display;
        b.video = video;
        b.sound = sound;
        b.vtpm = vtpm;
        b.annotation = annotation;
        return b;
    }

    public static Builder builder(String name, String hypervisor) {
        return new Builder(name, hypervisor);
    }

    /** A mutable helper for the readers; {@link #build} checks and freezes. */
    public static final class Builder {
        public String name;
        public String hypervisor;
        public Optional<Path> sourceFile = Optional.empty();
        public long memoryBytes = 1L << 30;
        public Cpu cpu = Cpu.of(1, Optional.empty());
        public Firmware firmware = Firmware.BIOS;
        public boolean secureBoot;
        public Optional<UUID> biosUuid = Optional.empty();
        public Optional<UUID> vcUuid = Optional.empty();
        public Optional<VmGenId> genid = Optional.empty();
        public GuestOsHint guestOs = GuestOsHint.NONE;
        public final List<Controller> controllers = new ArrayList<>();
        public final List<SourceDisk> disks = new ArrayList<>();
        public final List<RemovableMedia> removables = new ArrayList<>();
        public final List<SourceNic> nics = new ArrayList<>();
        public Optional<Display> display = Optional.empty();
        public Optional<Video> video = Optional.empty();
        public Optional<Sound> sound = Optional.empty();
        public boolean vtpm;
        public Optional<String> annotation = Optional.empty();

        private Builder(String name, String hypervisor) {
            this.name = name;
            this.hypervisor = hypervisor;
        }

        public SourceVm build() {
            return new SourceVm(name, hypervisor, sourceFile, memoryBytes, cpu, firmware, secureBoot, biosUuid,
                    vcUuid, genid, guestOs, controllers, disks, removables, nics, display, video, sound, vtpm,
                    annotation);
        }
    }
}
