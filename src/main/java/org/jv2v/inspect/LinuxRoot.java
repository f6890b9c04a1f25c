package org.jv2v.inspect;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Recognises what a filesystem is to a Linux system (its root, its /usr, a /boot) and reads the
 * root's basic facts from that filesystem alone, with libguestfs's tests and in its order.
 */
final class LinuxRoot {
    /** libguestfs takes the architecture from the first of these that is an executable. */
    static final List<String> ARCH_BINARIES = List.of("/bin/bash", "/bin/ls", "/bin/echo", "/bin/rm", "/bin/sh");

    private LinuxRoot() {}

    /** A /boot filesystem with a grub configuration (never a root). */
    static boolean isGrubBoot(GuestFiles g) throws IOException {
        return g.isFile("/grub/menu.lst") || g.isFile("/grub/grub.conf") || g.isFile("/grub2/grub.cfg");
    }

    static boolean isRoot(GuestFiles g) throws IOException {
        return g.isDir("/etc")
                && (g.isDir("/bin") || g.readlink("/bin").map("usr/bin"::equals).orElse(false))
                && (g.isFile("/etc/fstab") || g.isFile("/etc/hosts"));
    }

    /** /usr/local on its own filesystem: not interesting. */
    static boolean isUsrLocal(GuestFiles g) throws IOException {
        return g.isDir("/etc") && g.isDir("/bin") && g.isDir("/share") && !g.isDir("/local")
                && !g.isFile("/etc/fstab");
    }

    static boolean isUsr(GuestFiles g) throws IOException {
        return g.isDir("/bin") && g.isDir("/local") && g.isDir("/share") && g.isDir("/src")
                && !g.isFile("/etc/fstab");
    }

    /** The root's distribution, version, architecture and host name. */
    static void inspectRoot(GuestFiles g, OsData d) throws IOException {
        d.role = OsData.Role.ROOT;
        d.osType = "linux";
        LinuxRelease.detect(g, d);
        d.arch = arch(g, d.notes).orElse(null);
        d.hostname = hostname(g).orElse(null);
    }

    static void inspectUsr(GuestFiles g, OsData d) throws IOException {
        d.role = OsData.Role.USR;
        d.osType = "linux";
        LinuxRelease.detectUsr(g, d);
        d.arch = arch(g, d.notes).orElse(null);
    }

    static Optional<String> arch(GuestFiles g, List<String> notes) throws IOException {
        for (String bin : ARCH_BINARIES) {
            Optional<GuestFiles.Resolved> r = g.resolve(bin, true);
            if (r.isEmpty() || !r.get().stat().isRegular()) {
                continue;
            }
            Optional<byte[]> head = g.readHead(r.get().path(), Executables.HEAD_BYTES);
            Optional<String> arch = head.flatMap(Executables::elf);
            if (arch.isPresent()) {
                return arch;
            }
            notes.add(bin + ": not an ELF executable of a known architecture");
        }
        return Optional.empty();
    }

    static Optional<String> hostname(GuestFiles g) throws IOException {
        for (String f : List.of("/etc/HOSTNAME", "/etc/hostname")) {
            Optional<String> text = g.readText(f);
            if (text.isPresent()) {
                for (String line : text.get().split("\n")) {
                    if (!line.isEmpty() && !line.startsWith("#")) {
                        return Optional.of(line);
                    }
                }
            }
        }
        if (g.isFile("/etc/sysconfig/network")) {
            Optional<List<String>> lines = LinuxRelease.lines(g, "/etc/sysconfig/network");
            for (String[] kv : LinuxRelease.keyValues(lines.orElse(List.of()))) {
                if (kv[0].strip().equals("HOSTNAME")) {
                    return Optional.of(LinuxRelease.simpleUnquote(kv[1].strip()));
                }
            }
        }
        return Optional.empty();
    }

    /** libguestfs's package format for a distribution. */
    static Optional<String> packageFormat(String distro) {
        if (distro == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(switch (distro) {
            case "altlinux", "centos", "rocky", "fedora", "mageia", "mandriva", "meego", "neokylin", "openmandriva",
                 "opensuse", "oraclelinux", "redhat-based", "rhel", "scientificlinux", "sles", "suse-based" -> "rpm";
            case "debian", "kalilinux", "kylin", "linuxmint", "ubuntu" -> "deb";
            case "archlinux" -> "pacman";
            case "gentoo" -> "ebuild";
            case "pardus" -> "pisi";
            case "alpinelinux" -> "apk";
            case "voidlinux" -> "xbps";
            default -> null;
        });
    }

    /** libguestfs's package manager for a distribution and major version. */
    static Optional<String> packageManagement(String distro, int major, GuestFiles g) throws IOException {
        if (distro == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(switch (distro) {
            case "meego" -> "yum";
            case "fedora" -> major >= 22 && g.isFileFollowing("/usr/bin/dnf") ? "dnf" : major >= 1 ? "yum" : null;
            case "neokylin", "openmandriva" -> "dnf";
            case "centos", "rocky", "oraclelinux", "redhat-based", "rhel", "scientificlinux" ->
                    major >= 8 ? "dnf" : major >= 5 ? "yum" : major >= 2 ? "up2date" : null;
            case "altlinux", "debian", "kalilinux", "kylin", "linuxmint", "ubuntu" -> "apt";
            case "archlinux" -> "pacman";
            case "gentoo" -> "portage";
            case "pardus" -> "pisi";
            case "mageia", "mandriva" -> "urpmi";
            case "opensuse", "sles", "suse-based" -> "zypper";
            case "alpinelinux" -> "apk";
            case "voidlinux" -> "xbps";
            default -> null;
        });
    }
}
