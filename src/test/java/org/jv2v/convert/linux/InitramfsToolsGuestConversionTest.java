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
 * reference tools on the converted disk: that initramfs already holds every virtio driver, so jv2v
 * must not rewrite it (its sha256, taken by the build right after update-initramfs, is unchanged,
 * and lsinitramfs reads it), the NIC's name is kept by the same .link file as on the dracut guest
 * (golden), and the edited root passes e2fsck -fn. {@link InitramfsVirtioBootTest} boots the result.
 */
class InitramfsToolsGuestConversionTest {
    static final String VARIANT = "debian12-initramfs-tools";
    private static final long ROOT_OFFSET = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void initramfsWithVirtioAlreadyIsLeftAloneAndTheNicNameIsKept() throws Exception {
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
     * e2fsck, debugfs, sha256sum and lsinitramfs; shared with the boot test.
     */
    static void checkConverted(TestGuests.Built built, Path disk, Jv2vRun.Result run, Path work) throws Exception {
        Tools.require("debugfs", "e2fsck", "lsinitramfs", "sha256sum");
        String kver = Files.readString(built.dir().resolve("kernel-version")).strip();
        String builtSum = Files.readString(built.dir().resolve("initrd.sha256")).strip().split("\\s+")[0];
        String initrd = "/boot/initrd.img-" + kver;
        assertThat(run.stdout()).as(run.all())
                .contains("NIC names kept: " + TestGuest.VMWARE_NIC_NAME + " = " + TestGuest.DEBIAN12_BIOS.mac())
                .contains("the initramfs of " + kver + ": already holds every module needed")
                .contains("left " + initrd + " unchanged").doesNotContain("rebuilt " + initrd);
        String fs = disk + "?offset=" + ROOT_OFFSET;

        Run.Result fsck = Run.run(List.of("e2fsck", "-fn", fs), null, Map.of(), 300);
        assertThat(fsck.exitCode()).as("e2fsck -fn on the converted root\n" + fsck.all()).isZero();

        Path dumped = work.resolve("initrd.img");
        Run.Result dump = Run.run(List.of("debugfs", "-R", "dump " + initrd + " " + dumped, fs), null, Map.of(), 120);
        assertThat(dumped).as(dump.all()).isRegularFile();
        assertThat(Tools.run("sha256sum", dumped.toString()).stdout().split("\\s+")[0])
                .as("the initramfs after conversion is the one update-initramfs wrote").isEqualTo(builtSum);
        String listing = Tools.run("lsinitramfs", dumped.toString()).stdout();
        assertThat(listing).contains("/virtio_pci.ko", "/virtio_blk.ko", "/virtio_scsi.ko", "/virtio_net.ko",
                "systemd-udevd", "80-net-setup-link.rules", "99-default.link").doesNotContain("jv2v");
        Files.delete(dumped);

        Run.Result link = Run.run(List.of("debugfs", "-R", "cat /etc/systemd/network/10-jv2v-ens192.link", fs));
        assertThat(link.exitCode()).as(link.all()).isZero();
        DebianGuestConversionTest.Golden.check("convert/debian12-bios/virtio-blk/10-jv2v-ens192.link", link.stdout());
    }
}
