package org.jv2v.inspect;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * dpkg's status file as jv2v reads it, against dpkg-query reading the same file: the same installed
 * packages with the same name, version (epoch:version-release put back together), architecture,
 * source package, home page and summary (virt-inspector's listing is compared in
 * {@link VirtInspectorComparisonTest}).
 */
class PackagesTest {
    @TempDir
    Path dir;

    @Test
    void dpkgStatusAsDpkgQueryReadsIt() throws Exception {
        Tools.require("dpkg-query");
        Path admin = Files.createDirectories(dir.resolve("dpkg"));
        Files.createDirectories(admin.resolve("updates"));
        Files.writeString(admin.resolve("status"), TestGuests.DPKG_STATUS);
        Files.writeString(admin.resolve("available"), "");
        Run.Result r = Run.checked(List.of("dpkg-query", "--admindir=" + admin, "-W", "-f",
                "${db:Status-Abbrev}|${Package}|${Version}|${Architecture}|${source:Package}|${Homepage}"
                        + "|${binary:Summary}\n"));
        Map<String, String> theirs = new TreeMap<>();
        for (String line : r.stdout().split("\n")) {
            String[] f = line.split("\\|", -1);
            if (f[0].startsWith("ii")) {
                String source = f[4].equals(f[1]) ? "" : f[4];
                theirs.put(f[1], String.join("|", f[2], f[3], source, f[5], f[6]));
            }
        }
        Map<String, String> ours = new TreeMap<>();
        for (Application a : Packages.parseDpkg(TestGuests.DPKG_STATUS)) {
            String version = (a.epoch() != 0 ? a.epoch() + ":" : "") + a.version()
                    + (a.release().isEmpty() ? "" : "-" + a.release());
            ours.put(a.name(), String.join("|", version, a.arch(), a.sourcePackage(), a.url(), a.summary()));
        }
        assertThat(ours).isEqualTo(theirs).hasSize(4);
    }

    @Test
    void dpkgDescriptionsAndOddities() {
        List<Application> apps = Packages.parseDpkg("""
                Package: a
                Status: install ok installed
                Version: 2:1.0-1-2
                Description: first line
                 second
                 .
                 third
                Conffiles:
                 /etc/a 0123

                Package: half
                Status: install reinstreq half-installed
                Version: 1
                
                Package: no-blank-line-after-it
                Status: install ok installed
                Version: 1
                """);
        assertThat(apps).extracting(Application::name).containsExactly("a", "half");
        Application a = apps.getFirst();
        assertThat(a.epoch()).isEqualTo(2);
        assertThat(a.version()).as("libguestfs splits at the first '-'").isEqualTo("1.0");
        assertThat(a.release()).isEqualTo("1-2");
        assertThat(a.summary()).isEqualTo("first line");
        assertThat(a.description()).isEqualTo("second\n.\nthird");
    }
}
