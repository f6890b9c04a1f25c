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
 * The conversion of the factory's RHEL-like guest (UEFI, GPT, XFS /boot, XFS root on LVM, BLS
 * entries, zstd initramfs): the plan against a golden file, and after a real conversion both XFS
 * filesystems pass xfs_repair -n, the initramfs holds the virtio modules (lsinitrd), the NIC pin
 * is on the root LV, and the source is unchanged. Booting it is the end-to-end test's job.
 */
class RhelLikeGuestConversionTest {
    /** GPT partitions as the factory lays them out, in sectors: p2 /boot, p3 the LVM PV. */
    private static final long BOOT_START = 206848;
    private static final long BOOT_SECTORS = 655360;
    private static final long PV_START = 862208;

    @TempDir
    Path dir;

    private static String kernelVersion(String stdout) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("kernel: (\\S+) \\(").matcher(stdout);
        assertThat(m.find()).as(stdout).isTrue();
        return m.group(1);
    }

    /** The bytes [offset, offset + length) of {@code image} as a sparse file of their own. */
    private Path extract(Path image, long offset, long length, String name) throws Exception {
        Path out = dir.resolve(name);
        Run.Result r = Run.run(List.of("dd", "if=" + image, "of=" + out, "bs=1M", "iflag=skip_bytes,count_bytes",
                "skip=" + offset, "count=" + length, "conv=sparse", "status=none"), dir, Map.of(), 300);
        assertThat(r.exitCode()).as(r.all()).isZero();
        return out;
    }

    private static void xfsRepairClean(Path fs) throws Exception {
        Run.Result r = Run.run(List.of("xfs_repair", "-n", "-f", fs.toString()), null, Map.of(), 300);
        assertThat(r.exitCode()).as(r.all()).isZero();
    }

    @Test
    void planThenConversionLeaveBothXfsFilesystemsClean() throws Exception {
        Tools.require("xfs_repair", "xfs_db", "dd", "lsinitrd");

        TestGuests.Built g = TestGuests.get(TestGuest.RHEL_LIKE_UEFI);
        String vmdkSum = Checksums.sha256(g.vmdk());
        String vmxSum = Checksums.sha256(g.vmx());

        Jv2vRun.Result plan = Jv2vRun.ok("-i", "vmx", g.vmx().toString(), "--plan");
        String kver = kernelVersion(plan.stdout());
        DebianGuestConversionTest.Golden.check("convert/rhel-like-uefi/plan-virtio-blk.txt",
                plan.stdout().substring(plan.stdout().indexOf("Conversion plan for")).replace(kver, "KVER"));

        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.ok("-i", "vmx", g.vmx().toString(), "-o", "local", "-os", out.toString());
        assertThat(r.stdout()).contains("firmware: UEFI (OVMF) (as on the source)",
                "disks: virtio-blk (the guest has virtio drivers (conversion))", "rebuilt /boot/initramfs-" + kver);
        assertThat(Checksums.sha256(g.vmdk())).isEqualTo(vmdkSum);
        assertThat(Checksums.sha256(g.vmx())).isEqualTo(vmxSum);
        Path disk = out.resolve("rhel-like-uefi-sda");

        Path boot = extract(disk, BOOT_START * 512, BOOT_SECTORS * 512, "boot.xfs");
        xfsRepairClean(boot);
        // the root LV is the VG's first: it starts at the PV's first extent (pe_start 1 MiB)
        Path root = extract(disk, PV_START * 512 + (1 << 20), 3200L << 20, "root.xfs");
        xfsRepairClean(root);

        Path initrd = dir.resolve("initramfs.img");
        // the initramfs and the BLS entry read back by jv2v's reader from the checked /boot; lsinitrd reads the image
        try (var dev = org.jv2v.testing.FileDevice.open(boot);
             var fs = org.jv2v.fs.FileSystems.open(dev).orElseThrow()) {
            Files.write(initrd, fs.readAll("/initramfs-" + kver + ".img", 1 << 30));
            assertThat(new String(fs.readAll("/loader/entries/" + fs.list("/loader/entries").stream()
                    .map(org.jv2v.fs.DirEntry::name).filter(n -> n.endsWith(".conf")).findFirst().orElseThrow(),
                    1 << 20))).contains("root=/dev/mapper/rhel-root");
        }
        Run.Result ls = Run.run(List.of("lsinitrd", initrd.toString()), null, Map.of(), 300);
        assertThat(ls.exitCode()).as(ls.all()).isZero();
        assertThat(ls.stdout()).contains("kernel/drivers/block/virtio_blk.ko", "kernel/drivers/virtio/virtio_pci.ko",
                "kernel/drivers/scsi/virtio_scsi.ko", "kernel/drivers/md/dm-mod.ko");
        try (var dev = org.jv2v.testing.FileDevice.open(root);
             var fs = org.jv2v.fs.FileSystems.open(dev).orElseThrow()) {
            assertThat(new String(fs.readAll("/etc/systemd/network/10-jv2v-ens192.link", 4096)))
                    .contains("MACAddress=00:50:56:3a:12:02", "Name=ens192");
        }
    }
}
