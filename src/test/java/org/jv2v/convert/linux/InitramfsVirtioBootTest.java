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
 * <p>Without jv2v's .link file in the initramfs, the NIC is named there by the default policy
 * (enp2s0 here) and only the real root's udev renames it to ens192, on the "add" event
 * systemd-udev-trigger replays, if the NIC is still down and systemd is 240 or newer (older
 * systemd never renames a NIC userspace has named: Ubuntu 18.04, Debian 9). jv2v puts the .link
 * file into such an image, so the NIC is named ens192 in the initramfs already. This test proves
 * it by one TCG boot of the converted guest on virtio-blk + virtio-net: the kernel logs a single
 * rename, "ens192: renamed from eth0", before systemd starts in the real root; the marker shows the
 * static address on ens192 and the root on /dev/vda1. {@link InitramfsToolsGuestConversionTest#checkConverted}
 * checks the converted disk with the reference tools first.
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
    void modulesMostGuestNamesItsNicEns192InTheInitramfsAndComesUpWithItsStaticIp() throws Exception {
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
        // named ens192 once, in the initramfs (initramfs-tools runs no systemd: before the real root's starts)
        assertThat(renames).as("the kernel's rename lines\n" + r.describe()).containsExactly("eth0 -> ens192");
        assertThat(realRoot).as("systemd starting in the real root\n" + r.describe()).isPositive();
        assertThat(at.getFirst()).as("named in the initramfs\n" + r.describe()).isLessThan(realRoot);
    }

    /**
     * The same converted guest booted with {@code net.naming-scheme=v238} on its kernel line, which gives systemd 252
     * the rule of systemd before 240 (no NAMING_ALLOW_RERENAMES: a NIC userspace has named is never
     * renamed again), as on Ubuntu 18.04 or Debian 9. Without the .link file in the initramfs such a
     * guest stays on enp2s0 with no address; with it the NIC is ens192 from the initramfs on.
     */
    @Test
    void withSystemdBefore240RenameRulesTheNicIsStillEns192() throws Exception {
        Tools.require("qemu-img", "qemu-system-x86_64", "debugfs", "e2fsck");
        ConverterPresent.require();
        TestGuests.Built built = TestGuests.variant(VARIANT, TestGuest.DEBIAN12_BIOS);
        Path out = Files.createDirectories(tmp.resolve("out"));
        Jv2vRun.ok("-i", "vmx", built.vmx().toString(), "-o", "qemu", "-os", out.toString());
        Path disk = out.resolve(VARIANT + "-sda");
        String fs = disk + "?offset=" + (1 << 20);
        Path cfg = tmp.resolve("grub.cfg");
        org.jv2v.testing.Run.Result dump = org.jv2v.testing.Run.run(List.of("debugfs", "-R",
                "dump /boot/grub/grub.cfg " + cfg, fs));
        assertThat(cfg).as(dump.all()).isRegularFile();
        String text = Files.readString(cfg);
        String patched = text.replaceAll("(?m)^(\\s*linux\\s+/boot/vmlinuz-\\S+ .*)$", "$1 net.naming-scheme=v238");
        assertThat(patched).isNotEqualTo(text);
        Path cmds = Files.writeString(tmp.resolve("cmds"), "rm /boot/grub/grub.cfg\nwrite "
                + Files.writeString(tmp.resolve("grub.new"), patched) + " /boot/grub/grub.cfg\n");
        org.jv2v.testing.Run.Result w = org.jv2v.testing.Run.run(List.of("debugfs", "-w", "-f", cmds.toString(), fs));
        assertThat(w.exitCode()).as(w.all()).isZero();
        org.jv2v.testing.Run.Result fsck = org.jv2v.testing.Run.run(List.of("e2fsck", "-fn", fs));
        assertThat(fsck.exitCode()).as(fsck.all()).isZero();

        BootResult r = QemuBoot.boot(BootSpec.converted(built, disk, "raw", tmp.resolve("boot")));
        System.err.printf("%s converted, net.naming-scheme=v238: %s in %d s: %s%n", VARIANT, r.outcome(),
                r.elapsed().toSeconds(), r.marker());
        assertThat(r.console()).as(r.describe()).contains("net.naming-scheme=v238");
        assertThat(r.outcome()).as(r.describe()).isEqualTo(Outcome.MARKER);
        assertThat(r.ip()).as(r.describe()).isEqualTo(TestGuest.STATIC_IP);
        assertThat(r.marker().get("if")).as(r.describe()).isEqualTo(TestGuest.VMWARE_NIC_NAME);
    }
}
