package org.jv2v.target;

import org.jv2v.Jv2vException;
import org.jv2v.model.Bus;
import org.jv2v.model.Cpu;
import org.jv2v.model.DeviceSlot;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.DiskMode;
import org.jv2v.model.Firmware;
import org.jv2v.model.GuestOsHint;
import org.jv2v.model.RemovableMedia;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceVm;
import org.jv2v.target.TargetVm.Decision;
import org.jv2v.target.TargetVm.TargetDisk;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The device decisions: virtio when known, otherwise what the guest already drives, each with its reason. */
class TargetPlannerTest {
    private static final Path OUT = Path.of("/out");

    private static SourceDisk disk(int id, Bus bus, int c, int u, String model, DiskMode mode) {
        return new SourceDisk(id, Optional.of(new DeviceSlot(bus, c, u)), Optional.ofNullable(model), mode,
                "d" + id + ".vmdk", new DiskLocation.LocalFile(Path.of("/src/d" + id + ".vmdk")), Optional.of("vmdk"),
                OptionalLong.empty());
    }

    private static RemovableMedia cdrom(Bus bus, int c, int u) {
        return new RemovableMedia(RemovableMedia.MediaType.CDROM, Optional.of(new DeviceSlot(bus, c, u)), -1,
                RemovableMedia.Backing.EMPTY, Optional.empty(), Optional.empty(), true);
    }

    private static SourceNic nic(int i, String model) {
        return new SourceNic(i, Optional.ofNullable(model), Optional.of("00:50:56:00:00:0" + i), SourceNic.MacType.STATIC,
                Optional.of("VM Network"), "VM Network", SourceNic.VnetType.NETWORK, SourceNic.Connection.UNSPECIFIED,
                Optional.empty(), true);
    }

    private static SourceVm vm(String guestOs, List<SourceDisk> disks, List<RemovableMedia> media, List<SourceNic> nics) {
        SourceVm.Builder b = SourceVm.builder("g", "vmware");
        b.guestOs = guestOs == null ? GuestOsHint.NONE : GuestOsHint.ofVmware(guestOs);
        b.cpu = Cpu.of(2, Optional.empty());
        b.disks.addAll(disks);
        b.removables.addAll(media);
        b.nics.addAll(nics);
        return b.build();
    }

    private static TargetVm plan(SourceVm vm, GuestCapabilities caps) {
        return TargetPlanner.plan(vm, TargetOptions.defaults(OutputMode.LOCAL, OUT), caps);
    }

    private static List<String> buses(TargetVm t) {
        return t.disks().stream().map(d -> d.bus() + " " + d.dev() + " " + d.controller() + ":" + d.unit()).toList();
    }

    @Test
    void withoutVirtioTheGuestKeepsControllersQemuEmulates() {
        TargetVm t = plan(vm("rhel8-64", List.of(
                        disk(0, Bus.SCSI, 0, 0, "pvscsi", DiskMode.PERSISTENT),
                        disk(1, Bus.SCSI, 1, 2, "lsisas1068", DiskMode.PERSISTENT),
                        disk(2, Bus.SCSI, 2, 0, "lsilogic", DiskMode.PERSISTENT),
                        disk(3, Bus.NVME, 0, 0, "nvme", DiskMode.PERSISTENT)),
                List.of(cdrom(Bus.IDE, 1, 0)), List.of(nic(0, "vmxnet3"), nic(1, "vmxnet"))), GuestCapabilities.unknown());
        assertThat(t.machine()).isEqualTo("q35");
        assertThat(buses(t)).containsExactly("PVSCSI sda 0:0", "LSISAS1068 sdb 1:2", "SATA sdc 0:0", "SATA sdd 0:1");
        assertThat(t.scsiControllers()).extracting(c -> c.bus() + "/" + c.index()).containsExactly("PVSCSI/0", "LSISAS1068/1");
        // the IDE CD-ROM keeps slot 2 (hdc) on AHCI
        assertThat(t.drives()).singleElement().satisfies(d -> assertThat(d.bus() + " " + d.unit() + " " + d.dev())
                .isEqualTo("SATA 2 sde"));
        assertThat(t.nics()).extracting(n -> n.model() + "/" + n.qemuDevice())
                .containsExactly("vmxnet3/vmxnet3", "e1000/e1000");
        Decision disks = t.decisions().stream().filter(d -> d.subject().equals("disks")).findFirst().orElseThrow();
        assertThat(disks.warning()).isTrue();
        assertThat(disks.reason()).contains("not known to have virtio drivers").contains("pass --virtio yes")
                .contains("lsilogic controller, which QEMU does not emulate").contains("SATA for NVMe disks");
        assertThat(t.virtioExtras()).isFalse();
    }

    @Test
    void withVirtioEverythingIsVirtio() {
        TargetVm t = plan(vm("windows9-64", List.of(disk(0, Bus.SCSI, 0, 0, "lsisas1068", DiskMode.PERSISTENT),
                        disk(1, Bus.SATA, 0, 1, "ahci", DiskMode.INDEPENDENT_NONPERSISTENT)),
                List.of(cdrom(Bus.SATA, 0, 0)), List.of(nic(0, "e1000e"))), GuestCapabilities.virtio("--virtio yes"));
        assertThat(buses(t)).containsExactly("VIRTIO_BLK vda 0:0", "VIRTIO_BLK vdb 0:0");
        assertThat(t.disks()).extracting(TargetDisk::bootOrder).containsExactly(1, 2);
        assertThat(t.disks().get(1).discardWrites()).isTrue();
        assertThat(t.drives().get(0).dev()).isEqualTo("sda");
        assertThat(t.nics().get(0).model()).isEqualTo("virtio");
        assertThat(t.localtimeRtc()).isTrue();
        assertThat(t.virtioExtras()).isTrue();
        assertThat(t.decisions()).anyMatch(d -> d.subject().equals("disk 1") && d.warning());
    }

    @Test
    void virtioScsiPutsDisksOnOneController() {
        TargetVm t = TargetPlanner.plan(vm("rhel9-64", List.of(disk(0, Bus.IDE, 0, 0, null, DiskMode.PERSISTENT),
                        disk(1, Bus.IDE, 0, 1, null, DiskMode.PERSISTENT)), List.of(cdrom(Bus.IDE, 1, 0)), List.of()),
                TargetOptions.defaults(OutputMode.QEMU, OUT).withBlockDriver("virtio-scsi"), GuestCapabilities.virtio("x"));
        assertThat(buses(t)).containsExactly("VIRTIO_SCSI sda 0:0", "VIRTIO_SCSI sdb 0:1");
        // SATA names come after the SCSI ones, so no two devices share "sdX"
        assertThat(t.drives().get(0).dev()).isEqualTo("sde");
        assertThat(t.disks().get(0).file()).isEqualTo(OUT.resolve("g-sda"));
    }

    @Test
    void legacyGuestsGetThePcMachineAndIde() {
        TargetVm t = plan(vm("winxppro", List.of(disk(0, Bus.IDE, 0, 0, null, DiskMode.PERSISTENT)),
                List.of(cdrom(Bus.IDE, 1, 0)), List.of(nic(0, "vlance"))), GuestCapabilities.unknown());
        assertThat(t.machine()).isEqualTo("pc");
        assertThat(buses(t)).containsExactly("IDE hda 0:0");
        assertThat(t.drives().get(0).dev()).isEqualTo("hdc");
        assertThat(t.nics().get(0).model()).isEqualTo("pcnet");
        assertThat(t.arch()).isEqualTo("x86_64");
        assertThat(t.decisions()).anyMatch(d -> d.subject().equals("arch"));
    }

    @Test
    void secureBootNeedsQ35AndUnknownFirmwareIsAWarning() {
        SourceVm.Builder b = vm("winxppro", List.of(), List.of(), List.of()).toBuilder();
        b.firmware = Firmware.UEFI;
        b.secureBoot = true;
        TargetVm t = plan(b.build(), GuestCapabilities.unknown());
        assertThat(t.machine()).isEqualTo("q35");
        assertThat(t.secureBoot()).isTrue();
        b.firmware = Firmware.UNKNOWN;
        TargetVm u = plan(b.build(), GuestCapabilities.unknown());
        assertThat(u.uefi()).isFalse();
        assertThat(u.decisions()).anyMatch(d -> d.subject().equals("firmware") && d.warning());
    }

    /** Where the source does not say, the disks decide; where it does, the source wins. */
    @Test
    void unknownFirmwareIsWhatTheDisksShow() {
        SourceVm.Builder b = vm("debian12-64", List.of(), List.of(), List.of()).toBuilder();
        b.firmware = Firmware.UNKNOWN;
        TargetOptions opts = TargetOptions.defaults(OutputMode.LOCAL, OUT);
        var esp = Optional.of(new TargetPlanner.DiskFirmware(Firmware.UEFI, "sda1: EFI system partition"));
        TargetVm u = TargetPlanner.plan(b.build(), opts, GuestCapabilities.unknown(), esp);
        assertThat(u.uefi()).isTrue();
        assertThat(u.decisions()).filteredOn(d -> d.subject().equals("firmware")).singleElement()
                .satisfies(d -> assertThat(d.warning()).isFalse())
                .satisfies(d -> assertThat(d.describe()).isEqualTo("firmware: UEFI (OVMF) (the source does not say; "
                        + "its disks show it: sda1: EFI system partition)"));
        var mbr = Optional.of(new TargetPlanner.DiskFirmware(Firmware.BIOS, "sda: the MBR holds boot code"));
        TargetVm bios = TargetPlanner.plan(b.build(), opts, GuestCapabilities.unknown(), mbr);
        assertThat(bios.uefi()).isFalse();
        assertThat(bios.decisions()).filteredOn(d -> d.subject().equals("firmware")).singleElement()
                .satisfies(d -> assertThat(d.warning()).isFalse())
                .satisfies(d -> assertThat(d.reason()).contains("the MBR holds boot code"));
        b.firmware = Firmware.BIOS;
        TargetVm source = TargetPlanner.plan(b.build(), opts, GuestCapabilities.unknown(), esp);
        assertThat(source.uefi()).isFalse();
        assertThat(source.decisions()).anyMatch(d -> d.subject().equals("firmware") && d.reason().equals("as on the source"));
    }

    @Test
    void unmappedVmwareNetworksAreAWarningAndMappedOnesAreNot() {
        SourceVm vm = vm(null, List.of(), List.of(), List.of(nic(0, "e1000")));
        TargetVm t = plan(vm, GuestCapabilities.unknown());
        assertThat(t.decisions()).anyMatch(d -> d.subject().equals("ethernet0 network") && d.warning()
                && d.reason().contains("-n 'VM Network:NAME'"));
        TargetVm m = TargetPlanner.plan(vm, TargetOptions.defaults(OutputMode.LOCAL, OUT)
                .withNetworks(NetworkMap.empty().addNetwork("VM Network:default")), GuestCapabilities.unknown());
        assertThat(m.nics().get(0).vnet()).isEqualTo("default");
        assertThat(m.decisions()).anyMatch(d -> d.subject().equals("ethernet0 network") && !d.warning());
    }

    @Test
    void armGuestsAreRefused() {
        assertThatThrownBy(() -> plan(vm("arm-ubuntu-64", List.of(), List.of(), List.of()), GuestCapabilities.unknown()))
                .isInstanceOf(Jv2vException.class).hasMessageContaining("ARM");
    }

    @Test
    void driveNamesFollowVirtV2v() {
        assertThat(TargetBus.driveName(0)).isEqualTo("a");
        assertThat(TargetBus.driveName(25)).isEqualTo("z");
        assertThat(TargetBus.driveName(26)).isEqualTo("aa");
        assertThat(TargetBus.driveName(701)).isEqualTo("zz");
        assertThat(TargetBus.driveName(702)).isEqualTo("aaa");
        assertThat(TargetPlanner.diskPath(OUT, "a/b", 27)).isEqualTo(OUT.resolve("a_b-sdab"));
    }
}
