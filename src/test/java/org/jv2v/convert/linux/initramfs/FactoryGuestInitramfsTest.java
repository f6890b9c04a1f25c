package org.jv2v.convert.linux.initramfs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jv2v.convert.linux.compress.Compression;
import org.jv2v.convert.linux.kmod.ModuleTree;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystems;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.TestGuest;
import org.jv2v.testing.TestGuests;
import org.jv2v.testing.Tools;
import org.jv2v.volume.Volume;
import org.jv2v.volume.Volumes;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The initramfs of the factory's Debian 12 guest, as the converter meets it: read with jv2v's own
 * VMDK, MBR and ext4 readers from the guest's disk (systemd-based dracut image, gzip, built by
 * the guest's dracut without any virtio module), edited with the kernel's module folder read the
 * same way; the guest's files are not written. dracut's lsinitrd sees the old files plus the added
 * ones (the index files are compared with depmod's in the other tests of this package). With
 * {@code -Djv2v.initramfs.bootFactoryImage=true} the guest's kernel boots the edited image on
 * virtio-blk: systemd in the initramfs, udev loads virtio_pci then virtio_blk by their aliases,
 * the root is mounted and switched to. By default that boot (minutes under TCG) is left to the
 * conversion's end-to-end test, which boots the whole converted guest; {@link DracutImageTest}
 * boots a smaller dracut image, edited and not.
 */
class FactoryGuestInitramfsTest {
    /** The guest's initramfs and kernel are some tens of MiB. */
    static final int MAX_BOOT_FILE = 256 << 20;
    static final String BOOT_PROPERTY = "jv2v.initramfs.bootFactoryImage";

    @Test
    void factoryGuestsDracutImageGetsVirtio(@TempDir Path tmp) throws Exception {
        Tools.require("lsinitrd");
        TestGuests.Built guest = TestGuests.get(TestGuest.DEBIAN12_BIOS);
        Map<String, String> sums = Checksums.of(guest.dir());
        Path original = tmp.resolve("initrd.img");
        Path vmlinuz = tmp.resolve("vmlinuz");
        VirtioInitramfs.Result r;
        String kver;
        try (OpenedImage img = Images.open(guest.vmdk(), OpenContext.of(PathGuard.folderOf(guest.vmdk())))) {
            FileSystem root = rootOf(Volumes.scan(List.of(img.device())).volumes());
            List<String> kernels = root.list("/lib/modules").stream().map(DirEntry::name)
                    .filter(n -> !n.equals(".") && !n.equals("..")).toList();
            assertThat(kernels).hasSize(1);
            kver = kernels.getFirst();
            byte[] image = root.readAll("/boot/initrd.img-" + kver, MAX_BOOT_FILE);
            Files.write(original, image);
            Files.write(vmlinuz, root.readAll("/boot/vmlinuz-" + kver, MAX_BOOT_FILE));
            r = VirtioInitramfs.addVirtio(image, "/boot/initrd.img-" + kver, ModuleTree.onFileSystem(root, kver));
        }
        assertThat(Checksums.of(guest.dir())).as("the guest is not written").isEqualTo(sums);

        assertThat(r.outcome()).isEqualTo(VirtioInitramfs.Outcome.ADDED);
        assertThat(r.flavor()).isEqualTo(VirtioInitramfs.Flavor.DRACUT);
        assertThat(r.loadsByAlias()).isTrue();
        assertThat(r.compression()).isEqualTo(Compression.GZIP);
        String dir = "usr/lib/modules/" + kver;
        assertThat(r.addedFiles()).contains(dir + "/kernel/drivers/block/virtio_blk.ko",
                dir + "/kernel/drivers/virtio/virtio_pci.ko", dir + "/kernel/drivers/scsi/virtio_scsi.ko",
                dir + "/kernel/drivers/net/virtio_net.ko");
        Path edited = tmp.resolve("initrd.img-virtio");
        Files.write(edited, r.image());

        List<String> before = DracutImageTest.lsinitrd(original);
        assertThat(before).contains("usr/lib/systemd/systemd", "usr/lib/udev/rules.d/80-drivers.rules")
                .noneMatch(p -> p.contains("virtio"));
        List<String> expected = new ArrayList<>(before);
        expected.addAll(r.addedFiles());
        expected.sort(null);
        assertThat(DracutImageTest.lsinitrd(edited)).isEqualTo(expected);

        // The boot of this image takes 4 to 6 minutes under TCG on a busy 2-core machine: only on request.
        if (!Boolean.getBoolean(BOOT_PROPERTY)) {
            System.err.println("NOTICE: not booting the edited factory initramfs (-D" + BOOT_PROPERTY + "=true boots it)");
            return;
        }
        Tools.require("qemu-system-x86_64", "mkfs.ext4", "busybox");
        Path disk = BootDisk.make(tmp);
        // rd.timeout: systemd's wait for the root device, which udev coldplug alone can exceed under TCG.
        String console = BootDisk.boot(vmlinuz, edited, disk, "rd.shell=0 rd.timeout=400", 590).get();
        assertThat(console).as("console of the edited image").contains("virtio_blk virtio0: [vda]")
                .contains(BootDisk.MARKER + " root=/dev/vda");
    }

    /** The filesystem holding /boot and /lib/modules: the guest's root. */
    static FileSystem rootOf(List<Volume> volumes) throws Exception {
        for (Volume v : volumes) {
            Optional<FileSystem> fs = FileSystems.open(v.device());
            if (fs.isEmpty()) {
                continue;
            }
            try {
                if (fs.get().stat("/lib/modules").isDirectory() && fs.get().stat("/boot").isDirectory()) {
                    return fs.get();
                }
            } catch (NoSuchFileException e) {
                // not the root
            }
            fs.get().close();
        }
        throw new AssertionError("no root filesystem among " + volumes.stream().map(Volume::name).toList());
    }
}
