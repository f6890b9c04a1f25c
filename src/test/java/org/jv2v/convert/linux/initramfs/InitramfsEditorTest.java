package org.jv2v.convert.linux.initramfs;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jv2v.convert.linux.kmod.Depmod;
import org.jv2v.convert.linux.kmod.GuestKernel;
import org.jv2v.convert.linux.kmod.Kmod;
import org.jv2v.convert.linux.kmod.ModuleTree;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The editor on an image Debian's mkinitramfs made for the guest kernel without virtio: the new
 * image lists and extracts with initramfs-tools' own lsinitramfs and unmkinitramfs exactly as the
 * old one plus the added files, the added modules are the guest's bytes, and the index files are
 * the ones the real depmod writes for the modules the new image holds.
 */
class InitramfsEditorTest {
    @TempDir
    static Path shared;
    static Path original;
    static ModuleTree guest;

    @BeforeAll
    static void buildImage() throws Exception {
        Path dir = GuestKernel.moduleDir();
        guest = ModuleTree.ofDirectory(dir);
        original = InitramfsFixtures.mkinitramfs(shared);
    }

    @Test
    void mkinitramfsImageGetsVirtioAsDepmodWouldIndexIt(@TempDir Path tmp) throws Exception {
        Map<String, String> sourceSums = Checksums.of(original.getParent());
        byte[] before = Files.readAllBytes(original);
        assertThat(InitramfsFixtures.lsinitramfs(original)).noneMatch(p -> p.contains("virtio_blk"));

        VirtioInitramfs.Result r = VirtioInitramfs.addDrivers(before, original.toString(), guest, Kmod.VIRTIO_MODULES);

        assertThat(r.changed()).isTrue();
        assertThat(r.outcome()).isEqualTo(VirtioInitramfs.Outcome.ADDED);
        assertThat(r.flavor()).isEqualTo(VirtioInitramfs.Flavor.INITRAMFS_TOOLS);
        assertThat(r.loadsByAlias()).as("udev's 80-drivers.rules is in the image").isTrue();
        Path edited = tmp.resolve("initrd.img-edited");
        Files.write(edited, r.image());
        String kver = guest.kernelVersion();
        String modDir = "usr/lib/modules/" + kver;
        assertThat(r.addedFiles()).contains(modDir + "/kernel/drivers/block/virtio_blk.ko",
                modDir + "/kernel/drivers/virtio/virtio_pci.ko", modDir + "/kernel/drivers/scsi/virtio_scsi.ko",
                modDir + "/kernel/drivers/net/virtio_net.ko", modDir + "/kernel/net/core/failover.ko");
        assertThat(r.indexFiles()).contains(modDir + "/modules.dep", modDir + "/modules.alias.bin");
        assertThat(r.plan()).anyMatch(l -> l.contains("add " + modDir + "/kernel/drivers/block/virtio_blk.ko"));

        // lsinitramfs: the old listing plus exactly the added files.
        List<String> expected = new ArrayList<>(InitramfsFixtures.lsinitramfs(original));
        expected.addAll(r.addedFiles());
        expected.sort(null);
        assertThat(InitramfsFixtures.lsinitramfs(edited)).isEqualTo(expected);

        // unmkinitramfs: every old file unchanged except the index files; the added modules are the guest's bytes.
        Path a = unpack(original, tmp.resolve("a"));
        Path b = unpack(edited, tmp.resolve("b"));
        Map<String, String> sumsA = Checksums.of(a);
        Map<String, String> sumsB = Checksums.of(b);
        for (var e : sumsA.entrySet()) {
            if (!r.indexFiles().contains(e.getKey())) {
                assertThat(sumsB.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
        }
        for (String f : r.addedFiles()) {
            if (f.endsWith(".ko")) {
                String rel = f.substring(modDir.length() + 1);
                assertThat(Files.readAllBytes(b.resolve(f))).as(f)
                        .isEqualTo(Files.readAllBytes(GuestKernel.moduleDir().resolve(rel)));
            }
        }

        // The real depmod, run on the unpacked new image, writes the very files we wrote.
        Path depmodRoot = tmp.resolve("depmod");
        Files.createDirectories(depmodRoot);
        Run.checked(List.of("cp", "-a", b.resolve("usr").toString(), depmodRoot.resolve("usr").toString()));
        Run.checked(List.of("depmod", "-b", depmodRoot.resolve("usr").toString(), kver));
        for (String f : Depmod.OUTPUT_FILES) {
            assertThat(Files.readAllBytes(b.resolve(modDir + "/" + f))).as(f)
                    .isEqualTo(Files.readAllBytes(depmodRoot.resolve(modDir + "/" + f)));
        }

        // kmod inside the new image resolves the virtio devices' aliases; the old image could not.
        assertThat(resolveAlias(b, kver, "virtio:d00000002v00001AF4")).isEqualTo("virtio_blk");
        assertThat(resolveAlias(b, kver, "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00")).isEqualTo("virtio_pci");
        assertThat(resolveAlias(b, kver, "virtio:d00000008v00001AF4")).isEqualTo("virtio_scsi");
        assertThat(resolveAlias(a, kver, "virtio:d00000002v00001AF4")).isEmpty();

        assertThat(Files.readAllBytes(original)).isEqualTo(before);
        assertThat(Checksums.of(original.getParent())).isEqualTo(sourceSums);
    }

    @Test
    void secondRunChangesNothing() throws Exception {
        byte[] once = VirtioInitramfs.addDrivers(Files.readAllBytes(original), "once", guest, Kmod.VIRTIO_MODULES).image();
        VirtioInitramfs.Result twice = VirtioInitramfs.addDrivers(once, "twice", guest, Kmod.VIRTIO_MODULES);
        assertThat(twice.changed()).isFalse();
        assertThat(twice.outcome()).isEqualTo(VirtioInitramfs.Outcome.ALREADY_PRESENT);
        assertThat(twice.image()).isSameAs(once);
        assertThat(twice.plan()).anyMatch(l -> l.contains("already holds every module needed"));
    }

    private static final String LINK_NAME = "10-jv2v-ens192.link";
    private static final byte[] LINK = "[Match]\nMACAddress=00:50:56:3a:12:01\n\n[Link]\nName=ens192\n"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);

    /**
     * An image that names NICs itself (mkinitramfs's, with udev's 80-net-setup-link.rules) and
     * holds virtio_net, as a MODULES=most one does: no module is needed, but the .link file goes
     * into etc/systemd/network. lsinitramfs lists the old files plus exactly the new ones,
     * unmkinitramfs extracts every old file unchanged and the .link file as given; a second run
     * changes nothing.
     */
    @Test
    void imageThatNamesNicsAndHoldsVirtioNetGetsTheLinkFile(@TempDir Path tmp) throws Exception {
        byte[] withVirtio = VirtioInitramfs.addDrivers(Files.readAllBytes(original), "once", guest,
                Kmod.VIRTIO_MODULES).image();
        Path a = tmp.resolve("initrd.img-virtio");
        Files.write(a, withVirtio);
        assertThat(InitramfsFixtures.lsinitramfs(a)).anyMatch(p -> p.endsWith("/80-net-setup-link.rules"))
                .anyMatch(p -> p.endsWith("/virtio_net.ko")).noneMatch(p -> p.contains("jv2v"));

        VirtioInitramfs.Result r = VirtioInitramfs.addDrivers(withVirtio, a.toString(), guest, Kmod.VIRTIO_MODULES,
                "virtio_net", Map.of(LINK_NAME, LINK));

        assertThat(r.outcome()).isEqualTo(VirtioInitramfs.Outcome.LINKS_ADDED);
        assertThat(r.changed()).isTrue();
        String link = "etc/systemd/network/" + LINK_NAME;
        assertThat(r.addedFiles()).containsExactly("etc/systemd", "etc/systemd/network", link);
        assertThat(r.indexFiles()).isEmpty();
        assertThat(r.plan()).anyMatch(l -> l.contains("its udev names NICs and it holds virtio_net"));
        Path b = tmp.resolve("initrd.img-link");
        Files.write(b, r.image());
        List<String> expected = new ArrayList<>(InitramfsFixtures.lsinitramfs(a));
        expected.addAll(r.addedFiles());
        expected.sort(null);
        assertThat(InitramfsFixtures.lsinitramfs(b)).isEqualTo(expected);
        Path ua = unpack(a, tmp.resolve("ua"));
        Path ub = unpack(b, tmp.resolve("ub"));
        Map<String, String> sumsB = new java.util.HashMap<>(Checksums.of(ub));
        assertThat(Files.readAllBytes(ub.resolve(link))).isEqualTo(LINK);
        sumsB.remove(link);
        assertThat(sumsB).isEqualTo(Checksums.of(ua));

        VirtioInitramfs.Result again = VirtioInitramfs.addDrivers(r.image(), "again", guest, Kmod.VIRTIO_MODULES,
                "virtio_net", Map.of(LINK_NAME, LINK));
        assertThat(again.outcome()).isEqualTo(VirtioInitramfs.Outcome.ALREADY_PRESENT);
        assertThat(again.image()).isSameAs(r.image());
        assertThat(again.plan()).anyMatch(l -> l.contains("already holds " + link));
    }

    /**
     * Without virtio_net in the image (the converter adds only the disk drivers) the NIC first
     * appears under the real root, where its .link file is: the image gets the disk drivers only.
     * With virtio_net added in the same run, the .link file goes in with it, in one rewrite.
     */
    @Test
    void linkFileOnlyWhereTheImageWillHoldVirtioNet() throws Exception {
        byte[] image = Files.readAllBytes(original);
        VirtioInitramfs.Result disks = VirtioInitramfs.addDrivers(image, "disks", guest,
                List.of("virtio_pci", "virtio_blk"), "virtio_net", Map.of(LINK_NAME, LINK));
        assertThat(disks.outcome()).isEqualTo(VirtioInitramfs.Outcome.ADDED);
        assertThat(disks.addedFiles()).noneMatch(f -> f.contains("systemd") || f.contains("virtio_net"));
        assertThat(disks.plan()).anyMatch(l -> l.contains("holds no virtio_net"));

        VirtioInitramfs.Result all = VirtioInitramfs.addDrivers(image, "all", guest, Kmod.VIRTIO_MODULES,
                "virtio_net", Map.of(LINK_NAME, LINK));
        assertThat(all.outcome()).isEqualTo(VirtioInitramfs.Outcome.ADDED);
        assertThat(all.addedFiles()).contains("etc/systemd/network/" + LINK_NAME)
                .anyMatch(f -> f.endsWith("/virtio_net.ko"));
        assertThat(InitramfsImage.parse(all.image(), "all", InitramfsLimits.DEFAULT)
                .read("etc/systemd/network/" + LINK_NAME).orElseThrow()).isEqualTo(LINK);
    }

    /**
     * The proof that counts: the guest's kernel with the edited image (mkinitramfs's archive as
     * Debian 12 compresses it, zstd; rewritten by jv2v's zstd encoder) finds its root on virtio-blk
     * and runs the root's /sbin/init; the original image, booted beside it, gives up waiting for
     * /dev/vda. QEMU with TCG.
     */
    @Test
    void editedImageBootsFromVirtioBlkAndTheOriginalDoesNot(@TempDir Path tmp) throws Exception {
        Tools.require("qemu-system-x86_64", "mkfs.ext4", "busybox", "zstd");
        Path kernel = GuestKernel.vmlinuz();
        Path zstdImage = InitramfsFixtures.compose(tmp, "initrd.img-zstd", null, InitramfsFixtures.gunzip(original), "zstd");
        VirtioInitramfs.Result r = VirtioInitramfs.addDrivers(Files.readAllBytes(zstdImage), zstdImage.toString(), guest,
                List.of("virtio_pci", "virtio_blk"));
        assertThat(r.compression()).isEqualTo(org.jv2v.convert.linux.compress.Compression.ZSTD);
        Path edited = tmp.resolve("initrd.img-virtio");
        Files.write(edited, r.image());
        Path disk = BootDisk.make(tmp);

        var withEdit = BootDisk.boot(kernel, edited, disk);
        // rootdelay: initramfs-tools waits 180 s for a missing root by default; 10 s shows the failure as well.
        var without = BootDisk.boot(kernel, original, disk, "rootdelay=10");
        String good = withEdit.get();
        String bad = without.get();

        assertThat(good).as("console of the edited image").contains(BootDisk.MARKER + " root=/dev/vda");
        assertThat(bad).as("console of the original image").doesNotContain(BootDisk.MARKER)
                .contains("/dev/vda does not exist");
    }

    static Path unpack(Path img, Path dir) throws IOException, InterruptedException {
        Tools.require("unmkinitramfs");
        Run.Result r = Run.run(List.of("unmkinitramfs", img.toString(), dir.toString()), null, Map.of(), 300);
        if (r.exitCode() != 0) {
            throw new AssertionError("unmkinitramfs failed: " + r.all());
        }
        // With an early archive unmkinitramfs puts a compressed main archive in main/, a second
        // uncompressed one in early2/.
        for (String sub : List.of("main", "early2")) {
            if (Files.isDirectory(dir.resolve(sub))) {
                return dir.resolve(sub);
            }
        }
        return dir;
    }

    static String resolveAlias(Path root, String kver, String alias) throws IOException, InterruptedException {
        Run.Result r = Run.run(List.of("modprobe", "-d", root.resolve("usr").toString(), "-S", kver, "-R", alias));
        return r.stdout().trim();
    }

    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }
}
