package org.jv2v.convert.linux;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A small VMware-like Linux guest made at test time with the reference tools, for conversion tests
 * of one feature each (a network style, a boot loader, VMware's leftovers): a host folder filled by
 * the test (owners, modes and SELinux labels as the test sets them), turned into an ext4 root by
 * {@code mkfs.ext4 -d}, put in an MBR disk by sfdisk, made a VMDK by qemu-img, and described by a
 * .vmx with the NICs the test asks for. The kernel has every virtio driver built in
 * (modules.builtin), so the conversion needs no initramfs work and the test is only about its
 * subject. After {@link #convert}, {@link Converted} reads the result back with debugfs and checks
 * it with e2fsck -fn.
 */
final class MiniGuest {
    /** The root partition starts at 1 MiB. */
    static final long ROOT_OFFSET = 1 << 20;
    static final String ROOT_UUID = "7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b";

    /** Which kind of guest the skeleton is. */
    enum Kind {
        /** Debian 12: GRUB 2 (/boot/grub/grub.cfg), systemd's udev, kernel 6.1.0-99-amd64. */
        DEBIAN12,
        /** A RHEL 9-like guest: GRUB 2 in /boot/grub2 without BLS, systemd's udev, an el9 kernel. */
        RHEL9,
        /** A RHEL 6-like guest: legacy GRUB (/boot/grub/grub.conf, menu.lst linked to it), udev without systemd. */
        RHEL6
    }

    static final String DEBIAN_KVER = "6.1.0-99-amd64";
    static final String RHEL9_KVER = "5.14.0-362.8.1.el9_3.x86_64";

    /** A NIC of the .vmx: {@code ethernetN} with a static MAC and ESXi's PCI slot number. */
    record Nic(int index, String mac, int pciSlot) {}

    final Path dir;
    final Path tree;
    final String name;
    final Kind kind;
    private final List<Nic> nics = new ArrayList<>();
    private boolean xfs;
    private final Map<String, String> extraVmx = new LinkedHashMap<>();
    private Path vmx;

    MiniGuest(Path dir, String name, Kind kind) throws IOException, InterruptedException {
        this.dir = dir;
        this.tree = dir.resolve("tree");
        this.name = name;
        this.kind = kind;
        skeleton();
    }

    // ------------------------------------------------------------------ the tree

    MiniGuest file(String rel, String text) throws IOException {
        Path f = tree.resolve(rel);
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
        return this;
    }

    /** A file with an owner, a mode and extended attributes ("security.selinux" -> label). */
    MiniGuest file(String rel, String text, int mode, int uid, int gid, Map<String, String> xattrs)
            throws IOException, InterruptedException {
        file(rel, text);
        Path f = tree.resolve(rel);
        Files.setAttribute(f, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(f, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(f, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
        for (Map.Entry<String, String> x : xattrs.entrySet()) {
            Run.checked(List.of("setfattr", "-n", x.getKey(), "-v", x.getValue(), f.toString()));
        }
        return this;
    }

    MiniGuest symlink(String rel, String target) throws IOException {
        Path f = tree.resolve(rel);
        Files.createDirectories(f.getParent());
        Files.createSymbolicLink(f, Path.of(target));
        return this;
    }

    MiniGuest dir(String rel) throws IOException {
        Files.createDirectories(tree.resolve(rel));
        return this;
    }

    /** A folder with an SELinux label, as an SELinux guest's folders all have. */
    MiniGuest labelledDir(String rel, String label) throws IOException, InterruptedException {
        dir(rel);
        Run.checked(List.of("setfattr", "-n", "security.selinux", "-v", label, tree.resolve(rel).toString()));
        return this;
    }

    /** The root on XFS instead of ext4 (mkfs.xfs with a protofile: owners and modes, no extended attributes). */
    MiniGuest xfsRoot() throws IOException {
        xfs = true;
        return file("etc/fstab", "UUID=" + ROOT_UUID + " / xfs defaults 0 0\n");
    }

    MiniGuest nic(int index, String mac, int pciSlot) {
        nics.add(new Nic(index, mac, pciSlot));
        return this;
    }

    static final String RHEL6_KVER = "2.6.32-754.35.1.el6.x86_64";

    String kernelVersion() {
        return switch (kind) {
            case DEBIAN12 -> DEBIAN_KVER;
            case RHEL9 -> RHEL9_KVER;
            case RHEL6 -> RHEL6_KVER;
        };
    }

    /** A kernel in /boot with /lib/modules: virtio built in, or (virtio false) VMware's drivers only. */
    MiniGuest kernel(String kver, boolean virtio) throws IOException {
        String vmlinuz = "boot/vmlinuz-" + kver;
        file(vmlinuz, "not a kernel: this guest never boots\n");
        file(kind == Kind.DEBIAN12 ? "boot/initrd.img-" + kver : "boot/initramfs-" + kver + ".img",
                "not an initramfs\n");
        String mods = "lib/modules/" + kver + "/";
        file(mods + "modules.dep", """
                kernel/drivers/scsi/vmw_pvscsi.ko:
                kernel/drivers/net/vmxnet3/vmxnet3.ko:
                """);
        file(mods + "modules.builtin", virtio ? """
                kernel/drivers/virtio/virtio.ko
                kernel/drivers/virtio/virtio_ring.ko
                kernel/drivers/virtio/virtio_pci.ko
                kernel/drivers/block/virtio_blk.ko
                kernel/drivers/scsi/virtio_scsi.ko
                kernel/drivers/scsi/sd_mod.ko
                kernel/drivers/net/virtio_net.ko
                """ : "kernel/drivers/scsi/sd_mod.ko\n");
        return this;
    }

    private void skeleton() throws IOException, InterruptedException {
        Tools.require("setfattr");
        Files.createDirectories(tree);
        // the host's shell: an x86-64 ELF file, from which inspection reads the guest's architecture
        Files.createDirectories(tree.resolve("bin"));
        Files.copy(Path.of("/bin/sh").toRealPath(), tree.resolve("bin/sh"));
        dir("proc").dir("sys").dir("dev").dir("tmp").dir("root");
        file("etc/hostname", name + "\n");
        file("etc/fstab", "UUID=" + ROOT_UUID + " / ext4 defaults 0 1\n");
        String kver = kernelVersion();
        kernel(kver, true);
        switch (kind) {
            case DEBIAN12 -> {
                file("etc/os-release", """
                        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
                        NAME="Debian GNU/Linux"
                        VERSION_ID="12"
                        VERSION="12 (bookworm)"
                        VERSION_CODENAME=bookworm
                        ID=debian
                        """);
                file("etc/debian_version", "12.8\n");
                file("lib/systemd/systemd-udevd", "not udevd\n");
                file("boot/grub/grub.cfg", grub2Cfg(kver, "/boot/vmlinuz-", "/boot/initrd.img-" + kver));
            }
            case RHEL9 -> {
                file("etc/os-release", """
                        NAME="Rocky Linux"
                        VERSION="9.3 (Blue Onyx)"
                        ID="rocky"
                        ID_LIKE="rhel centos fedora"
                        VERSION_ID="9.3"
                        PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
                        """);
                file("etc/redhat-release", "Rocky Linux release 9.3 (Blue Onyx)\n");
                file("usr/lib/systemd/systemd-udevd", "not udevd\n");
                file("etc/default/grub", "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"crashkernel=auto\"\n"
                        + "GRUB_ENABLE_BLSCFG=false\n");
                file("boot/grub2/grub.cfg", grub2Cfg(kver, "/boot/vmlinuz-", "/boot/initramfs-" + kver + ".img"));
            }
            case RHEL6 -> {
                file("etc/redhat-release", "CentOS release 6.10 (Final)\n");
                file("sbin/udevd", "not udevd\n");
                file("boot/grub/device.map", "# this device map was generated by anaconda\n(hd0)     /dev/sda\n");
                symlink("boot/grub/menu.lst", "./grub.conf");
            }
        }
    }

    private static String grub2Cfg(String kver, String vmlinuz, String initrd) {
        return """
                set default="0"
                menuentry 'Linux %s' --class gnu-linux {
                \tsearch --no-floppy --fs-uuid --set=root %s
                \tlinux %s%s root=UUID=%s ro quiet
                \tinitrd %s
                }
                """.formatted(kver, ROOT_UUID, vmlinuz, kver, ROOT_UUID, initrd);
    }

    // ------------------------------------------------------------------ the disk and the .vmx

    /** Builds the VMDK and the .vmx (once); returns the .vmx. */
    Path build() throws Exception {
        if (vmx != null) {
            return vmx;
        }
        Tools.require("qemu-img", "sfdisk", "mkfs.ext4", "dd", "truncate");
        Path guest = Files.createDirectories(dir.resolve("guest"));
        Path part = dir.resolve("root.fs");
        // mkfs.xfs takes nothing under 300 MiB; the file is sparse
        Run.checked(List.of("truncate", "-s", xfs ? "320M" : "63M", part.toString()));
        if (xfs) {
            Tools.require("mkfs.xfs");
            Path proto = Files.writeString(dir.resolve("protofile"), protofile(tree));
            Run.checked(List.of("mkfs.xfs", "-q", "-f", "-m", "uuid=" + ROOT_UUID, "-p", proto.toString(),
                    part.toString()));
        } else {
            Run.checked(List.of("mkfs.ext4", "-q", "-F", "-U", ROOT_UUID, "-d", tree.toString(), part.toString()));
        }
        Path raw = dir.resolve("disk.raw");
        Run.checked(List.of("truncate", "-s", xfs ? "321M" : "64M", raw.toString()));
        Run.checked(List.of("sh", "-c", "printf 'label: dos\\nstart=2048, type=83, bootable\\n' | sfdisk -q " + raw));
        Run.checked(List.of("dd", "if=" + part, "of=" + raw, "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"));
        Path vmdk = guest.resolve(name + ".vmdk");
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicSparse",
                raw.toString(), vmdk.toString());
        Files.delete(raw);
        Files.delete(part);
        StringBuilder s = new StringBuilder("""
                .encoding = "UTF-8"
                config.version = "8"
                virtualHW.version = "19"
                displayName = "%s"
                guestOS = "%s"
                memSize = "1024"
                numvcpus = "1"
                scsi0.present = "TRUE"
                scsi0.virtualDev = "pvscsi"
                scsi0:0.present = "TRUE"
                scsi0:0.deviceType = "scsi-hardDisk"
                scsi0:0.fileName = "%s.vmdk"
                """.formatted(name, kind == Kind.DEBIAN12 ? "debian12-64" : kind == Kind.RHEL9 ? "rhel9-64" : "rhel6-64",
                name));
        for (Nic n : nics) {
            String e = "ethernet" + n.index();
            s.append(e).append(".present = \"TRUE\"\n")
                    .append(e).append(".virtualDev = \"vmxnet3\"\n")
                    .append(e).append(".networkName = \"VM Network\"\n")
                    .append(e).append(".addressType = \"static\"\n")
                    .append(e).append(".address = \"").append(n.mac()).append("\"\n")
                    .append(e).append(".pciSlotNumber = \"").append(n.pciSlot()).append("\"\n");
        }
        extraVmx.forEach((k, v) -> s.append(k).append(" = \"").append(v).append("\"\n"));
        vmx = guest.resolve(name + ".vmx");
        Files.writeString(vmx, s.toString());
        return vmx;
    }

    /** mkfs.xfs's protofile for a host folder: each entry's mode, owner and content or target. */
    static String protofile(Path root) throws IOException {
        StringBuilder s = new StringBuilder("/dev/null\n0 0\n");
        protoEntry(s, root, "", 0);
        return s.toString();
    }

    private static void protoEntry(StringBuilder s, Path p, String name, int depth) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        String owner = " " + a.get("uid") + " " + a.get("gid");
        String perm = ((mode & 04000) != 0 ? "u" : "-") + ((mode & 02000) != 0 ? "g" : "-")
                + String.format(java.util.Locale.ROOT, "%03o", mode & 0777);
        String indent = " ".repeat(depth);
        String head = depth == 0 ? "" : indent + name + " ";
        if (Files.isSymbolicLink(p)) {
            s.append(head).append("l").append(perm).append(owner).append(' ').append(Files.readSymbolicLink(p))
                    .append('\n');
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            s.append(head).append("d").append(perm).append(owner).append('\n');
            try (var list = Files.list(p)) {
                for (Path c : list.sorted().toList()) {
                    protoEntry(s, c, c.getFileName().toString(), depth + 1);
                }
            }
            s.append(indent).append(" $\n".substring(depth == 0 ? 1 : 0));
        } else {
            s.append(head).append("-").append(perm).append(owner).append(' ').append(p).append('\n');
        }
    }

    /** {@code jv2v -i vmx NAME.vmx -o local -os DIR/out ARGS...}, checking the source is unchanged. */
    Converted convert(String... args) throws Exception {
        Path v = build();
        ConverterPresent.require();
        Map<String, String> before = Checksums.of(v.getParent());
        Path out = Files.createDirectories(dir.resolve("out"));
        List<String> cmd = new ArrayList<>(List.of("-i", "vmx", v.toString(), "-o", "local", "-os", out.toString()));
        cmd.addAll(List.of(args));
        Jv2vRun.Result r = Jv2vRun.ok(cmd.toArray(String[]::new));
        assertThat(Checksums.of(v.getParent())).as("the source files are untouched").isEqualTo(before);
        return new Converted(out.resolve(name + "-sda"), out, r);
    }

    /** {@code jv2v -i vmx NAME.vmx --plan}: the plan's text from "Conversion plan for" on. */
    String plan(String... args) throws Exception {
        Path v = build();
        ConverterPresent.require();
        List<String> cmd = new ArrayList<>(List.of("-i", "vmx", v.toString(), "--plan"));
        cmd.addAll(List.of(args));
        Jv2vRun.Result r = Jv2vRun.ok(cmd.toArray(String[]::new));
        return r.stdout().substring(r.stdout().indexOf("Conversion plan for"));
    }

    /** A converted guest's root filesystem, read by e2fsprogs. */
    record Converted(Path disk, Path out, Jv2vRun.Result run) {
        private String fs() {
            return disk + "?offset=" + ROOT_OFFSET;
        }

        private Run.Result debugfs(String request) throws IOException, InterruptedException {
            Tools.require("debugfs");
            Run.Result r = Run.run(List.of("debugfs", "-R", request, fs()), null, Map.of(), 120);
            assertThat(r.exitCode()).as(request + "\n" + r.all()).isZero();
            return r;
        }

        boolean exists(String path) throws IOException, InterruptedException {
            return !debugfs("stat " + path).stderr().contains("File not found");
        }

        /** A file's content, as debugfs reads it. */
        String cat(String path) throws IOException, InterruptedException {
            Run.Result r = debugfs("cat " + path);
            assertThat(r.stderr()).as("debugfs cat " + path).doesNotContain("File not found");
            return r.stdout();
        }

        /** "0644 0:0" and then the extended attributes, one "name = value" a line, as debugfs prints them. */
        String owner(String path) throws IOException, InterruptedException {
            Run.Result r = debugfs("stat " + path);
            assertThat(r.stderr()).as("debugfs stat " + path).doesNotContain("File not found");
            Matcher mode = Pattern.compile("Type: (\\S+)\\s+Mode:\\s+(\\d+)").matcher(r.stdout());
            Matcher user = Pattern.compile("User:\\s+(\\d+)\\s+Group:\\s+(\\d+)").matcher(r.stdout());
            assertThat(mode.find() && user.find()).as(r.stdout()).isTrue();
            StringBuilder s = new StringBuilder(mode.group(1) + " " + mode.group(2) + " " + user.group(1) + ":"
                    + user.group(2));
            // stat shows long values by size only: each is read by ea_get
            Map<String, String> xattrs = new TreeMap<>();
            Matcher x = Pattern.compile("(?m)^  (\\S+) \\(\\d+\\)").matcher(
                    r.stdout().contains("Extended attributes:") ? r.stdout().substring(
                            r.stdout().indexOf("Extended attributes:")) : "");
            while (x.find()) {
                String v = debugfs("ea_get " + path + " " + x.group(1)).stdout().strip();
                xattrs.put(x.group(1), v.substring(v.indexOf(" = ") + 3));
            }
            xattrs.forEach((k, v) -> s.append("\n").append(k).append(" = ").append(v));
            return s.toString();
        }

        /** The names in a folder, without "." and "..". */
        List<String> list(String path) throws IOException, InterruptedException {
            Run.Result r = debugfs("ls -l " + path);
            List<String> out = new ArrayList<>();
            for (String line : r.stdout().split("\n")) {
                String[] w = line.strip().split("\\s+");
                if (w.length >= 2 && !w[w.length - 1].equals(".") && !w[w.length - 1].equals("..")
                        && line.strip().matches("\\d+\\s+\\d+.*")) {
                    out.add(w[w.length - 1]);
                }
            }
            return out;
        }

        /** Copies a folder of the guest with its contents to {@code hostDir} (debugfs rdump). */
        void rdump(String path, Path hostDir) throws IOException, InterruptedException {
            Files.createDirectories(hostDir);
            debugfs("rdump " + path + " " + hostDir);
        }

        /** A symbolic link's target. */
        String readlink(String path) throws IOException, InterruptedException {
            Run.Result r = debugfs("stat " + path);
            Matcher m = Pattern.compile("Fast link dest: \"(.*)\"").matcher(r.stdout());
            assertThat(m.find()).as("a fast symlink: " + r.stdout()).isTrue();
            return m.group(1);
        }

        /** e2fsck -fn on the converted root: clean. */
        void assertClean() throws IOException, InterruptedException {
            Tools.require("e2fsck");
            Run.Result r = Run.run(List.of("e2fsck", "-fn", fs()), null, Map.of(), 120);
            assertThat(r.exitCode()).as("e2fsck -fn\n" + r.all()).isZero();
        }

        String stdout() {
            return run.stdout();
        }
    }
}
