package org.jv2v.inspect.rpm;

import org.jv2v.BadInputException;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * RPM databases and SQLite files made by the real tools at test time (rpmbuild, rpm --initdb and
 * rpm -i --justdb, which write SQLite as RHEL 9 does; the sqlite3 shell), read by jv2v and compared
 * with what rpm -qa and sqlite3 print for the same files; then damaged ones give one-line errors.
 */
class RpmPackagesTest {
    @TempDir
    static Path dir;
    static Path db;

    /** 40 packages with long descriptions (their headers spill to overflow pages), and a few plain ones. */
    @BeforeAll
    static void build() throws Exception {
        Tools.require("rpmbuild", "rpm", "sqlite3");
        StringBuilder big = new StringBuilder("""
                Name: bigpkg
                Epoch: 3
                Version: 2.0.1
                Release: 7.el9
                Summary: The main package
                License: MIT
                URL: https://example.org/big
                BuildArch: noarch
                %description
                The main package.
                %files
                """);
        for (int i = 0; i < 40; i++) {
            big.append("%package -n sub").append(i).append("\nSummary: Subpackage number ").append(i)
                    .append("\n%description -n sub").append(i).append('\n');
            for (int line = 0; line < 10 + i * 4; line++) {
                big.append("Line ").append(line).append(" of the long description of subpackage ").append(i)
                        .append(", to make its header bigger than a page.\n");
            }
            big.append("%files -n sub").append(i).append('\n');
        }
        String plain = """
                Name: plain
                Version: 1
                Release: 1
                Summary: No URL, no epoch
                License: MIT
                %description
                Short.
                %files
                """;
        Path work = Files.createDirectories(dir.resolve("build"));
        int n = 0;
        for (String spec : List.of(big.toString(), plain)) {
            Path f = Files.writeString(work.resolve("p" + n++ + ".spec"), spec);
            run(work, "rpmbuild", "--quiet", "--define", "_topdir " + work.resolve("top"), "-bb", f.toString());
        }
        List<String> install = new ArrayList<>(List.of("rpm", "--root", dir.resolve("root").toString(), "--dbpath",
                "/var/lib/rpm", "-i", "--justdb", "--nodeps", "--noscripts", "--notriggers", "--ignoresize"));
        try (var walk = Files.walk(work.resolve("top/RPMS"))) {
            walk.filter(p -> p.toString().endsWith(".rpm")).forEach(p -> install.add(p.toString()));
        }
        run(work, "rpm", "--root", dir.resolve("root").toString(), "--dbpath", "/var/lib/rpm", "--initdb");
        run(work, install.toArray(String[]::new));
        db = dir.resolve("root/var/lib/rpm/rpmdb.sqlite");
    }

    @Test
    void everyPackageAsRpmQueriesIt() throws Exception {
        Run.Result q = run(dir, "rpm", "--root", dir.resolve("root").toString(), "--dbpath", "/var/lib/rpm", "-qa",
                "--qf", "%{NAME}@@%{EPOCH}@@%{VERSION}@@%{RELEASE}@@%{ARCH}@@%{URL}@@%{SUMMARY}@@%{DESCRIPTION}##\n");
        Map<String, String> theirs = new TreeMap<>();
        for (String rec : q.stdout().split("##\n")) {
            if (!rec.isBlank()) {
                theirs.put(rec.substring(0, rec.indexOf("@@")), rec);
            }
        }
        Map<String, String> ours = new TreeMap<>();
        for (RpmHeader h : read(db)) {
            String epoch = h.number(RpmHeader.EPOCH).map(String::valueOf).orElse("(none)");
            String rec = String.join("@@", s(h, RpmHeader.NAME), epoch, s(h, RpmHeader.VERSION), s(h, RpmHeader.RELEASE),
                    s(h, RpmHeader.ARCH), s(h, RpmHeader.URL), s(h, RpmHeader.SUMMARY), s(h, RpmHeader.DESCRIPTION));
            ours.put(s(h, RpmHeader.NAME), rec);
        }
        assertThat(ours).hasSize(42).isEqualTo(theirs);
        assertThat(ours.get("plain")).contains("@@(none)@@1@@1@@");
        assertThat(Files.size(db)).as("a table of several pages").isGreaterThan(100_000);
    }

    /**
     * The same headers in a Berkeley DB hash file as RHEL 8 keeps them, made by db5.3_load from
     * the sqlite database's blobs (keys: the instance numbers in the file's byte order, and
     * instance 0 holding the next free number, as rpm writes it), on small pages (long overflow
     * chains, many buckets) and big ones, in both byte orders; rpm's own bdb_ro backend lists the
     * same packages as jv2v.
     */
    @Test
    void berkeleyDbPackagesAsRpmsBdbRoReadsThem() throws Exception {
        Tools.require("db5.3_load");
        for (int pageSize : List.of(512, 4096, 65536)) {
            for (boolean bigEndian : List.of(false, true)) {
                String what = "page size " + pageSize + (bigEndian ? ", big-endian" : ", little-endian");
                Path bdbDir = berkeleyDb("bdb-" + pageSize + (bigEndian ? "-be" : "-le"), pageSize, bigEndian);
                Run.Result q = run(dir, "rpm", "--dbpath", bdbDir.toString(), "--define", "_db_backend bdb_ro", "-qa",
                        "--qf", QF);
                Map<String, String> theirs = records(q.stdout());
                Path f = bdbDir.resolve("Packages");
                Map<String, String> ours = new TreeMap<>();
                for (RpmHeader h : RpmPackages.readBerkeleyDb(source(f), Files.size(f), f.toString())) {
                    ours.put(s(h, RpmHeader.NAME), record(h));
                }
                assertThat(ours).as(what).hasSize(42).isEqualTo(theirs);
            }
        }
    }

    @Test
    void aLoopInABucketChainIsAnError() throws Exception {
        Tools.require("db5.3_load");
        Path f = berkeleyDb("bdb-loop", 512, false).resolve("Packages");
        // bucket 0's first page (1 + spares[0]) chained to itself
        long page = readAt(f, 0x60, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0);
        patchIntLe(f, page * 512 + 0x10, (int) page);
        assertThatThrownBy(() -> RpmPackages.readBerkeleyDb(source(f), Files.size(f), f.toString()))
                .isInstanceOf(BadInputException.class)
                .hasMessage(f + ": bucket 0 at offset 0x" + Long.toHexString(page * 512) + ": page " + page
                        + " reached twice: the chains loop");
    }

    @Test
    void anOverflowLengthOfTwoTo32IsAnError() throws Exception {
        Tools.require("db5.3_load");
        Path f = berkeleyDb("bdb-len", 512, false).resolve("Packages");
        // the first off-page item (type 3) of bucket 0's page: its total length set to 0xffffffff
        long page = readAt(f, 0x60, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0);
        ByteBuffer p = readAt(f, page * 512, 512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int n = p.getShort(0x14);
        int item = -1;
        for (int i = 0; i < n && item < 0; i++) {
            int at = p.getShort(26 + 2 * i) & 0xffff;
            if (p.get(at) == 3) {
                item = at;
            }
        }
        assertThat(item).as("an off-page value on bucket 0's page").isPositive();
        patchIntLe(f, page * 512 + item + 8, -1);
        assertThatThrownBy(() -> RpmPackages.readBerkeleyDb(source(f), Files.size(f), f.toString()))
                .isInstanceOf(BadInputException.class)
                .hasMessage(f + ": off-page item length at offset 0x" + Long.toHexString(page * 512 + item + 8)
                        + ": 4294967295 bytes cannot come from a " + Files.size(f) + "-byte file");
    }

    /**
     * Random damage (seeded): a few bytes of a real Packages file changed, 400 times over; every
     * read either works or ends in a one-line BadInputException, never another exception or a hang.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void randomDamageIsReadOrRefusedNeverAnythingElse() throws Exception {
        Tools.require("db5.3_load");
        Path good = berkeleyDb("bdb-fuzz", 512, false).resolve("Packages");
        byte[] original = Files.readAllBytes(good);
        java.util.Random rnd = new java.util.Random(42);
        int read = 0;
        int refused = 0;
        for (int round = 0; round < 400; round++) {
            byte[] b = original.clone();
            for (int k = 1 + rnd.nextInt(4); k > 0; k--) {
                // half the damage in the first pages (metadata, bucket pages), half anywhere
                int at = rnd.nextBoolean() ? rnd.nextInt(Math.min(b.length, 4 * 512)) : rnd.nextInt(b.length);
                b[at] = (byte) rnd.nextInt(256);
            }
            try {
                RpmPackages.readBerkeleyDb(source(b), b.length, "damaged");
                read++;
            } catch (BadInputException e) {
                assertThat(e.getMessage()).startsWith("damaged").doesNotContain("\n");
                refused++;
            }
        }
        System.out.println("Berkeley DB random damage, seed 42: read " + read + ", refused " + refused);
        assertThat(refused).as("damage is noticed").isGreaterThan(40);
    }

    static SqliteTable.Source source(byte[] file) {
        return (dst, pos) -> {
            if (pos < 0 || pos + dst.remaining() > file.length) {
                throw new IOException("read past the end");
            }
            dst.put(file, (int) pos, dst.remaining());
        };
    }

    @Test
    void notABerkeleyDbHashFile() throws Exception {
        Path junk = dir.resolve("Packages.junk");
        Files.write(junk, new byte[4096]);
        assertThatThrownBy(() -> RpmPackages.readBerkeleyDb(source(junk), 4096, junk.toString()))
                .isInstanceOf(BadInputException.class)
                .hasMessage(junk + ": magic at offset 0xc: 0x00000000 is not a Berkeley DB hash database's");
    }

    static final String QF = "%{NAME}@@%{EPOCH}@@%{VERSION}@@%{RELEASE}@@%{ARCH}@@%{URL}@@%{SUMMARY}@@%{DESCRIPTION}##\n";

    private static Map<String, String> records(String rpmOutput) {
        Map<String, String> out = new TreeMap<>();
        for (String rec : rpmOutput.split("##\n")) {
            if (!rec.isBlank()) {
                out.put(rec.substring(0, rec.indexOf("@@")), rec);
            }
        }
        return out;
    }

    private static String record(RpmHeader h) {
        String epoch = h.number(RpmHeader.EPOCH).map(String::valueOf).orElse("(none)");
        return String.join("@@", s(h, RpmHeader.NAME), epoch, s(h, RpmHeader.VERSION), s(h, RpmHeader.RELEASE),
                s(h, RpmHeader.ARCH), s(h, RpmHeader.URL), s(h, RpmHeader.SUMMARY), s(h, RpmHeader.DESCRIPTION));
    }

    /** A folder holding a Packages file made by db5.3_load from the sqlite database's header blobs. */
    static Path berkeleyDb(String name, int pageSize, boolean bigEndian) throws Exception {
        Path out = Files.createDirectories(dir.resolve(name));
        org.jv2v.inspect.RpmDatabase.toBerkeleyDb(db, out.resolve("Packages"), pageSize, bigEndian);
        return out;
    }

    private static void patchIntLe(Path f, long offset, int value) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, value), offset);
        }
    }

    private static String s(RpmHeader h, int tag) {
        return h.string(tag).orElse("(none)");
    }

    /** A table of every kind of value, on the smallest and the biggest pages, as the sqlite3 shell prints it. */
    @Test
    void anyTableAsTheSqliteShellPrintsIt() throws Exception {
        for (int pageSize : List.of(512, 65536)) {
            Path f = dir.resolve("t" + pageSize + ".db");
            run(dir, "sqlite3", f.toString(), "PRAGMA page_size=" + pageSize + ";"
                    + "CREATE TABLE t(id INTEGER PRIMARY KEY, n, r, s, b);"
                    + "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) "
                    + "INSERT INTO t SELECT i, (i - 1500) * 1234567891, CASE WHEN i % 7 = 0 THEN NULL ELSE i / 8.0 END, "
                    + "printf('%.*c', (i * 37) % 5000, 'x'), CAST(zeroblob(i % 3) || randomblob(i % 300) AS BLOB) FROM c;");
            Run.Result r = run(dir, "sqlite3", "-separator", "|", f.toString(),
                    "SELECT id, n, quote(r), length(s), hex(b) FROM t ORDER BY id");
            List<String> ours = new ArrayList<>();
            SqliteTable.forEachRow(source(f), Files.size(f), f.toString(), "t", row -> {
                List<Object> v = row.values();
                assertThat(v.getFirst()).as("INTEGER PRIMARY KEY is the rowid, stored as NULL").isNull();
                String real = v.get(2) == null ? "NULL" : String.valueOf(v.get(2));
                ours.add(row.rowid() + "|" + v.get(1) + "|" + real + "|" + ((String) v.get(3)).length() + "|"
                        + java.util.HexFormat.of().withUpperCase().formatHex((byte[]) v.get(4)));
            });
            assertThat(ours).as("page size " + pageSize).hasSize(3000).containsExactlyElementsOf(
                    List.of(r.stdout().strip().split("\n")));
        }
    }

    @Test
    void aLoopInTheTableTreeIsAnError() throws Exception {
        Path bad = copy("loop.sqlite");
        long root = rootPage(bad);
        int pageSize = 4096;
        ByteBuffer head = readAt(bad, (root - 1) * pageSize, 12);
        assertThat(head.get(0)).as("the Packages table's root is an interior page").isEqualTo((byte) 0x05);
        patchInt(bad, (root - 1) * pageSize + 8, (int) root);      // its right-most child: itself
        assertThatThrownBy(() -> read(bad)).isInstanceOf(BadInputException.class)
                .hasMessage(bad + ": b-tree page " + root + " at offset 0x" + Long.toHexString((root - 1) * pageSize)
                        + ": reached twice: the table's tree has a loop");
    }

    @Test
    void aChildPagePastTheFileIsAnError() throws Exception {
        Path bad = copy("past.sqlite");
        long root = rootPage(bad);
        patchInt(bad, (root - 1) * 4096 + 8, 0x7fffffff);
        assertThatThrownBy(() -> read(bad)).isInstanceOf(BadInputException.class)
                .hasMessageContaining(bad + ": b-tree: page 2147483647 lies outside the ");
    }

    @Test
    void aHeaderWithTwoTo32IndexEntriesIsAnError() throws Exception {
        Path bad = copy("count.sqlite");
        // sqlite3 itself writes the damage: the first package's header says 0xffffffff index entries
        run(dir, "sqlite3", bad.toString(), "UPDATE Packages SET blob = CAST(X'FFFFFFFF' || substr(blob, 5) AS BLOB) "
                + "WHERE hnum = (SELECT min(hnum) FROM Packages)");
        assertThatThrownBy(() -> read(bad)).isInstanceOf(BadInputException.class)
                .hasMessageMatching(java.util.regex.Pattern.quote(bad.toString())
                        + " \\(row [0-9]+\\): index entry count at offset 0x0: 4294967295 is not within \\[1, 65535\\]");
    }

    @Test
    void aStringOffsetPastTheDataStoreIsAnError() throws Exception {
        Path bad = copy("offset.sqlite");
        // the name tag's offset (bytes 8..11 of its 16-byte index entry) set past the data store
        run(dir, "sqlite3", bad.toString(), "UPDATE Packages SET blob = CAST(substr(blob, 1, instr(blob, X'000003E800000006') + 7)"
                + " || X'7FFFFFF0' || substr(blob, instr(blob, X'000003E800000006') + 12) AS BLOB) WHERE hnum = "
                + "(SELECT min(hnum) FROM Packages)");
        assertThatThrownBy(() -> read(bad)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("tag 1000 at offset 0x").hasMessageContaining(
                        ": offset 2147483632 (count 1) lies outside the ");
    }

    @Test
    void notAnSqliteFile() throws Exception {
        Path bad = dir.resolve("junk.sqlite");
        Files.write(bad, new byte[4096]);
        assertThatThrownBy(() -> read(bad)).isInstanceOf(BadInputException.class)
                .hasMessage(bad + ": magic at offset 0x0: not an SQLite 3 database");
    }

    // ---- helpers ----

    private static List<RpmHeader> read(Path f) throws IOException {
        return RpmPackages.read(source(f), Files.size(f), f.toString());
    }

    static SqliteTable.Source source(Path f) {
        return (dst, pos) -> {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                while (dst.hasRemaining()) {
                    if (ch.read(dst, pos + dst.position()) < 0) {
                        throw new IOException("short read");
                    }
                }
            }
        };
    }

    private static Path copy(String name) throws IOException {
        return Files.copy(db, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    private static long rootPage(Path f) throws Exception {
        return Long.parseLong(run(dir, "sqlite3", f.toString(),
                "SELECT rootpage FROM sqlite_master WHERE name = 'Packages'").stdout().strip());
    }

    private static ByteBuffer readAt(Path f, long offset, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ch.read(b, offset);
        }
        return b.flip();
    }

    private static void patchInt(Path f, long offset, int value) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).putInt(0, value), offset);
        }
    }

    private static Run.Result run(Path work, String... cmd) throws Exception {
        Run.Result r = Run.run(List.of(cmd), work, Map.of("HOME", work.toString()), 300);
        assertThat(r.exitCode()).as(String.join(" ", cmd) + "\n" + r.all()).isZero();
        return r;
    }
}
