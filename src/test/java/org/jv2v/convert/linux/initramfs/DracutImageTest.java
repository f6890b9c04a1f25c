package org.jv2v.convert.linux.initramfs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jv2v.convert.linux.kmod.Depmod;
import org.jv2v.convert.linux.kmod.GuestKernel;
import org.jv2v.convert.linux.kmod.ModuleTree;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A dracut-built image, as the Debian 12 guest has, made with {@code --omit-drivers} for
 * the whole virtio family. dracut's images carry udev's 80-drivers.rules (load a module for every
 * device's MODALIAS through libkmod), so once the modules and kmod's indexes are in, udev loads
 * virtio_pci, then virtio_blk: no dracut configuration changes. Proven by booting it.
 */
class DracutImageTest {
    static final String VIRTIO_FAMILY = "virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev"
            + " virtio_blk virtio_scsi virtio_net net_failover failover virtio_console";

    @Test
    void dracutImageGetsVirtioAndBootsFromVirtioBlk(@TempDir Path tmp) throws Exception {
        Tools.require("dracut", "lsinitrd", "qemu-system-x86_64", "mkfs.ext4", "busybox");
        ModuleTree guest = ModuleTree.ofDirectory(GuestKernel.moduleDir());
        String kver = guest.kernelVersion();
        Path original = tmp.resolve("initramfs-dracut.img");
        // A small dracut image (no systemd, the modules a root on a SATA/SCSI disk needs), built as
        // dracut builds any: the guest's kmod, udev and its rules.
        Run.Result built = Run.run(List.of("dracut", "-q", "--force", "--no-hostonly", "--no-early-microcode",
                "--tmpdir", tmp.toString(), "-m", "base udev-rules rootfs-block", "--drivers", "ext4 sd_mod ata_piix",
                "--omit-drivers", VIRTIO_FAMILY, "--kver", kver, original.toString()), null, Map.of(), 300);
        assertThat(built.exitCode()).as(built.all()).isZero();
        List<String> before = lsinitrd(original);
        assertThat(before).contains("usr/lib/udev/rules.d/80-drivers.rules").noneMatch(p -> p.contains("virtio_blk"));

        VirtioInitramfs.Result r = VirtioInitramfs.addVirtio(Files.readAllBytes(original), original.toString(), guest);
        assertThat(r.outcome()).isEqualTo(VirtioInitramfs.Outcome.ADDED);
        assertThat(r.flavor()).isEqualTo(VirtioInitramfs.Flavor.DRACUT);
        assertThat(r.loadsByAlias()).as("udev's 80-drivers.rules is in the image").isTrue();
        Path edited = tmp.resolve("initramfs-virtio.img");
        Files.write(edited, r.image());

        // dracut's own lister sees the old files plus the new ones.
        List<String> expected = new ArrayList<>(before);
        expected.addAll(r.addedFiles());
        expected.sort(null);
        assertThat(lsinitrd(edited)).isEqualTo(expected);

        // The real depmod agrees with the index files.
        Path x = InitramfsEditorTest.unpack(edited, tmp.resolve("x"));
        Path check = tmp.resolve("check");
        Files.createDirectories(check);
        Run.checked(List.of("cp", "-a", x.resolve("usr").toString(), check.resolve("usr").toString()));
        Run.checked(List.of("depmod", "-b", check.resolve("usr").toString(), kver));
        for (String f : Depmod.OUTPUT_FILES) {
            assertThat(Files.readAllBytes(x.resolve("usr/lib/modules/" + kver + "/" + f))).as(f)
                    .isEqualTo(Files.readAllBytes(check.resolve("usr/lib/modules/" + kver + "/" + f)));
        }

        Path disk = BootDisk.make(tmp);
        // rd.shell=0 with short retries: a failed boot panics and QEMU stops instead of waiting.
        String args = "rd.shell=0 rd.retry=5 rd.timeout=20";
        var good = BootDisk.boot(GuestKernel.vmlinuz(), edited, disk, args);
        var bad = BootDisk.boot(GuestKernel.vmlinuz(), original, disk, args);
        assertThat(good.get()).as("console of the edited image").contains(BootDisk.MARKER + " root=/dev/vda");
        assertThat(bad.get()).as("console of the original image").doesNotContain(BootDisk.MARKER)
                .contains("/dev/vda does not exist");
    }

    /** The names lsinitrd lists (its ls -l lines), sorted, "." left out. */
    static List<String> lsinitrd(Path img) throws Exception {
        Run.Result r = Run.run(List.of("lsinitrd", img.toString()), null, Map.of(), 120);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        List<String> names = new ArrayList<>();
        for (String line : r.stdout().lines().toList()) {
            String[] f = line.trim().split("\\s+", 9);
            if (f.length == 9 && f[0].length() == 10 && "-dlcbps".indexOf(f[0].charAt(0)) >= 0) {
                String name = f[8].contains(" -> ") ? f[8].substring(0, f[8].indexOf(" -> ")) : f[8];
                if (!name.equals(".")) {
                    names.add(name);
                }
            }
        }
        names.sort(null);
        return names;
    }
}
