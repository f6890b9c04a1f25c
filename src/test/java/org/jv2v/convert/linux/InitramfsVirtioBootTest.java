package org.jv2v.convert.linux;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.QemuBoot;
import org.jv2v.testing.QemuBoot.BootResult;
import org.jv2v.testing.QemuBoot.BootSpec;
import org.jv2v.testing.QemuBoot.Outcome;
import org.jv2v.testing.TestGuest;
import org.jv2v.testing.TestGuests;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Debian 12 guest as most real ones are: initramfs-tools with {@code MODULES=most}, whose
 * initramfs already holds virtio_pci, virtio_blk, virtio_scsi and virtio_net, and a udev that names
 * NICs (80-net-setup-link.rules with the .link files the image was built with). The guest is the
 * factory's {@code debian12-initramfs-tools} variant (built at test time, kept in target/guests).
 *
 * <p>What the conversion must get right here, and this test proves by one TCG boot:
 * <ul>
 *   <li>the initramfs is left alone: it already has every driver, so its bytes after conversion
 *       are the ones the guest's update-initramfs wrote (sha256 at build time against debugfs's
 *       dump of the converted disk), and lsinitramfs still reads it;</li>
 *   <li>the NIC is named twice: first in the initramfs, by the default policy (virtio_net is
 *       loaded there and the image holds no jv2v .link file), then again by the real root's udev,
 *       which applies jv2v's {@code 10-jv2v-ens192.link} on the "add" event systemd-udev-trigger
 *       replays, renaming the still-down NIC to ens192. The kernel's "renamed from" lines on the
 *       console show both steps, and the guest's marker shows its static address on ens192;</li>
 *   <li>the root is found on virtio-blk ({@code root=/dev/vda1} in the marker) and the edited root
 *       filesystem is clean for e2fsck -fn.</li>
 * </ul>
 */
@Tag("boot")
class InitramfsVirtioBootTest {
    static final String VARIANT = InitramfsToolsGuestConversionTest.VARIANT;
    /** "virtio_net virtio1 enp2s0: renamed from eth0", as the kernel logs each rename. */
    private static final Pattern RENAMED = Pattern.compile("(\\S+): renamed from (\\S+)");
    /** "systemd[1]: systemd 252.39-1~deb12u1 running in system mode (...)": the real root's init starts. */
    private static final Pattern SYSTEMD_STARTS = Pattern.compile("systemd\\[1\\]: systemd \\d+\\S* running in system mode");

    @TempDir
    Path tmp;

    @Test
    void modulesMostGuestKeepsItsInitramfsAndComesUpWithItsStaticIpOnEns192() throws Exception {
        Tools.require("qemu-img", "qemu-system-x86_64");
        ConverterPresent.require();
        TestGuests.Built built = TestGuests.variant(VARIANT, TestGuest.DEBIAN12_BIOS);
        Map<String, String> before = Checksums.of(built.dir());
        Path out = Files.createDirectories(tmp.resolve("out"));

        long t0 = System.nanoTime();
        Jv2vRun.Result run = Jv2vRun.ok("-i", "vmx", built.vmx().toString(), "-o", "qemu", "-os", out.toString());
        System.err.printf("jv2v -o qemu on %s: %.1f s%n", VARIANT, (System.nanoTime() - t0) / 1e9);
        assertThat(Checksums.of(built.dir())).as("the source files are untouched").isEqualTo(before);
        Path disk = out.resolve(VARIANT + "-sda");
        InitramfsToolsGuestConversionTest.checkConverted(built, disk, run, tmp);

        // one boot on virtio-blk + virtio-net, the NIC behind a root port without a slot number (libvirt's placing)
        BootResult r = QemuBoot.boot(BootSpec.converted(built, disk, "raw", tmp.resolve("boot")));
        List<String> renames = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        Matcher m = RENAMED.matcher(r.console());
        while (m.find()) {
            renames.add(m.group(2) + " -> " + m.group(1));
            at.add(m.start());
        }
        Matcher systemd = SYSTEMD_STARTS.matcher(r.console());
        int realRoot = systemd.find() ? systemd.start() : -1;
        System.err.printf("%s converted, on virtio-blk + virtio-net: %s in %d s: %s; NIC renames: %s%n", VARIANT,
                r.outcome(), r.elapsed().toSeconds(), r.marker(), renames);
        assertThat(r.outcome()).as(r.describe()).isEqualTo(Outcome.MARKER);
        assertThat(r.marker().get("root")).as(r.describe()).isEqualTo("/dev/vda1");
        assertThat(r.ip()).as(r.describe()).isEqualTo(TestGuest.STATIC_IP);
        assertThat(r.marker().get("if")).as(r.describe()).isEqualTo(TestGuest.VMWARE_NIC_NAME);
        // the case under test happened: named by the initramfs's udev first, then renamed to ens192
        assertThat(renames).as("the kernel's rename lines\n" + r.describe()).hasSize(2);
        assertThat(renames.getFirst()).as(r.describe()).startsWith("eth0 -> ").doesNotEndWith(" ens192");
        assertThat(renames.get(1)).as(r.describe())
                .isEqualTo(renames.getFirst().substring("eth0 -> ".length()) + " -> ens192");
        // initramfs-tools runs no systemd: the first name is the initramfs's, the second the real root's
        assertThat(realRoot).as("systemd starting in the real root\n" + r.describe()).isPositive();
        assertThat(at.getFirst()).as("named in the initramfs\n" + r.describe()).isLessThan(realRoot);
        assertThat(at.get(1)).as("renamed to ens192 by the real root's udev\n" + r.describe()).isGreaterThan(realRoot);
    }
}
