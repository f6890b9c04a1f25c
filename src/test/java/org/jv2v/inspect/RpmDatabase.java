package org.jv2v.inspect;

import org.jv2v.testing.Run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real RPM database (SQLite, as RHEL 9 keeps it) for the Rocky test guest: packages built by
 * rpmbuild from specs such as {@link TestGuests#ROCKY_SPEC} and registered by rpm --justdb under the guest's
 * /var/lib/rpm, so virt-inspector (librpm, reading the guest's own macros) has something to list.
 */
final class RpmDatabase {
    private RpmDatabase() {}

    /** Builds the packages of {@code specs} (rpmbuild specs separated by "---" lines) into the tree's database. */
    static void write(Path tree, String specs) throws Exception {
        Path work = Files.createTempDirectory(tree.getParent(), "rpmbuild");
        try {
            List<String> rpms = new ArrayList<>();
            int i = 0;
            for (String spec : specs.split("\n---\n")) {
                Path specFile = Files.writeString(work.resolve("p" + i++ + ".spec"), spec);
                run(work, "rpmbuild", "--quiet", "--define", "_topdir " + work.resolve("top"), "-bb", specFile.toString());
            }
            try (var walk = Files.walk(work.resolve("top/RPMS"))) {
                walk.filter(p -> p.toString().endsWith(".rpm")).forEach(p -> rpms.add(p.toString()));
            }
            run(work, "rpm", "--root", tree.toString(), "--dbpath", "/var/lib/rpm", "--initdb");
            List<String> install = new ArrayList<>(List.of("rpm", "--root", tree.toString(), "--dbpath", "/var/lib/rpm",
                    "-i", "--justdb", "--nodeps", "--noscripts", "--notriggers", "--ignoresize"));
            install.addAll(rpms);
            run(work, install.toArray(String[]::new));
        } finally {
            TestGuests.deleteTree(work);
        }
    }

    private static void run(Path dir, String... cmd) throws Exception {
        Run.Result r = Run.run(List.of(cmd), dir, Map.of("HOME", dir.toString()), 120);
        assertThat(r.exitCode()).as(String.join(" ", cmd) + "\n" + r.all()).isZero();
    }
}
