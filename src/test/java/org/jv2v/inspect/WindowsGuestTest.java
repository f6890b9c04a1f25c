package org.jv2v.inspect;

import org.jv2v.image.BlockDevice;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The phony Windows Server 2022 (NTFS by mkntfs, folders and files put there by ntfs-3g in
 * libguestfs's appliance, SOFTWARE and SYSTEM hives merged by hivexregedit from .reg text): what
 * jv2v reads from the registry beyond virt-inspector's fields (those are compared in
 * {@link VirtInspectorComparisonTest}).
 */
class WindowsGuestTest {
    static FileDevice disk;
    static Inspection in;
    static GuestInfo g;

    @BeforeAll
    static void inspect() throws Exception {
        disk = FileDevice.open(TestGuests.windows().image());
        in = Inspector.inspect(List.<BlockDevice>of(disk), InspectOptions.defaults());
        assertThat(in.roots()).hasSize(1);
        g = in.roots().getFirst();
    }

    @AfterAll
    static void close() throws Exception {
        disk.close();
    }

    @Test
    void productVersionAndArchitecture() {
        assertThat(g.root()).isEqualTo("/dev/sda2");
        assertThat(g.type()).isEqualTo("windows");
        assertThat(g.productName()).contains("Windows Server 2022 Standard");
        assertThat(g.productVariant()).contains("Server");
        assertThat(g.majorVersion()).as("CurrentMajorVersionNumber wins over CurrentVersion 6.3").isEqualTo(10);
        assertThat(g.minorVersion()).isEqualTo(0);
        assertThat(g.arch()).as("from cmd.exe's PE header").contains("x86_64");
        assertThat(g.osinfo()).contains("win2k22");
    }

    @Test
    void controlSetHostNameAndDriveLetters() {
        WindowsInfo w = g.windows().orElseThrow();
        assertThat(w.systemRoot()).isEqualTo("/Windows");
        assertThat(w.currentControlSet()).contains("ControlSet001");
        assertThat(g.hostname()).as("ControlSet002's name is not used").contains("win-jv2vtest");
        assertThat(g.driveMappings()).as("D: (a CD-ROM path) and E: (a GPT partition on no disk) are not mapped")
                .containsExactly(new DriveMapping("C", "/dev/sda2"));
        assertThat(g.mountpoints()).containsExactly(new MountPoint("/", "/dev/sda2"));
    }

    @Test
    void editionServicesAndVirtioDrivers() {
        WindowsInfo w = g.windows().orElseThrow();
        assertThat(w.editionId()).contains("ServerStandard");
        assertThat(w.currentBuild()).contains("20348");
        assertThat(w.services()).extracting(WindowsInfo.WindowsService::name)
                .containsExactlyInAnyOrder("Tcpip", "pvscsi", "vmxnet3ndis6", "viostor", "netkvm", "W32Time");
        assertThat(w.services().stream().filter(WindowsInfo.WindowsService::isDriver)
                .map(WindowsInfo.WindowsService::name)).containsExactlyInAnyOrder("pvscsi", "vmxnet3ndis6", "viostor",
                "netkvm");
        assertThat(w.virtioDrivers()).containsExactlyInAnyOrder("viostor", "netkvm");
        WindowsInfo.WindowsService viostor = w.services().stream().filter(s -> s.name().equals("viostor")).findFirst()
                .orElseThrow();
        assertThat(viostor.start()).isZero();
        assertThat(viostor.imagePath()).contains("System32\\drivers\\viostor.sys");
        assertThat(g.initSystem()).isEqualTo("windows");
        assertThat(g.network()).extracting(NetworkConfig::style).containsExactly("windows");
    }

    @Test
    void installedProgramsFromTheUninstallKeys() {
        assertThat(g.applications()).extracting(Application::name).as("KB5034439 has no DisplayName")
                .containsExactly("7-Zip", "Notepad++", "{4F2F7A1C-4A4B-4F4E-8B8A-5A2E9B1C0D11}");
        Application zip = g.applications().getFirst();
        assertThat(zip.displayName()).isEqualTo("7-Zip 23.01 (x64)");
        assertThat(zip.version()).isEqualTo("23.01");
        assertThat(zip.installPath()).isEqualTo("C:\\Program Files\\7-Zip\\");
        assertThat(zip.publisher()).isEqualTo("Igor Pavlov");
    }

    /**
     * Both hives damaged inside the NTFS (a flipped byte of each base block, where hivex's checksum
     * catches it): the guest is still found as Windows, the registry's facts are left out with a
     * note naming the hive and the checksum, and nothing hangs or throws.
     */
    @Test
    void damagedHivesAreNotedNotFatal(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path copy = java.nio.file.Files.copy(TestGuests.windows().image(), tmp.resolve("w.img"));
        int damaged = 0;
        try (var ch = java.nio.channels.FileChannel.open(copy, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4096);
            for (long at = 0; at < ch.size(); at += 4096) {
                ch.read(b.clear(), at);
                if (b.get(0) == 'r' && b.get(1) == 'e' && b.get(2) == 'g' && b.get(3) == 'f') {
                    ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) (b.get(0x10) ^ 0x55)}), at + 0x10); // 0x10 timestamp
                    damaged++;
                }
            }
        }
        assertThat(damaged).as("the SOFTWARE and SYSTEM base blocks").isEqualTo(2);
        try (FileDevice d = FileDevice.open(copy)) {
            Inspection broken = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
                    () -> Inspector.inspect(List.<BlockDevice>of(d), InspectOptions.defaults()));
            GuestInfo w = broken.roots().getFirst();
            assertThat(w.type()).isEqualTo("windows");
            assertThat(w.productName()).isEmpty();
            assertThat(w.hostname()).isEmpty();
            assertThat(w.notes()).anySatisfy(n -> assertThat(n).startsWith("registry: ").contains("checksum")
                    .doesNotContain("\n"));
        }
    }

    @Test
    void bothNtfsVolumesAreNamed() {
        assertThat(in.volumes()).extracting(v -> v.info().type()).containsExactly("ntfs", "ntfs");
        assertThat(in.volumes().getFirst().info().label()).contains("System Reserved");
        assertThat(in.volumes().get(1).info().uuid()).contains("4A5632560000C0DE");
        assertThat(in.firmware().kind()).isEqualTo(FirmwareInfo.Kind.BIOS);
    }
}
