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
public final class RpmDatabase {
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

    /**
     * The packages of an SQLite RPM database as a Berkeley DB hash "Packages" file (RHEL/CentOS 5
     * to 8), made by db5.3_load from the header blobs: keys are the instance numbers in the file's
     * byte order, and instance 0 holds the next free number, as rpm writes them.
     */
    public static void toBerkeleyDb(Path sqliteDb, Path packages, int pageSize, boolean bigEndian) throws Exception {
        Path work = packages.getParent();
        Run.Result rows = Run.run(List.of("sqlite3", "-separator", "|", sqliteDb.toString(),
                "SELECT hnum, hex(blob) FROM Packages"), work, Map.of(), 120);
        assertThat(rows.exitCode()).as(rows.all()).isZero();
        StringBuilder dump = new StringBuilder("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=" + pageSize
                + "\ndb_lorder=" + (bigEndian ? 4321 : 1234) + "\nHEADER=END\n");
        java.nio.ByteOrder order = bigEndian ? java.nio.ByteOrder.BIG_ENDIAN : java.nio.ByteOrder.LITTLE_ENDIAN;
        java.util.HexFormat hex = java.util.HexFormat.of();
        int max = 0;
        for (String line : rows.stdout().strip().split("\n")) {
            String[] f = line.split("\\|");
            int hnum = Integer.parseInt(f[0]);
            max = Math.max(max, hnum);
            dump.append(' ').append(hex.formatHex(java.nio.ByteBuffer.allocate(4).order(order).putInt(hnum).array()))
                    .append('\n');
            dump.append(' ').append(f[1].toLowerCase(java.util.Locale.ROOT)).append('\n');
        }
        dump.append(' ').append(hex.formatHex(new byte[4])).append('\n');
        dump.append(' ').append(hex.formatHex(java.nio.ByteBuffer.allocate(4).order(order).putInt(max + 1).array()))
                .append("\nDATA=END\n");
        Files.deleteIfExists(packages);
        Path dumpFile = Files.writeString(work.resolve(packages.getFileName() + ".dump"), dump);
        try {
            run(work, "db5.3_load", "-f", dumpFile.toString(), packages.toString());
        } finally {
            Files.delete(dumpFile);
        }
    }

    private static void run(Path dir, String... cmd) throws Exception {
        Run.Result r = Run.run(List.of(cmd), dir, Map.of("HOME", dir.toString()), 120);
        assertThat(r.exitCode()).as(String.join(" ", cmd) + "\n" + r.all()).isZero();
    }
}
