package org.jv2v.convert.linux;

import org.jv2v.cli.Main;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guests jv2v cannot convert stop before anything is copied or written, with one line saying what
 * is wrong (and a non-zero exit, no stack trace), and their files stay untouched. The guests are
 * small VMware-like Debian installs made here with the reference tools (sfdisk, mkfs.ext4 -d,
 * debugfs, qemu-img): a root filesystem with a Debian release, fstab, GRUB configuration, and a
 * kernel whose modules.dep has VMware's drivers but no virtio driver at all.
 *
 * <p>The tests assert behaviour, not wording: the exit code, one line, an empty output folder,
 * and the subject of the message (virtio; the journal / clean shutdown) loosely.
 */
class LinuxConversionRefusalTest {
    private static final String KVER = "6.1.0-99-amd64";
    private static final String ROOT_UUID = "3c1e9a52-7d44-4f0b-8e21-5a6b7c8d9e0f";

    @TempDir
    Path dir;
    Path out;

    @BeforeEach
    void tools() throws Exception {
        Tools.require("qemu-img", "sfdisk", "mkfs.ext4", "debugfs", "dd");
        ConverterPresent.require();
        out = Files.createDirectories(dir.resolve("out"));
    }

    @Test
    void kernelWithoutVirtioDriversIsRefusedBeforeCopying() throws Exception {
        Path vmx = buildGuest(false);

        Refusal r = convertExpectingRefusal(vmx);

        assertThat(r.message()).as(r.toString()).containsIgnoringCase("virtio");
    }

    @Test
    void rootWithUncleanJournalIsRefusedBeforeCopying() throws Exception {
        Path vmx = buildGuest(true);

        Refusal r = convertExpectingRefusal(vmx);

        // the journal is what is wrong (checked before the kernel, whose lack of virtio would be
        // the next refusal): the message says so, not the virtio one
        assertThat(r.message()).as(r.toString()).containsPattern("(?i)journal|clean");
        assertThat(r.message()).as(r.toString()).doesNotContainIgnoringCase("virtio");
    }

    record Refusal(int exitCode, String message, String stdout, String stderr) {}

    /** Runs jv2v -o qemu and checks the behaviour every refusal shares. */
    private Refusal convertExpectingRefusal(Path vmx) throws Exception {
        Map<String, String> before = Checksums.of(vmx.getParent());

        Jv2vRun.Result r = Jv2vRun.run("-i", "vmx", vmx.toString(), "-o", "qemu", "-os", out.toString());

        String desc = "exit " + r.exitCode() + "\n" + r.all();
        assertThat(r.exitCode()).as("an error the user can act on, not a bug: " + desc).isEqualTo(Main.EXIT_ERROR);
        List<String> errors = r.stderr().lines().filter(l -> l.startsWith("jv2v: error:")).toList();
        assertThat(errors).as(desc).hasSize(1);
        assertThat(r.stderr()).as("no stack trace: " + desc).doesNotContain("\tat ").doesNotContain("Exception");
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.toList()).as("stopped before copying or writing anything: " + desc).isEmpty();
        }
        assertThat(Checksums.of(vmx.getParent())).as("the source files are untouched").isEqualTo(before);
        System.err.println(vmx.getFileName() + ": " + errors.getFirst());
        return new Refusal(r.exitCode(), errors.getFirst(), r.stdout(), r.stderr());
    }

    /**
     * A 128 MiB MBR disk (VMDK) with one ext4 root: Debian 12's release files, an fstab naming the
     * root by UUID and swap as /dev/sda5, GRUB 2's grub.cfg with one entry, /boot/vmlinuz-KVER and
     * its initrd, and /lib/modules/KVER whose modules.dep lists pvscsi, mptspi and vmxnet3 only.
     * {@code dirty}: a transaction left in the journal (needs_recovery), as a crash leaves it.
     */
    private Path buildGuest(boolean dirty) throws Exception {
        Path guest = Files.createDirectories(dir.resolve("guest"));
        Path root = dir.resolve("tree");
        write(root, "etc/os-release", """
                PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
                NAME="Debian GNU/Linux"
                VERSION_ID="12"
                VERSION="12 (bookworm)"
                VERSION_CODENAME=bookworm
                ID=debian
                """);
        write(root, "etc/debian_version", "12.8\n");
        write(root, "etc/hostname", "refused\n");
        write(root, "etc/fstab", "UUID=" + ROOT_UUID + " / ext4 errors=remount-ro 0 1\n"
                + "/dev/sda5 none swap sw 0 0\n");
        write(root, "etc/network/interfaces", "auto lo\niface lo inet loopback\n\nallow-hotplug ens192\n"
                + "iface ens192 inet static\n\taddress 192.0.2.10/24\n\tgateway 192.0.2.1\n");
        // the host's shell: an x86-64 ELF file, from which inspection reads the guest's architecture
        Files.createDirectories(root.resolve("bin"));
        Files.copy(Path.of("/bin/sh").toRealPath(), root.resolve("bin/sh"));
        write(root, "boot/vmlinuz-" + KVER, "not a kernel: this guest never boots\n");
        write(root, "boot/initrd.img-" + KVER, "not an initramfs\n");
        write(root, "boot/config-" + KVER, "CONFIG_SCSI_VMW_PVSCSI=m\nCONFIG_VMXNET3=m\n"
                + "# CONFIG_VIRTIO_PCI is not set\n# CONFIG_VIRTIO_BLK is not set\n# CONFIG_SCSI_VIRTIO is not set\n");
        write(root, "boot/grub/grub.cfg", """
                set default="0"
                menuentry 'Debian GNU/Linux' --class debian {
                \tsearch --no-floppy --fs-uuid --set=root %s
                \tlinux /boot/vmlinuz-%s root=UUID=%s ro quiet
                \tinitrd /boot/initrd.img-%s
                }
                """.formatted(ROOT_UUID, KVER, ROOT_UUID, KVER));
        String mods = "lib/modules/" + KVER + "/";
        write(root, mods + "modules.dep", """
                kernel/drivers/scsi/vmw_pvscsi.ko:
                kernel/drivers/message/fusion/mptspi.ko: kernel/drivers/message/fusion/mptscsih.ko kernel/drivers/message/fusion/mptbase.ko kernel/drivers/scsi/scsi_transport_spi.ko
                kernel/drivers/message/fusion/mptscsih.ko: kernel/drivers/message/fusion/mptbase.ko
                kernel/drivers/message/fusion/mptbase.ko:
                kernel/drivers/scsi/scsi_transport_spi.ko:
                kernel/drivers/net/vmxnet3/vmxnet3.ko:
                """);
        write(root, mods + "modules.builtin", "kernel/drivers/scsi/sd_mod.ko\n");
        for (String ko : List.of("drivers/scsi/vmw_pvscsi.ko", "drivers/net/vmxnet3/vmxnet3.ko")) {
            write(root, mods + "kernel/" + ko, "not a module\n");
        }

        Path part = dir.resolve("root.ext4");
        Run.checked(List.of("truncate", "-s", "126M", part.toString()));
        Run.checked(List.of("mkfs.ext4", "-q", "-F", "-U", ROOT_UUID, "-d", root.toString(), part.toString()));
        if (dirty) {
            // a real transaction in the journal, not committed to the filesystem: needs_recovery
            Path cmds = Files.writeString(dir.resolve("debugfs.cmds"), "jo\njw -b 300 " + part + "\njc\n");
            Run.checked(List.of("debugfs", "-w", "-f", cmds.toString(), part.toString()));
            assertThat(Run.checked(List.of("debugfs", "-R", "features", part.toString())).stdout())
                    .contains("needs_recovery");
        }
        Path raw = dir.resolve("disk.raw");
        Run.checked(List.of("truncate", "-s", "128M", raw.toString()));
        Run.checked(List.of("sh", "-c", "printf 'label: dos\\nstart=2048, type=83, bootable\\n' | sfdisk -q " + raw));
        Run.checked(List.of("dd", "if=" + part, "of=" + raw, "bs=1M", "seek=1", "conv=notrunc", "status=none"));
        Path vmdk = guest.resolve("refused.vmdk");
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicSparse",
                raw.toString(), vmdk.toString());
        Files.delete(raw);
        Files.delete(part);
        Path vmx = guest.resolve("refused.vmx");
        Files.writeString(vmx, """
                .encoding = "UTF-8"
                config.version = "8"
                virtualHW.version = "19"
                displayName = "refused"
                guestOS = "debian12-64"
                memSize = "1024"
                numvcpus = "1"
                scsi0.present = "TRUE"
                scsi0.virtualDev = "pvscsi"
                scsi0:0.present = "TRUE"
                scsi0:0.deviceType = "scsi-hardDisk"
                scsi0:0.fileName = "refused.vmdk"
                ethernet0.present = "TRUE"
                ethernet0.virtualDev = "vmxnet3"
                ethernet0.networkName = "VM Network"
                ethernet0.addressType = "static"
                ethernet0.address = "00:50:56:3a:12:09"
                ethernet0.pciSlotNumber = "192"
                """);
        return vmx;
    }

    private static void write(Path root, String rel, String text) throws Exception {
        Path f = root.resolve(rel);
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
    }
}
