package org.jv2v.inspect;

import org.jv2v.testing.Corpus;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Phony guests built by the real tools (sfdisk, mkfs.ext4 -d, mkswap, mkfs.vfat + mtools, and
 * lvm2/xfsprogs inside libguestfs's appliance, since the host has no device-mapper), each once
 * per build: an image is kept in target/inspect-guests with the digest of its recipe and rebuilt
 * only when the recipe changes. virt-inspector's verdict on them is kept the same way, so each
 * test run costs at most one guestfish and one virt-inspector appliance.
 */
public final class TestGuests {
    static final String DEBIAN_ROOT_UUID = "0a1b2c3d-0000-4000-8000-000000000003";
    static final String DEBIAN_BOOT_UUID = "0a1b2c3d-0000-4000-8000-000000000001";
    static final String DEBIAN_SWAP_UUID = "0a1b2c3d-0000-4000-8000-000000000002";
    static final String DEBIAN_SRV_UUID = "0a1b2c3d-0000-4000-8000-000000000005";
    static final String DEBIAN_DISK_ID = "12345678";
    static final String ROCKY_ROOT_UUID = "5c0ffee0-1111-4222-8333-000000000001";
    static final String ROCKY_BOOT_UUID = "5c0ffee0-1111-4222-8333-000000000002";
    static final String ROCKY_SWAP_UUID = "5c0ffee0-1111-4222-8333-000000000003";
    static final String ROCKY_ESP_SERIAL = "1234ABCD";

    /** Bumped when something outside the trees changes how an image is built (a layout, a tool option). */
    static final String RECIPE_VERSION = "4";

    /** A built guest: its raw disk image and the trees that went into each filesystem. */
    public record Guest(String name, Path image, Map<String, GuestTree> trees) {}

    private static Guest debian;
    private static Guest rocky;

    private TestGuests() {}

    static Path home() throws IOException {
        return Files.createDirectories(Corpus.projectDir().resolve("target").resolve("inspect-guests"));
    }

    private static Map<String, String> env() {
        return Map.of("E2FSPROGS_FAKE_TIME", Long.toString(GuestTree.TIME), "TZ", "UTC");
    }

    // ---- Debian 12 on ext4, MBR ----

    public static synchronized Guest debian() throws Exception {
        if (debian != null) {
            return debian;
        }
        Tools.require("sfdisk", "mkfs.ext4", "mkswap");
        GuestTree root = debianRoot();
        GuestTree boot = debianBoot();
        GuestTree srv = new GuestTree().file("www/index.html", "<p>hello</p>\n").file("data/notes.txt", "kept\n");
        Path dir = Files.createDirectories(home().resolve("debian"));
        Path image = dir.resolve("debian.img");
        String stamp = stamp("debian", root, boot, srv);
        if (!fresh(dir, stamp, image)) {
            buildDebian(dir, image, root, boot, srv);
            Files.writeString(dir.resolve("stamp"), stamp);
        }
        debian = new Guest("debian", image, Map.of("/", root, "/boot", boot, "/srv", srv));
        return debian;
    }

    static final long DEBIAN_SIZE = 200L << 20;
    /** Partitions in sectors: /boot, swap, extended (holding /srv as partition 5), and / to the end. */
    static final long[] DEBIAN_BOOT = {2048, 65536};
    static final long[] DEBIAN_SWAP = {67584, 16384};
    static final long[] DEBIAN_EXTENDED = {83968, 36864};
    static final long[] DEBIAN_SRV = {86016, 32768};
    static final long DEBIAN_ROOT_START = 120832;
    /** Stands for grub's boot.img and core.img: bytes in the MBR's code area and in the gap after it. */
    static final byte[] BOOT_CODE = "GRUB boot code stand-in".getBytes(StandardCharsets.US_ASCII);
    static final long CORE_IMG_OFFSET = 512;

    private static void buildDebian(Path dir, Path image, GuestTree root, GuestTree boot, GuestTree srv)
            throws Exception {
        Files.deleteIfExists(image);
        truncate(image, DEBIAN_SIZE);
        String table = "label: dos\nlabel-id: 0x" + DEBIAN_DISK_ID + "\n"
                + "start=" + DEBIAN_BOOT[0] + ", size=" + DEBIAN_BOOT[1] + ", type=83, bootable\n"
                + "start=" + DEBIAN_SWAP[0] + ", size=" + DEBIAN_SWAP[1] + ", type=82\n"
                + "start=" + DEBIAN_EXTENDED[0] + ", size=" + DEBIAN_EXTENDED[1] + ", type=5\n"
                + "start=" + DEBIAN_ROOT_START + ", type=83\n"
                + "start=" + DEBIAN_SRV[0] + ", size=" + DEBIAN_SRV[1] + ", type=83\n";
        Path tableFile = Files.writeString(dir.resolve("table.sfdisk"), table);
        run(dir, "sh", "-c", "sfdisk -q " + image + " < " + tableFile);
        mkext4(dir, image, DEBIAN_BOOT[0], DEBIAN_BOOT[1], DEBIAN_BOOT_UUID, "boot", boot);
        mkext4(dir, image, DEBIAN_SRV[0], DEBIAN_SRV[1], DEBIAN_SRV_UUID, "srv", srv);
        mkext4(dir, image, DEBIAN_ROOT_START, DEBIAN_SIZE / 512 - DEBIAN_ROOT_START, DEBIAN_ROOT_UUID, "", root);
        Path swap = dir.resolve("swap.img");
        Files.deleteIfExists(swap);
        truncate(swap, DEBIAN_SWAP[1] * 512);
        run(dir, "mkswap", "-U", DEBIAN_SWAP_UUID, "-L", "swap0", swap.toString());
        copyInto(swap, image, DEBIAN_SWAP[0] * 512);
        Files.delete(swap);
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(BOOT_CODE), 0);
            ch.write(ByteBuffer.wrap(BOOT_CODE), CORE_IMG_OFFSET);
        }
    }

    static GuestTree debianRoot() throws IOException {
        String kver = "6.1.0-18-amd64";
        String old = "5.10.0-28-amd64";
        GuestTree t = new GuestTree()
                .dir("boot", "dev", "home/user", "proc", "sys", "tmp", "srv", "root", "var/log", "usr/share", "usr/local")
                .link("bin", "usr/bin").link("lib", "usr/lib").link("sbin", "usr/sbin").link("lib64", "usr/lib64")
                .copy("usr/bin/ls", Path.of("/usr/bin/ls"))
                .copy("usr/bin/dash", Path.of("/bin/sh").toRealPath())
                .link("usr/bin/sh", "dash")
                .file("usr/lib/os-release", """
                        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
                        NAME="Debian GNU/Linux"
                        VERSION_ID="12"
                        VERSION="12 (bookworm)"
                        VERSION_CODENAME=bookworm
                        ID=debian
                        HOME_URL="https://www.debian.org/"
                        """)
                .link("etc/os-release", "../usr/lib/os-release")
                .file("etc/debian_version", "12.5\n")
                .file("etc/hostname", "deb12\n")
                .file("etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tdeb12\n")
                .file("etc/fstab", """
                        # /etc/fstab: static file system information.
                        UUID=%s /               ext4    errors=remount-ro 0       1
                        UUID=%s /boot           ext4    defaults        0       2
                        UUID=%s none            swap    sw              0       0
                        PARTUUID=%s-05 /srv    ext4    defaults        0       2
                        /dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0
                        tmpfs           /tmp            tmpfs   defaults        0       0
                        proc            /proc           proc    defaults        0       0
                        """.formatted(DEBIAN_ROOT_UUID, DEBIAN_BOOT_UUID, DEBIAN_SWAP_UUID, DEBIAN_DISK_ID))
                .file("etc/network/interfaces", "auto lo\niface lo inet loopback\n\nallow-hotplug ens192\n"
                        + "iface ens192 inet dhcp\n")
                .link("usr/sbin/init", "../lib/systemd/systemd")
                .file("usr/lib/systemd/systemd", "not really systemd\n")
                .file("var/lib/dpkg/status", DPKG_STATUS)
                .file("usr/lib/modules/" + kver + "/modules.builtin",
                        "kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\n")
                .file("usr/lib/modules/" + kver + "/kernel/drivers/block/virtio_blk.ko", "dummy module\n")
                .file("usr/lib/modules/" + kver + "/kernel/drivers/net/virtio_net.ko", "dummy module\n")
                .file("usr/lib/modules/" + kver + "/kernel/drivers/scsi/virtio_scsi.ko", "dummy module\n")
                .file("usr/lib/modules/" + kver + "/kernel/drivers/virtio/virtio_pci.ko", "dummy module\n")
                .file("usr/lib/modules/" + kver + "/kernel/drivers/net/ethernet/intel/e1000/e1000.ko", "dummy\n")
                .file("usr/lib/modules/" + old + "/modules.builtin", "")
                .file("usr/lib/modules/" + old + "/kernel/drivers/net/ethernet/intel/e1000/e1000.ko", "dummy\n");
        return t;
    }

    static GuestTree debianBoot() {
        return new GuestTree()
                .file("vmlinuz-6.1.0-18-amd64", "kernel image stand-in\n")
                .file("initrd.img-6.1.0-18-amd64", "initramfs stand-in\n")
                .file("config-6.1.0-18-amd64", "CONFIG_VIRTIO_BLK=m\nCONFIG_VIRTIO_NET=m\nCONFIG_VIRTIO=y\n")
                .file("System.map-6.1.0-18-amd64", "map\n")
                .file("vmlinuz-5.10.0-28-amd64", "older kernel stand-in\n")
                .file("initrd.img-5.10.0-28-amd64", "initramfs stand-in\n")
                .file("grub/grub.cfg", "set default=0\nmenuentry 'Debian GNU/Linux' {\n  linux /vmlinuz-6.1.0-18-amd64 "
                        + "root=UUID=" + DEBIAN_ROOT_UUID + " ro quiet\n  initrd /initrd.img-6.1.0-18-amd64\n}\n")
                .file("grub/i386-pc/normal.mod", "grub module stand-in\n");
    }

    static final String DPKG_STATUS = """
            Package: bash
            Essential: yes
            Status: install ok installed
            Priority: required
            Section: shells
            Installed-Size: 7163
            Maintainer: Matthias Klose <doko@debian.org>
            Architecture: amd64
            Multi-Arch: foreign
            Version: 5.2.15-2+b2
            Depends: base-files (>= 2.1.12), debianutils (>= 5.6-0.1)
            Description: GNU Bourne Again SHell
             Bash is an sh-compatible command language interpreter that executes
             commands read from the standard input or from a file.
             .
             Bash can run most sh scripts without modification.
            Homepage: http://tiswww.case.edu/php/chet/bash/bashtop.html

            Package: openssh-server
            Status: install ok installed
            Priority: optional
            Architecture: amd64
            Source: openssh (1:9.2p1-2)
            Version: 1:9.2p1-2+deb12u2
            Conffiles:
             /etc/default/ssh 500e3cf069fe9a7b9936108eb9d9c035
            Description: secure shell (SSH) server, for secure access from remote machines
            Homepage: https://www.openssh.com/

            Package: old-removed
            Status: deinstall ok config-files
            Architecture: all
            Version: 1.0-1
            Description: removed, only its configuration is left

            Package: linux-image-6.1.0-18-amd64
            Status: install ok installed
            Architecture: amd64
            Source: linux-signed-amd64 (6.1.76+1)
            Version: 6.1.76-1
            Description: Linux 6.1 for 64-bit PCs (signed)
             The Linux kernel 6.1 and modules for use on PCs.

            Package: tzdata
            Status: install ok installed
            Architecture: all
            Version: 2024a-0+deb12u1
            Description: time zone and daylight-saving time data

            """;

    // ---- Rocky Linux 9 on XFS over LVM, GPT with an EFI system partition ----

    public static synchronized Guest rocky() throws Exception {
        if (rocky != null) {
            return rocky;
        }
        Tools.require("guestfish", "mkfs.vfat", "mcopy", "tar");
        GuestTree root = rockyRoot();
        GuestTree boot = rockyBoot();
        GuestTree esp = new GuestTree()
                .file("EFI/rocky/grub.cfg", "search --no-floppy --fs-uuid --set=dev " + ROCKY_BOOT_UUID
                        + "\nset prefix=($dev)/grub2\nconfigfile $prefix/grub.cfg\n")
                .file("EFI/BOOT/BOOTX64.EFI", "shim stand-in\n")
                .file("EFI/rocky/shimx64.efi", "shim stand-in\n");
        Path dir = Files.createDirectories(home().resolve("rocky"));
        Path image = dir.resolve("rocky.img");
        String stamp = stamp("rocky", root, boot, esp);
        if (!fresh(dir, stamp, image)) {
            buildRocky(dir, image, root, boot, esp);
            Files.writeString(dir.resolve("stamp"), stamp);
        }
        rocky = new Guest("rocky", image, Map.of("/", root, "/boot", boot, "/boot/efi", esp));
        return rocky;
    }

    static final long ROCKY_SIZE = 720L << 20;
    /** GPT partitions in sectors: ESP 32 MiB, /boot 300 MiB (mkfs.xfs's minimum), LVM PV to the end. */
    static final long[] ROCKY_ESP = {2048, 65536};
    static final long[] ROCKY_BOOT = {67584, 614400};

    private static void buildRocky(Path dir, Path image, GuestTree root, GuestTree boot, GuestTree esp)
            throws Exception {
        Path espImg = dir.resolve("esp.img");
        Files.deleteIfExists(espImg);
        run(dir, "mkfs.vfat", "-C", "-F", "16", "-i", ROCKY_ESP_SERIAL, "-n", "ESP", espImg.toString(),
                Long.toString(ROCKY_ESP[1] / 2));
        Path espTree = dir.resolve("esp-tree");
        deleteTree(espTree);
        esp.writeTo(espTree);
        run(dir, "mcopy", "-s", "-i", espImg.toString(), espTree.resolve("EFI").toString(), "::/");
        Path rootTar = tar(dir, "root", root);
        Path bootTar = tar(dir, "boot", boot);
        Files.deleteIfExists(image);
        truncate(image, ROCKY_SIZE);
        long bootEnd = ROCKY_BOOT[0] + ROCKY_BOOT[1] - 1;
        String script = """
                run
                part-init /dev/sda gpt
                part-add /dev/sda p %d %d
                part-add /dev/sda p %d %d
                part-add /dev/sda p %d -34
                part-set-gpt-type /dev/sda 1 C12A7328-F81F-11D2-BA4B-00A0C93EC93B
                part-set-gpt-type /dev/sda 3 E6D6D379-F507-44C2-A23C-238F2A3DF928
                part-set-name /dev/sda 1 "EFI System Partition"
                upload %s /dev/sda1
                pvcreate /dev/sda3
                vgcreate rl /dev/sda3
                lvcreate root rl 320
                lvcreate swap rl 16
                mkfs xfs /dev/sda2
                set-uuid /dev/sda2 %s
                mkfs xfs /dev/rl/root
                set-uuid /dev/rl/root %s
                mkswap /dev/rl/swap uuid:%s
                mount /dev/rl/root /
                tar-in %s /
                mount /dev/sda2 /boot
                tar-in %s /boot
                umount-all
                """.formatted(ROCKY_ESP[0], ROCKY_ESP[0] + ROCKY_ESP[1] - 1, ROCKY_BOOT[0], bootEnd, bootEnd + 1,
                espImg, ROCKY_BOOT_UUID, ROCKY_ROOT_UUID, ROCKY_SWAP_UUID, rootTar, bootTar);
        guestfish(dir, script, List.of(image));
        Files.delete(espImg);
        Files.delete(rootTar);
        Files.delete(bootTar);
    }

    static GuestTree rockyRoot() throws IOException {
        String kver = "5.14.0-362.8.1.el9_3.x86_64";
        return new GuestTree()
                .dir("boot/efi", "dev", "home", "proc", "sys", "tmp", "root", "var/log", "usr/share", "usr/local",
                        "etc/sysconfig")
                .link("bin", "usr/bin").link("lib", "usr/lib").link("sbin", "usr/sbin").link("lib64", "usr/lib64")
                .copy("usr/bin/ls", Path.of("/usr/bin/ls"))
                .file("etc/os-release", """
                        NAME="Rocky Linux"
                        VERSION="9.3 (Blue Onyx)"
                        ID="rocky"
                        ID_LIKE="rhel centos fedora"
                        VERSION_ID="9.3"
                        PLATFORM_ID="platform:el9"
                        PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
                        ANSI_COLOR="0;32"
                        """)
                .file("etc/rocky-release", "Rocky Linux release 9.3 (Blue Onyx)\n")
                .link("etc/redhat-release", "rocky-release")
                .link("etc/system-release", "rocky-release")
                .file("etc/hostname", "rocky9.example.com\n")
                .file("etc/fstab", """
                        #
                        # /etc/fstab
                        #
                        /dev/mapper/rl-root     /                       xfs     defaults        0 0
                        UUID=%s /boot                   xfs     defaults        0 0
                        UUID=%s-%s          /boot/efi               vfat    umask=0077,shortname=winnt 0 2
                        /dev/mapper/rl-swap     none                    swap    defaults        0 0
                        """.formatted(ROCKY_BOOT_UUID, ROCKY_ESP_SERIAL.substring(0, 4), ROCKY_ESP_SERIAL.substring(4)))
                .file("etc/NetworkManager/system-connections/ens192.nmconnection",
                        "[connection]\nid=ens192\ntype=ethernet\ninterface-name=ens192\n\n[ipv4]\nmethod=auto\n")
                .file("usr/sbin/NetworkManager", "not really NetworkManager\n")
                .link("usr/sbin/init", "../lib/systemd/systemd")
                .file("usr/lib/systemd/systemd", "not really systemd\n")
                .file("usr/bin/dnf", "not really dnf\n")
                .file("usr/lib/modules/" + kver + "/modules.builtin",
                        "kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\n"
                                + "kernel/drivers/virtio/virtio_pci.ko\n")
                .file("usr/lib/modules/" + kver + "/kernel/drivers/block/virtio_blk.ko.xz", "dummy module\n")
                .file("usr/lib/modules/" + kver + "/kernel/drivers/net/virtio_net.ko.xz", "dummy module\n")
                .file("usr/lib/modules/" + kver + "/kernel/drivers/scsi/virtio_scsi.ko.xz", "dummy module\n")
                .file("usr/lib/modules/" + kver + "/kernel/drivers/char/hw_random/virtio-rng.ko.xz", "dummy\n");
    }

    static GuestTree rockyBoot() {
        String kver = "5.14.0-362.8.1.el9_3.x86_64";
        return new GuestTree()
                .file("vmlinuz-" + kver, "kernel image stand-in\n")
                .file("initramfs-" + kver + ".img", "initramfs stand-in\n")
                .file("initramfs-" + kver + "kdump.img", "kdump initramfs stand-in\n")
                .file("config-" + kver, "CONFIG_VIRTIO_BLK=m\nCONFIG_VIRTIO_NET=m\nCONFIG_VIRTIO_PCI=y\n")
                .dir("efi")
                .file("grub2/grub.cfg", "set default=0\n")
                .file("grub2/x86_64-efi/normal.mod", "grub module stand-in\n")
                .file("loader/entries/rocky-" + kver + ".conf", "title Rocky Linux\nlinux /vmlinuz-" + kver + "\n");
    }

    // ---- virt-inspector's verdict on all guests at once (one appliance) ----

    /** virt-inspector's XML for the disks, in order, as one guest (every OS on them is a root). */
    static synchronized String virtInspector(List<Guest> guests) throws Exception {
        Tools.require("virt-inspector");
        List<String> parts = new ArrayList<>();
        for (Guest g : guests) {
            parts.add(Files.readString(g.image().resolveSibling("stamp")));
        }
        String stamp = sha256(String.join("\n", parts) + "\nvirt-inspector " + RECIPE_VERSION);
        Path dir = Files.createDirectories(home().resolve("virt-inspector"));
        Path xml = dir.resolve(String.join("+", guests.stream().map(Guest::name).toList()) + ".xml");
        Path stampFile = dir.resolve(xml.getFileName() + ".stamp");
        if (Files.exists(xml) && Files.exists(stampFile) && Files.readString(stampFile).equals(stamp)) {
            return Files.readString(xml);
        }
        // --no-applications: Debian's librpm looks for RPM databases in ~/.rpmdb, so virt-inspector here
        // fails on any RPM guest's applications; jv2v's dpkg parsing is checked against dpkg-query instead
        List<String> cmd = new ArrayList<>(List.of("virt-inspector", "--no-applications"));
        for (Guest g : guests) {
            cmd.addAll(List.of("--format=raw", "-a", g.image().toString()));
        }
        Run.Result r = Run.run(cmd, dir, applianceEnv(), 900);
        assertThat(r.exitCode()).as("virt-inspector: " + r.all()).isZero();
        Files.writeString(xml, r.stdout());
        Files.writeString(stampFile, stamp);
        return r.stdout();
    }

    // ---- helpers ----

    static Map<String, String> applianceEnv() {
        return Map.of("LIBGUESTFS_BACKEND", "direct", "LIBGUESTFS_BACKEND_SETTINGS", "force_tcg");
    }

    private static void guestfish(Path dir, String script, List<Path> disks) throws Exception {
        Path scriptFile = Files.writeString(dir.resolve("guestfish.script"), script);
        List<String> cmd = new ArrayList<>(List.of("guestfish", "--rw", "-f", scriptFile.toString()));
        for (Path d : disks) {
            cmd.addAll(List.of("--format=raw", "-a", d.toString()));
        }
        Run.Result r = Run.run(cmd, dir, applianceEnv(), 900);
        assertThat(r.exitCode()).as("guestfish: " + r.all()).isZero();
    }

    private static Path tar(Path dir, String name, GuestTree tree) throws Exception {
        Path t = dir.resolve(name + "-tree");
        deleteTree(t);
        tree.writeTo(t);
        Path out = dir.resolve(name + ".tar");
        run(dir, "tar", "--numeric-owner", "--owner=0", "--group=0", "-C", t.toString(), "-cf", out.toString(), ".");
        deleteTree(t);
        return out;
    }

    private static void mkext4(Path dir, Path image, long startSector, long sectors, String uuid, String label,
                               GuestTree tree) throws Exception {
        Path t = dir.resolve("tree");
        deleteTree(t);
        tree.writeTo(t);
        List<String> cmd = new ArrayList<>(List.of("mkfs.ext4", "-q", "-F", "-U", uuid,
                "-E", "offset=" + startSector * 512 + ",nodiscard,hash_seed=0b4a1f2e-3c5d-4e6f-8a9b-1c2d3e4f5a6b",
                "-d", t.toString()));
        if (!label.isEmpty()) {
            cmd.addAll(List.of("-L", label));
        }
        cmd.addAll(List.of(image.toString(), (sectors / 2) + "k"));
        Run.Result r = Run.run(cmd, dir, env(), 300);
        assertThat(r.exitCode()).as(String.join(" ", cmd) + "\n" + r.all()).isZero();
        deleteTree(t);
    }

    public static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.truncate(size);
            if (ch.size() < size) {
                ch.write(ByteBuffer.allocate(1), size - 1);
            }
        }
    }

    static void copyInto(Path from, Path to, long offset) throws IOException {
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(to, StandardOpenOption.WRITE)) {
            long done = 0;
            while (done < in.size()) {
                done += in.transferTo(done, in.size() - done, out.position(offset + done));
            }
        }
    }

    static void deleteTree(Path t) throws IOException {
        if (!Files.exists(t, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(t)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void run(Path dir, String... cmd) throws Exception {
        Run.Result r = Run.run(List.of(cmd), dir, env(), 300);
        assertThat(r.exitCode()).as(String.join(" ", cmd) + "\n" + r.all()).isZero();
    }

    private static String stamp(String name, GuestTree... trees) {
        StringBuilder b = new StringBuilder(name + " " + RECIPE_VERSION);
        for (GuestTree t : trees) {
            b.append(' ').append(t.digest());
        }
        return sha256(b.toString());
    }

    private static boolean fresh(Path dir, String stamp, Path image) throws IOException {
        Path s = dir.resolve("stamp");
        return Files.exists(image) && Files.exists(s) && Files.readString(s).equals(stamp);
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
