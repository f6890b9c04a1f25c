package org.jv2v.fs.ntfs;

import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystems;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Volumes made by mkntfs (every cluster size class, 512- and 4096-byte sectors) and filled by
 * ntfscp, read back by jv2v and compared with what went in and with ntfsls / ntfscat / ntfsinfo /
 * blkid.
 */
class NtfsImageTest {
    @TempDir
    static Path tmp;

    record Fixture(Path img, int cluster, Map<String, byte[]> files, Map<String, Instant> mtimes) {}

    private static final Map<String, Fixture> FIXTURES = new ConcurrentHashMap<>();

    @BeforeAll
    static void tools() {
        Tools.require("mkntfs", "ntfscp", "ntfscat", "ntfsls", "ntfsinfo", "ntfsfix", "ntfsresize", "blkid");
    }

    /** A 64 MiB volume with the given cluster (and sector) size, built once per size. */
    static synchronized Fixture fixture(int cluster, int sector) throws Exception {
        String key = cluster + "-" + sector;
        Fixture f = FIXTURES.get(key);
        if (f != null) {
            return f;
        }
        Path dir = Files.createDirectories(tmp.resolve("src").resolve(key));
        Path img = dir.resolve("ntfs.img");
        try (RandomAccessFile raf = new RandomAccessFile(img.toFile(), "rw")) {
            raf.setLength(64L << 20);
        }
        Tools.run("mkntfs", "-F", "-Q", "-q", "-c", String.valueOf(cluster), "-s", String.valueOf(sector),
                "-L", "jv2v-" + cluster, img.toString());
        Random rnd = new Random(cluster * 31L + sector);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("/small.txt", "a resident file\n".repeat(10).getBytes(StandardCharsets.UTF_8));
        files.put("/empty", new byte[0]);
        files.put("/medium.bin", bytes(rnd, 300_000));
        files.put("/big.bin", bytes(rnd, 3 << 20));
        files.put("/Grüße 文件.txt", "unicode name\n".getBytes(StandardCharsets.UTF_8));
        Map<String, Instant> mtimes = new LinkedHashMap<>();
        Path stage = Files.createDirectories(tmp.resolve("stage-" + key));
        int k = 0;
        for (var e : files.entrySet()) {
            Path src = stage.resolve("f" + k);
            Files.write(src, e.getValue());
            // ntfscp -t copies the modification time: make each distinct, with sub-second digits.
            Instant mtime = Instant.parse("2019-0" + (k + 1) + "-1" + k + "T0" + k + ":3" + k + ":0" + k + "Z")
                    .plusNanos(123_456_700L + k * 100);
            Files.setLastModifiedTime(src, FileTime.from(mtime));
            mtimes.put(e.getKey(), mtime);
            Tools.run("ntfscp", "-q", "-t", img.toString(), src.toString(), e.getKey());
            k++;
        }
        Path meta = stage.resolve("meta");
        Files.write(meta, bytes(rnd, 1000));
        Tools.run("ntfscp", "-q", "-N", "meta", img.toString(), meta.toString(), "/medium.bin");
        files.put("/medium.bin:meta", Files.readAllBytes(meta));
        f = new Fixture(img, cluster, files, mtimes);
        FIXTURES.put(key, f);
        return f;
    }

    static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        // Some runs of zeros and text, so the content is not only noise.
        for (int i = 0; i + 64 < n; i += 4096) {
            java.util.Arrays.fill(b, i, i + 32, (byte) 0);
        }
        return b;
    }

    static FileSystem open(Path img) throws IOException {
        org.jv2v.testing.FileDevice dev = org.jv2v.testing.FileDevice.open(img);
        var fmt = FileSystems.probe(dev);
        assertThat(fmt).as("probe").isPresent();
        assertThat(fmt.get().name()).isEqualTo("ntfs");
        return fmt.get().open(dev);
    }

    @ParameterizedTest(name = "cluster {0}")
    @ValueSource(ints = {512, 4096, 65536, 2 << 20})
    void filesReadBackIdentical(int cluster) throws Exception {
        Fixture f = fixture(cluster, 512);
        String before = Checksums.sha256(f.img());
        try (FileSystem fs = open(f.img())) {
            for (var e : f.files().entrySet()) {
                byte[] got = readAll(fs, e.getKey());
                assertThat(got).as(e.getKey()).isEqualTo(e.getValue());
                if (!e.getKey().contains(":")) {
                    assertThat(Oracle.cat(f.img(), e.getKey())).as("ntfscat " + e.getKey()).isEqualTo(e.getValue());
                }
            }
            // Unaligned reads across cluster and run boundaries.
            byte[] big = f.files().get("/big.bin");
            Random rnd = new Random(7);
            for (int i = 0; i < 200; i++) {
                int pos = rnd.nextInt(big.length);
                int len = Math.min(rnd.nextInt(3 * cluster + 17) + 1, big.length - pos);
                ByteBuffer b = ByteBuffer.allocate(len);
                assertThat(fs.read("/big.bin", b, pos)).isEqualTo(len);
                assertThat(b.array()).isEqualTo(java.util.Arrays.copyOfRange(big, pos, pos + len));
            }
            assertThat(fs.read("/big.bin", ByteBuffer.allocate(10), big.length)).isEqualTo(-1);
        }
        // The source is sacred: opened read-only, left byte-for-byte as the tools made it.
        assertThat(Checksums.sha256(f.img())).isEqualTo(before);
    }

    @Test
    void sector4096Volume() throws Exception {
        Fixture f = fixture(4096, 4096);
        try (FileSystem fs = open(f.img())) {
            for (var e : f.files().entrySet()) {
                assertThat(readAll(fs, e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
        }
    }

    @ParameterizedTest(name = "cluster {0}")
    @ValueSource(ints = {512, 4096, 2 << 20})
    void listingAndStatAgreeWithNtfsTools(int cluster) throws Exception {
        Fixture f = fixture(cluster, 512);
        try (FileSystem fs = open(f.img())) {
            List<DirEntry> root = fs.list("/");
            List<String> expected = new ArrayList<>();
            for (String line : Run.checked(List.of("ntfsls", "-i", f.img().toString())).stdout().split("\n")) {
                if (!line.isBlank()) {
                    expected.add(line.trim());
                }
            }
            assertThat(root.stream().map(d -> d.inode() + " " + d.name()).toList()).isEqualTo(expected);
            assertThat(root).allMatch(d -> d.kind() == FileKind.REGULAR);

            for (var e : f.mtimes().entrySet()) {
                FileStat st = fs.stat(e.getKey());
                assertThat(st.kind()).isEqualTo(FileKind.REGULAR);
                assertThat(st.size()).isEqualTo(f.files().get(e.getKey()).length);
                assertThat(st.mode()).isEqualTo(0777);
                assertThat(st.links()).isEqualTo(1);
                // ntfscp -t copies the host file's whole seconds (the guestfish fixture checks 100 ns).
                assertThat(st.mtime()).as(e.getKey()).isEqualTo(e.getValue().truncatedTo(ChronoUnit.SECONDS));
                Map<String, String> info = ntfsinfoTimes(f.img(), e.getKey());
                assertThat(fmt(st.mtime())).isEqualTo(info.get("File Altered Time"));
                assertThat(fmt(st.atime())).isEqualTo(info.get("Last Accessed Time"));
                assertThat(fmt(st.ctime())).isEqualTo(info.get("MFT Changed Time"));
            }
            assertThat(fs.stat("/").kind()).isEqualTo(FileKind.DIRECTORY);
            // Case-insensitive lookup by $UpCase, but listing keeps the stored case.
            assertThat(fs.stat("/SMALL.TXT").inode()).isEqualTo(fs.stat("/small.txt").inode());
            assertThat(fs.stat("/GRÜßE 文件.TXT").inode())
                    .isEqualTo(fs.stat("/Grüße 文件.txt").inode());
            // Metadata files are hidden but reachable, as with ntfs-3g.
            assertThat(root).noneMatch(d -> d.name().startsWith("$"));
            assertThat(fs.stat("/$MFT").inode()).isZero();
            // Named streams: not listed, readable, and shown as user.* xattrs.
            assertThat(fs.xattrs("/medium.bin")).containsOnlyKeys("user.meta");
            assertThat(fs.xattrs("/medium.bin").get("user.meta")).isEqualTo(f.files().get("/medium.bin:meta"));
            assertThat(((NtfsFileSystem) fs).streams("/medium.bin")).containsExactly("meta");
        }
    }

    @ParameterizedTest(name = "cluster {0}")
    @ValueSource(ints = {512, 4096, 65536})
    void identityAndSpaceAgreeWithBlkidAndNtfsinfo(int cluster) throws Exception {
        Fixture f = fixture(cluster, 512);
        try (FileSystem fs = open(f.img())) {
            Map<String, String> blkid = new LinkedHashMap<>();
            for (String l : Run.checked(List.of("blkid", "-p", "-o", "export", f.img().toString())).stdout().split("\n")) {
                int eq = l.indexOf('=');
                if (eq > 0) {
                    blkid.put(l.substring(0, eq), l.substring(eq + 1));
                }
            }
            assertThat(fs.type()).isEqualTo(blkid.get("TYPE"));
            assertThat(fs.label()).contains(blkid.get("LABEL")).contains("jv2v-" + cluster);
            assertThat(fs.uuid()).contains(blkid.get("UUID"));
            NtfsFileSystem n = (NtfsFileSystem) fs;
            assertThat(n.version()).isEqualTo("3.1");
            assertThat(n.clusterSize()).isEqualTo(cluster);
            assertThat(n.state()).isEqualTo(new NtfsVolumeState(false, false, false, false));
            assertThat(n.state().writeRefusal()).isEmpty();

            String info = Run.checked(List.of("ntfsinfo", "-m", f.img().toString())).stdout();
            long clusters = Long.parseLong(field(info, "Volume Size in Clusters"));
            long free = Long.parseLong(field(info, "Free Clusters").split(" ")[0]);
            assertThat(fs.space()).isEqualTo(new FileSystem.SpaceUsage(clusters * cluster, free * cluster));
        }
    }

    @ParameterizedTest(name = "cluster {0}")
    @ValueSource(ints = {512, 4096, 65536})
    void zeroingUnusedBlocksKeepsTheVolumeIntact(int cluster) throws Exception {
        Fixture f = fixture(cluster, 512);
        Path copy = tmp.resolve("zeroed-" + cluster + ".img");
        Files.copy(f.img(), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<ByteRange> used;
        try (FileSystem fs = open(f.img())) {
            used = fs.usedRanges();
        }
        long zeroed = zeroOutside(copy, used);
        assertThat(zeroed).as("bytes zeroed").isGreaterThan(Files.size(copy) / 2);
        // The checker and every file are unaffected.
        Run.Result fix = Run.run(List.of("ntfsfix", "-n", copy.toString()));
        assertThat(fix.exitCode()).as(fix.all()).isZero();
        for (var e : f.files().entrySet()) {
            if (e.getKey().contains(":")) {
                continue;
            }
            assertThat(Oracle.cat(copy, e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
        }
        try (FileSystem fs = open(copy)) {
            for (var e : f.files().entrySet()) {
                assertThat(readAll(fs, e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
            assertThat(fs.usedRanges()).isEqualTo(used);
        }
    }

    @Test
    void dirtyFlagSetByNtfsresizeIsReported() throws Exception {
        Fixture f = fixture(4096, 512);
        Path copy = tmp.resolve("dirty.img");
        Files.copy(f.img(), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        // ntfsresize marks the volume dirty so that Windows runs chkdsk after the resize.
        Run.checked(List.of("ntfsresize", "-f", "-f", "-s", "48M", copy.toString()));
        assertThat(Run.checked(List.of("ntfsinfo", "-f", "-m", copy.toString())).stdout()).contains("DIRTY");
        // ntfs-3g's tools refuse to write to it
        assertThat(ntfscpVerdict(copy)).contains("scheduled for check");
        try (FileSystem fs = open(copy)) {
            NtfsVolumeState st = ((NtfsFileSystem) fs).state();
            assertThat(st.dirty()).isTrue();
            assertThat(st.writeRefusal()).get().asString().contains("dirty");
            // chkdsk is due: $Bitmap is not trusted, the whole device counts as used
            assertThat(fs.usedRanges()).containsExactly(new ByteRange(0, Files.size(copy)));
            assertThat(fs.space().totalBytes()).isLessThanOrEqualTo(48L << 20);
            assertThat(readAll(fs, "/big.bin")).isEqualTo(f.files().get("/big.bin"));
        }
    }

    @Test
    void hiberfilDecidesHibernationAsNtfs3gDoes() throws Exception {
        Fixture f = fixture(4096, 512);
        Path stage = Files.createDirectories(tmp.resolve("hiber"));
        // ntfs-3g: a hiberfil.sys shorter than 4096 bytes, or starting with "hibr"/"HIBR", is a hibernated Windows.
        Map<String, byte[]> cases = new LinkedHashMap<>();
        cases.put("zeros", new byte[8192]);
        cases.put("short", new byte[100]);
        byte[] hibr = new byte[8192];
        System.arraycopy("HIBR".getBytes(StandardCharsets.US_ASCII), 0, hibr, 0, 4);
        cases.put("HIBR", hibr);
        byte[] wake = new byte[8192];
        System.arraycopy("wake".getBytes(StandardCharsets.US_ASCII), 0, wake, 0, 4);
        cases.put("wake", wake);
        Map<String, Boolean> expected = Map.of("zeros", false, "short", true, "HIBR", true, "wake", false);
        for (var c : cases.entrySet()) {
            Path img = stage.resolve(c.getKey() + ".img");
            Files.copy(f.img(), img, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Path src = stage.resolve(c.getKey());
            Files.write(src, c.getValue());
            Tools.run("ntfscp", "-q", img.toString(), src.toString(), "/hiberfil.sys");
            try (FileSystem fs = open(img)) {
                NtfsVolumeState st = ((NtfsFileSystem) fs).state();
                assertThat(st.hibernated()).as(c.getKey()).isEqualTo(expected.get(c.getKey()));
                assertThat(st.writeRefusal().isPresent()).isEqualTo(expected.get(c.getKey()));
            }
            // ntfs-3g's own verdict: a read-write mount (ntfscp) is refused exactly when hibernated
            String verdict = ntfscpVerdict(img);
            if (expected.get(c.getKey())) {
                assertThat(verdict).as(c.getKey()).contains("hibernated");
            } else {
                assertThat(verdict).as(c.getKey()).isEqualTo("ok");
            }
        }
    }

    /**
     * Restart pages written into $LogFile (as Windows leaves them): open client without the clean
     * flag, clean, and version 2.0 (fast startup). ntfs-3g's read-write mount is the oracle.
     */
    @Test
    void logFileStateDecidesAsNtfs3gDoes() throws Exception {
        Fixture f = fixture(4096, 512);
        record Case(String name, int major, int minor, int inUse, int flags, String verdict, NtfsVolumeState state) {}
        List<Case> cases = List.of(
                new Case("unclean", 1, 1, 0, 0, "unclean file system", new NtfsVolumeState(false, false, true, false)),
                new Case("clean", 1, 1, 0, 2, "ok", new NtfsVolumeState(false, false, false, false)),
                new Case("closed", 1, 1, 0xFFFF, 0, "ok", new NtfsVolumeState(false, false, false, false)),
                new Case("fast-startup", 2, 0, 0xFFFF, 2, "Windows cache", new NtfsVolumeState(false, false, false, true)));
        for (Case c : cases) {
            Path img = tmp.resolve("log-" + c.name() + ".img");
            Files.copy(f.img(), img, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            long[] pages = new long[2];
            long logSize;
            try (NtfsFileSystem fs = (NtfsFileSystem) open(f.img())) {
                Stream log = fs.volume().inode(Ntfs.FILE_LOGFILE).stream(Ntfs.AT_DATA, "");
                pages[0] = log.deviceOffset(0);
                pages[1] = log.deviceOffset(4096);
                logSize = log.dataSize;
            }
            for (int k = 0; k < 2; k++) {
                byte[] page = restartPage(c.major(), c.minor(), c.inUse(), c.flags(), logSize, 100 + k);
                try (RandomAccessFile raf = new RandomAccessFile(img.toFile(), "rw")) {
                    raf.seek(pages[k]);
                    raf.write(page);
                }
            }
            try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
                assertThat(fs.state()).as(c.name()).isEqualTo(c.state());
            }
            assertThat(ntfscpVerdict(img)).as(c.name()).contains(c.verdict());
        }
    }

    /** A 4 KiB $LogFile restart page with one log client, fixups applied for the disk. */
    static byte[] restartPage(int major, int minor, int inUse, int flags, long logSize, long lsn) {
        ByteBuffer p = ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        p.put(0, "RSTR".getBytes(StandardCharsets.US_ASCII));
        p.putShort(0x04, (short) 0x1E).putShort(0x06, (short) 9);       // update sequence array
        p.putInt(0x10, 4096).putInt(0x14, 4096);                        // system and log page sizes
        p.putShort(0x18, (short) 0x30).putShort(0x1A, (short) minor).putShort(0x1C, (short) major);
        int ra = 0x30;
        p.putLong(ra, lsn);                                              // current LSN
        p.putShort(ra + 0x08, (short) 1);                                // one log client
        p.putShort(ra + 0x0A, (short) (inUse == 0xFFFF ? 0 : 0xFFFF));   // free list
        p.putShort(ra + 0x0C, (short) inUse);                            // in-use list
        p.putShort(ra + 0x0E, (short) flags);
        p.putInt(ra + 0x10, 67 - (64 - Long.numberOfLeadingZeros(logSize)));
        p.putShort(ra + 0x14, (short) (0x40 + 0xA0)).putShort(ra + 0x16, (short) 0x40);
        p.putLong(ra + 0x18, logSize);
        p.putShort(ra + 0x24, (short) 0x30).putShort(ra + 0x26, (short) 0x40);
        int client = ra + 0x40;
        p.putShort(client + 0x10, (short) 0xFFFF).putShort(client + 0x12, (short) 0xFFFF);
        p.putInt(client + 0x1C, 8);
        p.put(client + 0x20, "NTFS".getBytes(StandardCharsets.UTF_16LE));
        short usn = 1;
        p.putShort(0x1E, usn);
        for (int i = 1; i <= 8; i++) {
            int tail = i * 512 - 2;
            p.putShort(0x1E + 2 * i, p.getShort(tail));
            p.putShort(tail, usn);
        }
        return p.array();
    }

    /** What ntfs-3g says when asked to write to the volume (ntfscp mounts read-write): "ok" or its refusal. */
    static String ntfscpVerdict(Path img) throws Exception {
        Path probe = tmp.resolve("probe-file");
        Files.writeString(probe, "probe");
        Path copy = tmp.resolve("verdict.img");
        Files.copy(img, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Run.Result r = Run.run(List.of("ntfscp", copy.toString(), probe.toString(), "/probe"));
        return r.exitCode() == 0 ? "ok" : r.all();
    }

    static byte[] readAll(FileSystem fs, String path) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(70_001);
        long pos = 0;
        while (true) {
            b.clear();
            int n = fs.read(path, b, pos);
            if (n < 0) {
                break;
            }
            out.write(b.array(), 0, n);
            pos += n;
        }
        return out.toByteArray();
    }

    /** Zeroes every byte of {@code img} outside {@code used}; returns how many. */
    static long zeroOutside(Path img, List<ByteRange> used) throws IOException {
        long zeroed = 0;
        try (RandomAccessFile raf = new RandomAccessFile(img.toFile(), "rw")) {
            long size = raf.length();
            long pos = 0;
            byte[] zeros = new byte[1 << 20];
            List<ByteRange> all = new ArrayList<>(used);
            all.add(new ByteRange(size, 0));
            for (ByteRange r : all) {
                assertThat(r.offset()).as("ranges sorted and disjoint").isGreaterThanOrEqualTo(pos);
                while (pos < r.offset()) {
                    int n = (int) Math.min(zeros.length, r.offset() - pos);
                    raf.seek(pos);
                    raf.write(zeros, 0, n);
                    pos += n;
                    zeroed += n;
                }
                pos = Math.max(pos, r.end());
            }
        }
        return zeroed;
    }

    private static final DateTimeFormatter CTIME =
            DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.ROOT).withZone(ZoneOffset.UTC);

    static String fmt(Instant t) {
        return CTIME.format(t) + " UTC";
    }

    /** The four $STANDARD_INFORMATION times ntfsinfo prints (first occurrence of each). */
    static Map<String, String> ntfsinfoTimes(Path img, String path) throws Exception {
        String out = Run.checked(List.of("ntfsinfo", "-F", path, img.toString())).stdout();
        Map<String, String> m = new LinkedHashMap<>();
        for (String l : out.split("\n")) {
            int colon = l.indexOf(':');
            if (colon > 0) {
                String k = l.substring(0, colon).trim();
                if (k.endsWith("Time")) {
                    m.putIfAbsent(k, l.substring(colon + 1).trim());
                }
            }
        }
        return m;
    }

    static String field(String text, String name) {
        for (String l : text.split("\n")) {
            int colon = l.indexOf(':');
            if (colon > 0 && l.substring(0, colon).trim().equals(name)) {
                return l.substring(colon + 1).trim();
            }
        }
        throw new AssertionError("no '" + name + "' in:\n" + text);
    }
}
