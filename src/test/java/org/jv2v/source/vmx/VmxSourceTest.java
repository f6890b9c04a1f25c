package org.jv2v.source.vmx;

import org.jv2v.BadInputException;
import org.jv2v.model.Bus;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.DiskMode;
import org.jv2v.model.Firmware;
import org.jv2v.model.GuestOsHint;
import org.jv2v.model.RemovableMedia;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceVm;
import org.jv2v.source.DatastoreMap;
import org.jv2v.source.SourceOptions;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How .vmx keys become the {@link SourceVm}: devices, order, modes, media, NICs, datastore mapping. */
class VmxSourceTest {
    @TempDir
    Path dir;
    Path vmDir;
    Path nas;
    final List<String> warnings = new ArrayList<>();

    @BeforeEach
    void disks() throws Exception {
        Tools.require("qemu-img");
        vmDir = Files.createDirectories(dir.resolve("vm"));
        nas = Files.createDirectories(dir.resolve("nas"));
        for (String d : List.of("vm/a.vmdk", "vm/b.vmdk", "vm/c.vmdk", "vm/d.vmdk", "vm/sub/e.vmdk", "nas/f/f.vmdk")) {
            Path p = dir.resolve(d);
            Files.createDirectories(p.getParent());
            Tools.run("qemu-img", "create", "-q", "-f", "vmdk", p.toString(), "1M");
        }
        Files.writeString(nas.resolve("install.iso"), "iso");
    }

    SourceVm read(String body) throws Exception {
        return read(body, DatastoreMap.of(Map.of("nas1", nas)));
    }

    SourceVm read(String body, DatastoreMap ds) throws Exception {
        Path vmx = vmDir.resolve("g.vmx");
        Files.writeString(vmx, "config.version = \"8\"\nvirtualHW.version = \"19\"\n" + body);
        return VmxSource.read(vmx, ds, warnings::add);
    }

    @Test
    void everyBusInVirtV2vOrderWithModesAndModels() throws Exception {
        SourceVm vm = read("""
                displayName = "g"
                guestOS = "windows2019srv-64"
                ide0:0.present = "TRUE"
                ide0:0.fileName = "d.vmdk"
                ide0:0.deviceType = "ata-hardDisk"
                sata0.present = "TRUE"
                sata0:1.present = "TRUE"
                sata0:1.fileName = "c.vmdk"
                nvme0.present = "TRUE"
                nvme0:0.present = "TRUE"
                nvme0:0.fileName = "sub/e.vmdk"
                scsi0.present = "TRUE"
                scsi0.virtualDev = "pvscsi"
                scsi0:1.present = "TRUE"
                scsi0:1.fileName = "b.vmdk"
                scsi0:1.mode = "independent-nonpersistent"
                scsi0:0.present = "TRUE"
                scsi0:0.fileName = "a.vmdk"
                scsi0:2.present = "TRUE"
                scsi0:2.fileName = "[nas1] f/f.vmdk"
                """);
        assertThat(vm.disks()).extracting(d -> d.slot().get().vmxName())
                .containsExactly("scsi0:0", "scsi0:1", "scsi0:2", "nvme0:0", "sata0:1", "ide0:0");
        assertThat(vm.disks()).extracting(SourceDisk::id).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(vm.disks().get(1).mode()).isEqualTo(DiskMode.INDEPENDENT_NONPERSISTENT);
        assertThat(vm.disks().get(0).controllerModel()).contains("pvscsi");
        assertThat(((DiskLocation.LocalFile) vm.disks().get(2).location()).path()).isEqualTo(nas.resolve("f/f.vmdk"));
        assertThat(vm.disks().get(3).fileName()).isEqualTo("sub/e.vmdk");
        assertThat(vm.guestOs().family()).isEqualTo(GuestOsHint.OsFamily.WINDOWS);
        assertThat(vm.guestOs().arch()).isEqualTo(GuestOsHint.Arch.X86_64);
        assertThat(warnings).isEmpty();
    }

    @Test
    void vmfsVolumesPathsAndAbsoluteFolderMappings() throws Exception {
        Path old = Files.createDirectories(dir.resolve("old-host"));
        Files.copy(vmDir.resolve("a.vmdk"), old.resolve("x.vmdk"));
        SourceVm vm = read("""
                scsi0.present = "TRUE"
                scsi0:0.present = "TRUE"
                scsi0:0.fileName = "/vmfs/volumes/nas1/f/f.vmdk"
                scsi0:1.present = "TRUE"
                scsi0:1.fileName = "/data/vmware/x.vmdk"
                """, DatastoreMap.of(Map.of("nas1", nas, "/data/vmware", old)));
        assertThat(vm.disks()).extracting(d -> ((DiskLocation.LocalFile) d.location()).path())
                .containsExactly(nas.resolve("f/f.vmdk"), old.resolve("x.vmdk"));
        assertThat(vm.name()).isEqualTo("g"); // from the file name, with a warning
        assertThat(warnings).anyMatch(w -> w.contains("no displayName"));
    }

    @Test
    void allowDirPermitsAnAbsolutePathOutsideTheVmFolder() throws Exception {
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Files.copy(vmDir.resolve("a.vmdk"), elsewhere.resolve("y.vmdk"));
        String body = "scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \""
                + elsewhere.resolve("y.vmdk") + "\"\n";
        assertThatThrownBy(() -> read(body)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("is outside the allowed folders");
        Path vmx = vmDir.resolve("g.vmx");
        SourceVm vm = VmxSource.read(vmx, new SourceOptions(DatastoreMap.empty(), List.of(elsewhere)), warnings::add);
        assertThat(vm.disks()).hasSize(1);
    }

    @Test
    void diskEscapingTheFolderIsRefused() throws Exception {
        Files.createSymbolicLink(vmDir.resolve("link.vmdk"), dir.resolve("nas/f/f.vmdk"));
        assertThatThrownBy(() -> read("scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\n"
                + "scsi0:0.fileName = \"../nas/f/f.vmdk\"\n", DatastoreMap.empty()))
                .isInstanceOf(BadInputException.class)
                .hasMessageStartingWith(vmDir.resolve("g.vmx") + ":5: scsi0:0.fileName: disk '../nas/f/f.vmdk' is outside");
        assertThatThrownBy(() -> read("scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\n"
                + "scsi0:0.fileName = \"link.vmdk\"\n", DatastoreMap.empty()))
                .isInstanceOf(BadInputException.class).hasMessageContaining("is outside the allowed folders");
    }

    @Test
    void mediaOnEveryBusAndTheirBackings() throws Exception {
        SourceVm vm = read("""
                ide1:0.present = "TRUE"
                ide1:0.deviceType = "cdrom-image"
                ide1:0.fileName = "[nas1] install.iso"
                ide0:1.present = "TRUE"
                ide0:1.deviceType = "atapi-cdrom"
                ide0:1.fileName = "auto detect"
                sata0.present = "TRUE"
                sata0:0.present = "TRUE"
                sata0:0.deviceType = "cdrom-raw"
                sata0:0.clientDevice = "TRUE"
                sata0:0.fileName = "emptyBackingString"
                scsi0.present = "TRUE"
                scsi0:3.present = "TRUE"
                scsi0:3.deviceType = "cdrom-image"
                scsi0:3.fileName = "/vmfs/volumes/unknownds/x.iso"
                floppy0.present = "TRUE"
                floppy0.fileType = "file"
                floppy0.fileName = "missing.flp"
                floppy1.fileName = "vmware-null-remote-floppy"
                """);
        assertThat(vm.removables()).extracting(r -> r.type() + " " + r.slot().map(s -> s.vmxName()).orElse("fd" + r.floppyUnit())
                        + " " + r.backing() + " " + r.image().map(p -> p.getFileName().toString()).orElse("-"))
                .containsExactly("CDROM ide0:1 AUTO_DETECT -", "CDROM ide1:0 IMAGE install.iso",
                        "CDROM sata0:0 CLIENT_DEVICE -", "CDROM scsi0:3 IMAGE -", "FLOPPY fd0 IMAGE -");
        assertThat(vm.removables().get(1).slotIndex()).contains(2);
        assertThat(warnings).anyMatch(w -> w.contains("datastore 'unknownds' is not mapped") && w.contains("left empty"))
                .anyMatch(w -> w.contains("missing.flp") && w.contains("not found"));
    }

    @Test
    void nicsWithEveryAddressTypeAndConnection() throws Exception {
        SourceVm vm = read("""
                ethernet1.present = "TRUE"
                ethernet1.virtualDev = "vmxnet"
                ethernet1.features = "15"
                ethernet1.addressType = "static"
                ethernet1.address = "00:50:56:3F:00:01"
                ethernet1.connectionType = "nat"
                ethernet0.present = "TRUE"
                ethernet0.virtualDev = "vmxnet3"
                ethernet0.networkName = "VM Network"
                ethernet0.addressType = "vpx"
                ethernet0.generatedAddress = "00:50:56:9b:5f:0d"
                ethernet0.pciSlotNumber = "192"
                ethernet1.pciSlotNumber = "-1"
                ethernet2.pciSlotNumber = "slot"
                ethernet2.present = "TRUE"
                ethernet2.connectionType = "bridged"
                ethernet2.addressType = "generated"
                ethernet2.generatedAddress = "00:0c:29:bf:e4:5d"
                ethernet2.startConnected = "FALSE"
                ethernet3.present = "FALSE"
                ethernet3.generatedAddress = "00:0c:29:00:00:03"
                ethernet4.networkName = "not present"
                """);
        assertThat(vm.nics()).extracting(SourceNic::index).containsExactly(0, 1, 2);
        SourceNic n0 = vm.nics().get(0);
        assertThat(n0.model()).contains("vmxnet3");
        assertThat(n0.mac()).contains("00:50:56:9b:5f:0d");
        assertThat(n0.macType()).isEqualTo(SourceNic.MacType.VPX);
        assertThat(n0.vnetType()).isEqualTo(SourceNic.VnetType.NETWORK);
        assertThat(n0.vnet()).isEqualTo("VM Network");
        SourceNic n1 = vm.nics().get(1);
        assertThat(n1.model()).contains("vmxnet2");
        assertThat(n1.mac()).contains("00:50:56:3f:00:01");
        assertThat(n1.macType()).isEqualTo(SourceNic.MacType.STATIC);
        assertThat(n1.connection()).isEqualTo(SourceNic.Connection.NAT);
        SourceNic n2 = vm.nics().get(2);
        assertThat(n2.vnetType()).isEqualTo(SourceNic.VnetType.BRIDGE);
        assertThat(n2.vnet()).isEqualTo("ethernet2");
        assertThat(n2.startConnected()).isFalse();
        // ESXi's slot numbers, which the guest's predictable NIC names come from; -1 is "not placed yet"
        assertThat(n0.pciSlot()).hasValue(192);
        assertThat(n1.pciSlot()).isEmpty();
        assertThat(n2.pciSlot()).isEmpty();
        assertThat(warnings).anyMatch(w -> w.endsWith("ethernet2: 'slot' is not a PCI slot number: ignored"));
    }

    @Test
    void cpuFirmwareIdentityAndExtras() throws Exception {
        SourceVm vm = read("""
                memSize = "4096"
                numvcpus = "8"
                cpuid.coresPerSocket = "4"
                firmware = "efi"
                uefi.secureBoot.enabled = "TRUE"
                uuid.bios = "56 4d 6c 27 96 ea 12 07-6f 0b b1 1d 81 46 9b 0b"
                vc.uuid = "52 bb 00 73 da d0 a0 c7-ad 14 03 81 13 03 ed fe"
                vm.genid = "-802103094701856339"
                vm.genidX = "-5104727847056752683"
                vtpm.present = "TRUE"
                sound.present = "TRUE"
                sound.virtualDev = "hdaudio"
                svga.vramSize = "16777216"
                annotation = "line1|0Aline2"
                """);
        assertThat(vm.memoryBytes()).isEqualTo(4L << 30);
        assertThat(vm.cpu().vcpus()).isEqualTo(8);
        assertThat(vm.cpu().topology().get().sockets()).isEqualTo(2);
        assertThat(vm.firmware()).isEqualTo(Firmware.UEFI);
        assertThat(vm.secureBoot()).isTrue();
        assertThat(vm.biosUuid().get()).hasToString("564d6c27-96ea-1207-6f0b-b11d81469b0b");
        assertThat(vm.vcUuid().get()).hasToString("52bb0073-dad0-a0c7-ad14-03811303edfe");
        // virt-v2v prints this GUID for the same two numbers (test-i-vmx-7.expected)
        assertThat(vm.genid().get()).hasToString("2f0de9ad-5b7c-f4de-d53f-23b1115d28b9");
        assertThat(vm.vtpm()).isTrue();
        assertThat(vm.sound().get().qemuModel()).isEqualTo("ich6");
        assertThat(vm.video().get().vramBytes()).hasValue(16 << 20);
        assertThat(vm.annotation()).contains("line1\nline2");
    }

    @Test
    void defaultsAreVmwares() throws Exception {
        SourceVm vm = read("displayName = \"bare\"\n");
        assertThat(vm.memoryBytes()).isEqualTo(32L << 20);
        assertThat(vm.cpu().vcpus()).isEqualTo(1);
        assertThat(vm.firmware()).isEqualTo(Firmware.BIOS);
        assertThat(vm.disks()).isEmpty();
        assertThat(vm.removables()).isEmpty();
    }

    @Test
    void missingDiskAndOutOfRangeDevicesAreErrors() throws Exception {
        assertThatThrownBy(() -> read("scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\n"
                + "scsi0:0.fileName = \"nothere.vmdk\"\n"))
                .hasMessage(vmDir.resolve("g.vmx") + ":5: scsi0:0.fileName: disk 'nothere.vmdk' not found (looked for "
                        + vmDir.resolve("nothere.vmdk") + ")");
        assertThatThrownBy(() -> read("ide2:0.present = \"TRUE\"\nide2:0.fileName = \"a.vmdk\"\n"))
                .hasMessageContaining(":3: ide2:0.present: IDE channel 2 is out of range 0..1");
        assertThatThrownBy(() -> read("memsize = \"0\"\n")).hasMessageContaining(":3: memSize: 0 MB is outside");
    }

    @Test
    void devicesOfASwitchedOffControllerAreIgnoredWithAWarning() throws Exception {
        SourceVm vm = read("scsi0.present = \"FALSE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"a.vmdk\"\n");
        assertThat(vm.disks()).isEmpty();
        assertThat(warnings).anyMatch(w -> w.contains("scsi0:0 is ignored: its controller scsi0 is not present"));
        assertThat(vm.disks().stream().map(SourceDisk::bus)).doesNotContain(java.util.Optional.of(Bus.SCSI));
        assertThat(vm.removables()).extracting(RemovableMedia::type).isEmpty();
    }
}
