package org.jv2v.inspect;

import org.jv2v.image.BlockDevice;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Debian 12 guest (ext4 /, /boot and /srv on a logical partition, swap, MBR) made by sfdisk,
 * mkfs.ext4 -d and mkswap: what jv2v finds beyond virt-inspector's fields (those are compared
 * with virt-inspector in {@link VirtInspectorComparisonTest}), and the golden XML and JSON.
 */
class DebianGuestTest {
    static FileDevice disk;
    static Inspection in;
    static GuestInfo g;

    @BeforeAll
    static void inspect() throws Exception {
        TestGuests.Guest guest = TestGuests.debian();
        disk = FileDevice.open(guest.image());
        in = Inspector.inspect(List.<BlockDevice>of(disk), InspectOptions.defaults());
        assertThat(in.roots()).hasSize(1);
        g = in.roots().getFirst();
    }

    @AfterAll
    static void close() throws Exception {
        disk.close();
    }

    @Test
    void basics() {
        assertThat(g.root()).isEqualTo("/dev/sda4");
        assertThat(g.type()).isEqualTo("linux");
        assertThat(g.distro()).contains("debian");
        assertThat(g.productName()).contains("12.5");
        assertThat(g.majorVersion()).isEqualTo(12);
        assertThat(g.minorVersion()).isEqualTo(5);
        assertThat(g.arch()).as("from the host's own /usr/bin/ls, reached through the /bin -> usr/bin link")
                .contains("x86_64");
        assertThat(g.hostname()).contains("deb12");
        assertThat(g.osinfo()).contains("debian12");
    }

    @Test
    void mountPointsResolveUuidAndPartuuidAndSkipPseudoFilesystems() {
        assertThat(g.mountpoints()).containsExactly(new MountPoint("/", "/dev/sda4"),
                new MountPoint("/srv", "/dev/sda5"), new MountPoint("/boot", "/dev/sda1"));
        assertThat(g.filesystems()).extracting(FilesystemInfo::device)
                .containsExactly("/dev/sda1", "/dev/sda2", "/dev/sda4", "/dev/sda5");
        FilesystemInfo swap = g.filesystems().get(1);
        assertThat(swap.type()).isEqualTo("swap");
        assertThat(swap.uuid()).contains(TestGuests.DEBIAN_SWAP_UUID);
        assertThat(swap.label()).contains("swap0");
    }

    @Test
    void kernelsAndTheirVirtioDrivers() {
        assertThat(g.kernels()).extracting(Kernel::version).containsExactly("5.10.0-28-amd64", "6.1.0-18-amd64");
        Kernel old = g.kernels().get(0);
        assertThat(old.supportsVirtio()).isFalse();
        assertThat(old.drivers()).isEmpty();
        assertThat(old.initrd()).contains("/boot/initrd.img-5.10.0-28-amd64");
        Kernel k = g.kernels().get(1);
        assertThat(k.vmlinuz()).isEqualTo("/boot/vmlinuz-6.1.0-18-amd64");
        assertThat(k.modulesDir()).contains("/lib/modules/6.1.0-18-amd64");
        assertThat(k.config()).contains("/boot/config-6.1.0-18-amd64");
        assertThat(k.moduleCount()).isEqualTo(5);
        assertThat(k.drivers()).containsEntry("virtio_blk", "module").containsEntry("virtio_net", "module")
                .containsEntry("virtio_scsi", "module").containsEntry("virtio_pci", "module")
                .doesNotContainKey("virtio_balloon");
        assertThat(k.supportsVirtio()).isTrue();
    }

    @Test
    void bootLoaderInitNetworkFirmware() {
        assertThat(g.bootloader()).contains(new Bootloader("grub2", "bios", "/boot/grub/grub.cfg"));
        assertThat(g.initSystem()).isEqualTo("systemd");
        assertThat(g.network()).containsExactly(new NetworkConfig("ifupdown", "/etc/network/interfaces"));
        assertThat(in.firmware().kind()).isEqualTo(FirmwareInfo.Kind.BIOS);
        assertThat(in.firmware().mbrBootCode()).containsExactly("/dev/sda");
    }

    @Test
    void installedPackagesFromDpkgStatus() {
        assertThat(g.applications()).extracting(Application::name)
                .containsExactly("bash", "linux-image-6.1.0-18-amd64", "openssh-server", "tzdata");
        Application ssh = g.applications().get(2);
        assertThat(ssh.epoch()).isEqualTo(1);
        assertThat(ssh.version()).isEqualTo("9.2p1");
        assertThat(ssh.release()).isEqualTo("2+deb12u2");
        assertThat(ssh.sourcePackage()).isEqualTo("openssh");
    }

    @Test
    void freeSpaceIsCheckedWithVirtV2vsThresholds() {
        Map<String, Integer> needed = new java.util.TreeMap<>();
        for (FreeSpace.Check c : FreeSpace.check(g)) {
            needed.put(c.mountPoint(), c.neededMegabytes());
            assertThat(c.freeBytes()).as(c.mountPoint()).isPresent();
            assertThat(c.enough()).as(c.describe()).isTrue();
        }
        assertThat(needed).isEqualTo(Map.of("/", 100, "/boot", 10, "/srv", 10));
    }

    @Test
    void goldenXmlAndJson() throws Exception {
        Golden.check("inspect/debian.xml", InspectorXml.write(in.roots(), true));
        Golden.check("inspect/debian.json", InspectorJson.write(in, true));
    }
}
