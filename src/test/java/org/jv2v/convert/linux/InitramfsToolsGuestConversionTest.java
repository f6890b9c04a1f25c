package org.jv2v.convert.linux;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.TestGuest;
import org.jv2v.testing.TestGuests;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conversion of a Debian 12 guest whose initramfs was built by initramfs-tools with
 * {@code MODULES=most} (the factory's {@code debian12-initramfs-tools} variant), checked with the
 * reference tools on the converted disk. That initramfs already holds every virtio driver, so no
 * module is added to it; but its udev names NICs (80-net-setup-link.rules) and it holds
 * virtio_net, so the NIC is named there, before the real root's .link files are read. jv2v
 * therefore puts its .link file into the image as well: unmkinitramfs of the image before and
 * after differ by that file alone (diff -r), which is the golden .link file of the dracut guest;
 * lsinitramfs reads the new image; the edited root passes e2fsck -fn; the source is unchanged.
 * {@link InitramfsVirtioBootTest} boots the result.
 */
class InitramfsToolsGuestConversionTest {
    static final String VARIANT = "debian12-initramfs-tools";
    private static final long ROOT_OFFSET = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void initramfsWithVirtioAlreadyGetsOnlyTheNicLinkFile() throws Exception {
        ConverterPresent.require();
        TestGuests.Built built = TestGuests.variant(VARIANT, TestGuest.DEBIAN12_BIOS);
        Map<String, String> before = Checksums.of(built.dir());
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result run = Jv2vRun.ok("-i", "vmx", built.vmx().toString(), "-o", "local", "-os", out.toString());
        assertThat(Checksums.of(built.dir())).as("the source files are untouched").isEqualTo(before);
        assertThat(run.stdout()).contains("disks: virtio-blk (the guest has virtio drivers (conversion))",
                "ethernet0: virtio-net (the guest has virtio drivers (conversion))");
        checkConverted(built, out.resolve(VARIANT + "-sda"), run, dir);
    }

    /**
     * What a conversion of the variant must have done, read back from {@code disk} (raw) with
     * e2fsck, debugfs, unmkinitramfs, diff and lsinitramfs; shared with the boot test.
     */
    static void checkConverted(TestGuests.Built built, Path disk, Jv2vRun.Result run, Path work) throws Exception {
        Tools.require("debugfs", "e2fsck", "lsinitramfs", "unmkinitramfs", "diff", "sha256sum");
        String kver = Files.readString(built.dir().resolve("kernel-version")).strip();
        String initrd = "/boot/initrd.img-" + kver;
        String link = "etc/systemd/network/10-jv2v-ens192.link";
        assertThat(run.stdout()).as(run.all())
                .contains("NIC names kept: " + TestGuest.VMWARE_NIC_NAME + " = " + TestGuest.DEBIAN12_BIOS.mac())
                .contains("the initramfs of " + kver + ": already holds every module needed")
                .contains("the initramfs of " + kver + ": its udev names NICs and it holds virtio_net")
                .contains("add " + link + "; rewrite the zstd-compressed archive")
                .contains("rebuilt " + initrd);
        String fs = disk + "?offset=" + ROOT_OFFSET;

        Run.Result fsck = Run.run(List.of("e2fsck", "-fn", fs), null, Map.of(), 300);
        assertThat(fsck.exitCode()).as("e2fsck -fn on the converted root\n" + fsck.all()).isZero();

        // the image as update-initramfs wrote it, kept by the build, and as the converted guest has it
        Path original = built.dir().resolve("initrd.img");
        assertThat(Tools.run("sha256sum", original.toString()).stdout().split("\\s+")[0]).as("the build's copy")
                .isEqualTo(Files.readString(built.dir().resolve("initrd.sha256")).strip().split("\\s+")[0]);
        Path converted = work.resolve("initrd.img");
        Run.Result dump = Run.run(List.of("debugfs", "-R", "dump " + initrd + " " + converted, fs), null, Map.of(), 120);
        assertThat(converted).as(dump.all()).isRegularFile();
        String listing = Tools.run("lsinitramfs", converted.toString()).stdout();
        assertThat(listing).contains("/virtio_pci.ko", "/virtio_blk.ko", "/virtio_scsi.ko", "/virtio_net.ko",
                "systemd-udevd", "80-net-setup-link.rules", "99-default.link", link);
        Path before = work.resolve("unpacked-before");
        Path after = work.resolve("unpacked-after");
        Tools.run("unmkinitramfs", original.toString(), before.toString());
        Tools.run("unmkinitramfs", converted.toString(), after.toString());
        Run.Result diff = Run.run(List.of("diff", "-r", "--no-dereference", before.toString(), after.toString()));
        assertThat(diff.stdout().strip()).as("diff -r of the unpacked images\n" + diff.all())
                .isEqualTo("Only in " + after.resolve("etc") + ": systemd");
        assertThat(Tools.run("ls", "-A", after.resolve("etc/systemd/network").toString()).stdout().strip())
                .isEqualTo("10-jv2v-ens192.link");
        DebianGuestConversionTest.Golden.check("convert/debian12-bios/virtio-blk/10-jv2v-ens192.link",
                Files.readString(after.resolve(link)));

        Run.Result root = Run.run(List.of("debugfs", "-R", "cat /etc/systemd/network/10-jv2v-ens192.link", fs));
        assertThat(root.exitCode()).as(root.all()).isZero();
        DebianGuestConversionTest.Golden.check("convert/debian12-bios/virtio-blk/10-jv2v-ens192.link", root.stdout());
    }
}
