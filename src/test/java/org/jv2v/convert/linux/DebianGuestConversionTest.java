package org.jv2v.convert.linux;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.Corpus;
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
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conversion of the factory's Debian 12 guest (BIOS, ext4, pvscsi, ens192 with a static IP),
 * checked with e2fsprogs on the converted image: the edited files against golden files (the kernel
 * version, which follows Debian's archive, written as KVER), the filesystem clean by e2fsck -fn,
 * the initramfs holding the virtio drivers by dracut's own lsinitrd, and the source unchanged.
 * Booting the result is the end-to-end test's job.
 */
class DebianGuestConversionTest {
    /** The first partition (the root) of the factory guest starts at 1 MiB. */
    private static final long ROOT_OFFSET = 1 << 20;

    @TempDir
    Path dir;

    private static String normalize(String text, String kver) {
        return text.replace(kver, "KVER");
    }

    private static String kernelVersion(String stdout) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("kernel: (\\S+) \\(").matcher(stdout);
        assertThat(m.find()).as("the plan names the kernel:\n" + stdout).isTrue();
        return m.group(1);
    }

    private static Map<Path, String> sources(TestGuests.Built g) throws Exception {
        return Map.of(g.vmx(), Checksums.sha256(g.vmx()), g.vmdk(), Checksums.sha256(g.vmdk()));
    }

    private static void assertUnchanged(Map<Path, String> before) throws Exception {
        for (Map.Entry<Path, String> e : before.entrySet()) {
            assertThat(Checksums.sha256(e.getKey())).as("source " + e.getKey()).isEqualTo(e.getValue());
        }
    }

    private static String debugfsCat(Path image, String path) throws Exception {
        Run.Result r = Run.run(List.of("debugfs", "-R", "cat " + path, image + "?offset=" + ROOT_OFFSET), null,
                Map.of(), 120);
        assertThat(r.exitCode()).as(r.all()).isZero();
        return r.stdout();
    }

    @Test
    void planPrintsEveryChangeAndTouchesNothing() throws Exception {
        TestGuests.Built g = TestGuests.get(TestGuest.DEBIAN12_BIOS);
        var before = sources(g);
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.ok("-i", "vmx", g.vmx().toString(), "-o", "local", "-os", out.toString(), "--plan");
        String kver = kernelVersion(r.stdout());
        String plan = r.stdout().substring(r.stdout().indexOf("Conversion plan for"));
        Golden.check("convert/debian12-bios/plan-virtio-blk.txt", normalize(plan, kver));
        assertThat(r.stdout()).doesNotContain("Copying disk", "Creating output metadata");
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.toList()).as("--plan writes nothing").isEmpty();
        }
        Jv2vRun.Result scsi = Jv2vRun.ok("-i", "vmx", g.vmx().toString(), "--plan", "--block-driver", "virtio-scsi");
        Golden.check("convert/debian12-bios/plan-virtio-scsi.txt",
                normalize(scsi.stdout().substring(scsi.stdout().indexOf("Conversion plan for")), kver));
        assertUnchanged(before);
    }

    @Test
    void convertedToVirtioBlkTheFilesAreEditedAndTheFilesystemIsClean() throws Exception {
        Tools.require("debugfs", "e2fsck", "lsinitrd");
        TestGuests.Built g = TestGuests.get(TestGuest.DEBIAN12_BIOS);
        var before = sources(g);
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.ok("-i", "vmx", g.vmx().toString(), "-o", "local", "-os", out.toString());
        assertThat(r.stdout()).contains("Creating an overlay to protect the source from being modified",
                "Inspecting the overlay", "Converting Debian GNU/Linux 12 (bookworm) to run on KVM",
                "disks: virtio-blk (the guest has virtio drivers (conversion))",
                "ethernet0: virtio-net (the guest has virtio drivers (conversion))", "Copying disk 1/1");
        assertThat(r.stdout().indexOf("Converting Debian")).isLessThan(r.stdout().indexOf("Copying disk 1/1"));
        String kver = kernelVersion(r.stdout());
        Path disk = out.resolve("debian12-bios-sda");
        assertUnchanged(before);

        Run.Result fsck = Run.run(List.of("e2fsck", "-fn", disk + "?offset=" + ROOT_OFFSET), null, Map.of(), 300);
        assertThat(fsck.exitCode()).as(fsck.all()).isZero();
        for (String[] f : new String[][] {{"/etc/fstab", "fstab"}, {"/etc/default/grub", "default-grub"},
                {"/boot/grub/grub.cfg", "grub.cfg"}, {"/etc/systemd/network/10-jv2v-ens192.link", "10-jv2v-ens192.link"},
                {"/etc/network/interfaces", "interfaces"}}) {
            Golden.check("convert/debian12-bios/virtio-blk/" + f[1], normalize(debugfsCat(disk, f[0]), kver));
        }

        Path initrd = dir.resolve("initrd.img");
        Run.Result dump = Run.run(List.of("debugfs", "-R", "dump /boot/initrd.img-" + kver + " " + initrd,
                disk + "?offset=" + ROOT_OFFSET), null, Map.of(), 120);
        assertThat(dump.exitCode()).as(dump.all()).isZero();
        Run.Result ls = Run.run(List.of("lsinitrd", initrd.toString()), null, Map.of(), 300);
        assertThat(ls.exitCode()).as(ls.all()).isZero();
        assertThat(ls.stdout()).contains("kernel/drivers/block/virtio_blk.ko", "kernel/drivers/virtio/virtio_pci.ko",
                "kernel/drivers/scsi/virtio_scsi.ko", "kernel/drivers/virtio/virtio_ring.ko");
        // the libvirt XML puts the disk on virtio-blk and the NIC on virtio-net, with the source's MAC
        String xml = Files.readString(out.resolve("debian12-bios.xml"));
        assertThat(xml).contains("bus='virtio'", "<model type='virtio'/>", "00:50:56:3a:12:01");
    }

    /** Golden files under src/test/resources/golden ({@code -Djv2v.golden.update=true} rewrites them). */
    static final class Golden {
        private static final Path GOLDEN = Corpus.projectDir().resolve("src/test/resources/golden");

        static void check(String name, String text) throws Exception {
            Path golden = GOLDEN.resolve(name);
            if (Boolean.getBoolean("jv2v.golden.update")) {
                Files.createDirectories(golden.getParent());
                Files.writeString(golden, text);
            }
            assertThat(text).as("golden file " + name).isEqualTo(Files.readString(golden));
        }
    }
}
