package org.jv2v.inspect;

import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Guests whose root is in a btrfs subvolume, built by mkfs.btrfs (the empty filesystem, for a fixed
 * UUID) and libguestfs's appliance (guestfish: btrfs-subvolume-create, btrfs-subvolume-set-default,
 * tar-in), since btrfs-progs 6.2's mkfs.btrfs cannot make subvolumes. Both in one guestfish run; kept
 * in target/inspect-guests like the other {@link TestGuests}.
 *
 * <ul>
 * <li>openSUSE-like: the default subvolume is the snapshot {@code @/.snapshots/1/snapshot} (not the
 * top level), which holds the root, and a read-only snapshot of it is {@code @/.snapshots/2/snapshot}
 * (as snapper keeps them: another root to libguestfs); fstab mounts {@code subvol=/@/home}, {@code /@/var} (holding the
 * RPM database) and {@code /@/.snapshots}, paths from the top level (id 5), not from the default.
 * <li>Fedora-like: the top level is the default; the root is in subvolume {@code root}, /home in
 * {@code home}; fstab says {@code subvol=root} and {@code subvol=home}.
 * </ul>
 */
final class BtrfsGuests {
    static final String SUSE_UUID = "5a5e0000-1111-4000-8000-00000000b7f5";
    static final String FEDSUB_UUID = "fed5eb00-2222-4000-8000-00000000b7f5";
    static final long SIZE = 160L << 20;
    static final long START = 2048;
    /**
     * Subvolume ids as guestfish creates them in {@link #SUSE_SCRIPT}'s order: @ 256, @/.snapshots
     * 257, @/.snapshots/1/snapshot 258 (the default), @/home 259, @/var 260.
     */
    static final long SUSE_ROOT_ID = 258;
    static final long SUSE_HOME_ID = 259;
    static final long SUSE_VAR_ID = 260;
    /** A read-only snapshot of the root, as snapper keeps them: @/.snapshots/2/snapshot, 261. */
    static final long SUSE_SNAPSHOT_ID = 261;
    /** Fedora-like: root 256, home 257. */
    static final long FEDSUB_ROOT_ID = 256;
    static final long FEDSUB_HOME_ID = 257;

    private static TestGuests.Guest opensuse;
    private static TestGuests.Guest fedoraSubvol;

    private BtrfsGuests() {}

    static synchronized TestGuests.Guest opensuse() throws Exception {
        build();
        return opensuse;
    }

    static synchronized TestGuests.Guest fedoraSubvol() throws Exception {
        build();
        return fedoraSubvol;
    }

    static final String SUSE_SPEC = """
            Name: openSUSE-release
            Version: 15.5
            Release: 397.1
            Summary: openSUSE Leap 15.5
            License: GPL-2.0-or-later
            URL: https://www.opensuse.org/
            BuildArch: x86_64
            %description
            openSUSE Leap release files (a stand-in made by the jv2v tests).
            %files
            ---
            Name: wicked
            Version: 0.6.73
            Release: 150500.3.6.1
            Summary: Network configuration infrastructure
            License: GPL-2.0-or-later
            %description
            Wicked (a stand-in).
            %files
            """;

    static final String FEDSUB_SPEC = """
            Name: fedora-release-workstation
            Version: 39
            Release: 39
            Summary: Fedora release files
            License: MIT
            BuildArch: noarch
            %description
            Fedora release files (a stand-in made by the jv2v tests).
            %files
            """;

    /** The snapshot the openSUSE guest boots: its root, with empty folders where subvolumes are mounted. */
    static GuestTree suseRoot() throws IOException {
        return TestGuests.rpmSystemd(TestGuests.usrMergedRoot("dev", "proc", "sys", "tmp", "root", "home", "var",
                        ".snapshots", "usr/share", "usr/local"), "zypper", "sqlite")
                .file("usr/lib/os-release", """
                        NAME="openSUSE Leap"
                        VERSION="15.5"
                        ID="opensuse-leap"
                        ID_LIKE="suse opensuse"
                        VERSION_ID="15.5"
                        PRETTY_NAME="openSUSE Leap 15.5"
                        ANSI_COLOR="0;32"
                        """)
                .link("etc/os-release", "../usr/lib/os-release")
                .file("etc/hostname", "leap155.example.com\n")
                .file("etc/fstab", """
                        UUID=%1$s  /            btrfs  defaults              0  0
                        UUID=%1$s  /home        btrfs  subvol=/@/home        0  0
                        UUID=%1$s  /var         btrfs  subvol=/@/var         0  0
                        UUID=%1$s  /.snapshots  btrfs  subvol=/@/.snapshots  0  0
                        """.formatted(SUSE_UUID))
                .file("etc/sysconfig/network/ifcfg-eth0", "BOOTPROTO='dhcp'\nSTARTMODE='auto'\n");
    }

    static GuestTree suseHome() {
        return new GuestTree().file("tux/notes.txt", "on subvolume @/home\n").dir("tux/.config");
    }

    /** @/var: the RPM database is added by rpm itself (see {@link #build}). */
    static GuestTree suseVar() {
        return new GuestTree().file("log/zypper.log", "a log on subvolume @/var\n").dir("tmp", "cache");
    }

    static GuestTree fedsubRoot() throws IOException {
        return TestGuests.fedoraRoot()
                .file("etc/hostname", "fedora-subvol.example.com\n")
                .file("etc/fstab", """
                        UUID=%1$s /      btrfs  subvol=root,compress=zstd:1  0 0
                        UUID=%1$s /home  btrfs  subvol=home,compress=zstd:1  0 0
                        """.formatted(FEDSUB_UUID))
                .dir("home");
    }

    static GuestTree fedsubHome() {
        return new GuestTree().file("user/README", "on subvolume home\n");
    }

    private static final String SUSE_SCRIPT = """
            mount /dev/sda1 /
            btrfs-subvolume-create /@
            btrfs-subvolume-create /@/.snapshots
            mkdir /@/.snapshots/1
            btrfs-subvolume-create /@/.snapshots/1/snapshot
            btrfs-subvolume-create /@/home
            btrfs-subvolume-create /@/var
            tar-in %s /@/.snapshots/1/snapshot
            tar-in %s /@/home
            tar-in %s /@/var
            mkdir /@/.snapshots/2
            btrfs-subvolume-snapshot /@/.snapshots/1/snapshot /@/.snapshots/2/snapshot ro:true
            btrfs-subvolume-set-default %d /
            umount-all
            """;

    private static final String FEDSUB_SCRIPT = """
            mount /dev/sdb1 /
            btrfs-subvolume-create /root
            btrfs-subvolume-create /home
            tar-in %s /root
            tar-in %s /home
            umount-all
            """;

    private static void build() throws Exception {
        if (opensuse != null) {
            return;
        }
        Tools.require("guestfish", "sfdisk", "mkfs.btrfs", "tar", "rpmbuild", "rpm");
        GuestTree suseRoot = suseRoot();
        GuestTree suseHome = suseHome();
        GuestTree suseVar = suseVar();
        GuestTree fedRoot = fedsubRoot();
        GuestTree fedHome = fedsubHome();
        Path suseDir = Files.createDirectories(TestGuests.home().resolve("opensuse"));
        Path fedDir = Files.createDirectories(TestGuests.home().resolve("fedora-subvol"));
        Path suseImage = suseDir.resolve("opensuse.img");
        Path fedImage = fedDir.resolve("fedora-subvol.img");
        String suseStamp = TestGuests.stamp("opensuse " + SUSE_SPEC + SUSE_SCRIPT, suseRoot, suseHome, suseVar);
        String fedStamp = TestGuests.stamp("fedora-subvol " + FEDSUB_SPEC + FEDSUB_SCRIPT + TestGuests.FEDORA_SPEC,
                fedRoot, fedHome);
        if (!TestGuests.fresh(suseDir, suseStamp, suseImage) || !TestGuests.fresh(fedDir, fedStamp, fedImage)) {
            Files.deleteIfExists(suseDir.resolve("stamp"));
            Files.deleteIfExists(fedDir.resolve("stamp"));
            blankBtrfs(suseDir, suseImage, SUSE_UUID, "suse");
            blankBtrfs(fedDir, fedImage, FEDSUB_UUID, "fedora");
            Path rootTar = TestGuests.tar(suseDir, "root", suseRoot, t -> { });
            Path homeTar = TestGuests.tar(suseDir, "home", suseHome, t -> { });
            // rpm writes the database under <root>/var/lib/rpm; @/var is that <root>/var
            Path varTar = TestGuests.tar(suseDir, "var", new GuestTree(), t -> {
                Path staging = suseDir.resolve("rpm-root");
                TestGuests.deleteTree(staging);
                suseVar.writeTo(staging.resolve("var"));
                RpmDatabase.write(staging, SUSE_SPEC);
                TestGuests.deleteTree(t);
                Files.move(staging.resolve("var"), t);
                TestGuests.deleteTree(staging);
            });
            Path fedRootTar = TestGuests.tar(fedDir, "root", fedRoot, t -> RpmDatabase.write(t, FEDSUB_SPEC));
            Path fedHomeTar = TestGuests.tar(fedDir, "home", fedHome, t -> { });
            String script = "run\n" + SUSE_SCRIPT.formatted(rootTar, homeTar, varTar, SUSE_ROOT_ID)
                    + FEDSUB_SCRIPT.formatted(fedRootTar, fedHomeTar);
            TestGuests.guestfish(suseDir, script, List.of(suseImage, fedImage));
            for (Path p : List.of(rootTar, homeTar, varTar, fedRootTar, fedHomeTar)) {
                Files.delete(p);
            }
            Files.writeString(suseDir.resolve("stamp"), suseStamp);
            Files.writeString(fedDir.resolve("stamp"), fedStamp);
        }
        opensuse = new TestGuests.Guest("opensuse", suseImage, Map.of("/", suseRoot, "/home", suseHome, "/var", suseVar));
        fedoraSubvol = new TestGuests.Guest("fedora-subvol", fedImage, Map.of("/", fedRoot, "/home", fedHome));
    }

    /** An MBR disk with one partition holding an empty btrfs (mkfs.btrfs on the host, for a fixed UUID). */
    private static void blankBtrfs(Path dir, Path image, String uuid, String label) throws Exception {
        TestGuests.partitioned(dir, image, SIZE, "label: dos\nstart=" + START + ", type=83\n");
        TestGuests.formatted(dir, image, START, SIZE / 512 - START, "part.btrfs",
                part -> TestGuests.run(dir, "mkfs.btrfs", "-q", "-f", "-U", uuid, "-L", label, part.toString()));
    }
}
