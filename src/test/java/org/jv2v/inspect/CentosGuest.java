package org.jv2v.inspect;

import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A CentOS 8 guest whose RPM database is a Berkeley DB hash file (/var/lib/rpm/Packages, as on RHEL
 * and CentOS 5 to 8): packages built by rpmbuild and registered by rpm --justdb (SQLite, the only
 * backend Debian's rpm writes), then their header blobs loaded into a hash file by db5.3_load. The
 * root is ext4 (mkfs.ext4 -d) on an MBR disk; kept in target/inspect-guests like the other
 * {@link TestGuests}.
 */
final class CentosGuest {
    static final String ROOT_UUID = "c3e7f058-0000-4000-8000-0000000bdb08";
    static final long SIZE = 64L << 20;
    static final long START = 2048;

    private static TestGuests.Guest centos;

    private CentosGuest() {}

    static final String SPEC = """
            Name: centos-release
            Version: 8.5
            Release: 1.2111.el8
            Summary: CentOS Linux release file
            License: GPLv2
            BuildArch: noarch
            %description
            CentOS Linux release files (a stand-in made by the jv2v tests).
            %files
            ---
            Name: bash
            Version: 4.4.20
            Release: 2.el8
            Epoch: 0
            Summary: The GNU Bourne Again shell
            License: GPLv3+
            URL: https://www.gnu.org/software/bash
            %description
            The GNU Bourne Again shell (a stand-in).
            %files
            ---
            Name: openssh-server
            Version: 8.0p1
            Release: 10.el8
            Epoch: 1
            Summary: An open source SSH server daemon
            License: BSD
            URL: http://www.openssh.com/portable.html
            %description
            OpenSSH is a free version of SSH (a stand-in).
            %files
            """;

    static GuestTree root() throws IOException {
        // CentOS 8 says bdb; librpm builds without it (Debian's) read the file with bdb_ro
        return TestGuests.rpmSystemd(TestGuests.usrMergedRoot("boot", "dev", "home", "proc", "sys", "tmp", "root",
                        "usr/share", "usr/local"), "dnf", "bdb_ro")
                .file("etc/os-release", """
                        NAME="CentOS Linux"
                        VERSION="8"
                        ID="centos"
                        ID_LIKE="rhel fedora"
                        VERSION_ID="8"
                        PLATFORM_ID="platform:el8"
                        PRETTY_NAME="CentOS Linux 8"
                        """)
                .redHatRelease("centos", "CentOS Linux release 8.5.2111\n")
                .file("etc/hostname", "centos8.example.com\n")
                .file("etc/fstab", "UUID=" + ROOT_UUID + " /  ext4  defaults 1 1\n");
    }

    static synchronized TestGuests.Guest centos8() throws Exception {
        if (centos != null) {
            return centos;
        }
        Tools.require("sfdisk", "mkfs.ext4", "rpmbuild", "rpm", "sqlite3", "db5.3_load");
        GuestTree root = root();
        Path dir = Files.createDirectories(TestGuests.home().resolve("centos8"));
        Path image = dir.resolve("centos8.img");
        String stamp = TestGuests.stamp("centos8 " + SPEC, root);
        if (!TestGuests.fresh(dir, stamp, image)) {
            Files.deleteIfExists(dir.resolve("stamp"));
            TestGuests.partitioned(dir, image, SIZE, "label: dos\nstart=" + START + ", type=83\n");
            TestGuests.mkext4(dir, image, START, SIZE / 512 - START, ROOT_UUID, "", root, t -> {
                RpmDatabase.write(t, SPEC);
                Path rpmdb = t.resolve("var/lib/rpm");
                RpmDatabase.toBerkeleyDb(rpmdb.resolve("rpmdb.sqlite"), rpmdb.resolve("Packages"), 4096, false);
                try (var files = Files.list(rpmdb)) {
                    for (Path p : files.toList()) {
                        if (p.getFileName().toString().startsWith("rpmdb.sqlite")) {
                            Files.delete(p);
                        }
                    }
                }
            });
            Files.writeString(dir.resolve("stamp"), stamp);
        }
        centos = new TestGuests.Guest("centos8", image, Map.of("/", root));
        return centos;
    }
}
