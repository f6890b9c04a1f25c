package org.jv2v.fs.ntfs;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.jv2v.BadInputException;
import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One rich volume populated by ntfs-3g itself (inside libguestfs's appliance, in a single guestfish
 * run): nested and big directories (multi-level $INDEX_ALLOCATION), a heavily fragmented file and
 * a file with 31 hard links (both needing $ATTRIBUTE_LIST), Interix symlinks, FIFOs and devices,
 * Windows junctions and symlinks (reparse points), LZNT1-compressed files, sparse files, named
 * streams, exact timestamps, and a hiberfil.sys that makes ntfs-3g refuse a read-write mount.
 * ntfs-3g's answers recorded in the same run (readlink, lstat, sha256 of every file, find) and
 * ntfsls / ntfscat / ntfsinfo on the host are the oracles. Corrupt copies check the errors.
 */
class NtfsRichTest {
    @TempDir
    static Path tmp;
    static Path img;
    static Map<String, byte[]> expected = new TreeMap<>();
    static Map<String, List<String>> oracle = new LinkedHashMap<>();
    static String guestfishOutput;

    static final int FRAG_BLOCKS = 500;
    static final String X4092 = xChars();

    // Reparse points set through ntfs-3g's system.ntfs_reparse_data: target, and what ntfs-3g shows.
    static final String J1 = "\\??\\C:\\DIR\\Sub";           // junction to a directory on this volume
    static final String J2 = "\\??\\D:\\elsewhere";          // junction to another volume
    static final String S1 = "DIR\\Sub\\deep\\DATA.BIN";     // relative Windows symlink to a file
    static final String S3 = "dir\\SUB";                     // relative directory symlink (mklink /D)
    static final String S2 = "\\??\\C:\\dir\\hello.txt";     // absolute Windows symlink

    @BeforeAll
    static void build() throws Exception {
        Tools.require("guestfish", "mkntfs", "ntfsls", "ntfscat", "ntfsinfo", "ntfsfix");
        img = tmp.resolve("rich.img");
        try (RandomAccessFile raf = new RandomAccessFile(img.toFile(), "rw")) {
            raf.setLength(64L << 20);
        }
        Tools.run("mkntfs", "-F", "-Q", "-q", "-L", "Rich Volume", img.toString());
        Path tar = tmp.resolve("rich.tar");
        writeTar(tar);
        Files.writeString(tmp.resolve("x"), X4092);
        StringBuilder frag = new StringBuilder();
        for (int i = 0; i < FRAG_BLOCKS; i++) {
            frag.append(String.format("%04d", i)).append(X4092);
        }
        expected.put("/frag/big", frag.toString().getBytes(StandardCharsets.US_ASCII));
        expected.put("/frag/x", X4092.getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < FRAG_BLOCKS; i++) {
            expected.put("/frag/s" + i, (String.format("%04d", i) + X4092).getBytes(StandardCharsets.US_ASCII));
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 300_000; i++) {
            text.append("line ").append(i).append(" of a compressible text, repeated with small changes\n");
        }
        byte[] textBytes = text.toString().getBytes(StandardCharsets.US_ASCII);
        Files.write(tmp.resolve("text.txt"), textBytes);
        expected.put("/comp/text.txt", textBytes);
        byte[] rnd = new byte[200_000];
        new Random(3).nextBytes(rnd);
        Files.write(tmp.resolve("random.bin"), rnd);
        expected.put("/comp/random.bin", rnd);
        byte[] holey = new byte[300_000];
        put(holey, 150_000, "middle of a compressed sparse file");
        expected.put("/comp/holey", holey);
        byte[] sparse = new byte[20_000_000];
        put(sparse, 0, "head");
        put(sparse, 19_999_990, "tail bytes");
        expected.put("/sparse", sparse);
        byte[] hib = new byte[8192];
        put(hib, 0, "hibr");
        Files.write(tmp.resolve("hib"), hib);
        expected.put("/hiberfil.sys", hib);

        String script = String.join("\n",
                "run",
                "mount /dev/sda /",
                "tar-in " + tar + " /",
                "upload " + tmp.resolve("x") + " /frag/x",
                // Append one block to /frag/big, then write a small file: the allocator interleaves them.
                // Shell builtins only (no fork per block: forks are slow under TCG).
                "debug sh \"cd /sysroot/frag && X=$(cat x) && i=0 && while [ $i -lt " + FRAG_BLOCKS + " ]; do"
                        + " n=$((10000+i)); n=${n#1}; printf %s%s $n \\\"$X\\\" >> big;"
                        + " printf %s%s $n \\\"$X\\\" > s$i; i=$((i+1)); done;"
                        + " setfattr -n system.ntfs_attrib_be -v 0x00000810 /sysroot/comp;"
                        + " setfattr -n system.ntfs_reparse_data -v " + junction(J1) + " /sysroot/j1;"
                        + " setfattr -n system.ntfs_reparse_data -v " + junction(J2) + " /sysroot/j2;"
                        + " setfattr -n system.ntfs_reparse_data -v " + symlink(S1, true) + " /sysroot/s1;"
                        + " setfattr -n system.ntfs_reparse_data -v " + symlink(S2, false) + " /sysroot/s2;"
                        + " setfattr -n system.ntfs_reparse_data -v " + symlink(S3, true) + " /sysroot/s3;"
                        + " setfattr -n user.note -v a-named-stream /sysroot/dir/hello.txt;"
                        // a DOS 8.3 alias next to the long name (the long name becomes a Win32 name)
                        + " setfattr -n system.ntfs_dos_name -v LONGFI~1.TXT \\\"/sysroot/dir/Long File Name.txt\\\"\"",
                "upload " + tmp.resolve("text.txt") + " /comp/text.txt",
                "upload " + tmp.resolve("random.bin") + " /comp/random.bin",
                "touch /comp/holey",
                "truncate-size /comp/holey 300000",
                "pwrite /comp/holey \"middle of a compressed sparse file\" 150000",
                "touch /sparse",
                "truncate-size /sparse 20000000",
                "pwrite /sparse \"head\" 0",
                "pwrite /sparse \"tail bytes\" 19999990",
                "mkfifo 0644 /special-fifo",
                "mknod-c 0644 1 3 /special-null",
                "mknod-b 0644 8 1 /special-sda1",
                "utimens /dir/hello.txt 1234567890 123456700 1500000000 987654300",
                "utimens /dir/sub 1234567000 100 1400000000 200",
                // A fresh mount for the oracles (no cached sizes), without atime updates by find/checksums.
                "umount-all",
                "mount-options noatime /dev/sda /",
                "echo ==readlink",
                "readlink /links/rel",
                "readlink /links/abs",
                "readlink /links/chain",
                "readlink /j1",
                "readlink /j2",
                "readlink /s1",
                "readlink /s2",
                "readlink /s3",
                lstat("/dir/hello.txt"), lstat("/dir/sub"), lstat("/dir"), lstat("/many"), lstat("/hl/target"),
                lstat("/special-null"), lstat("/special-sda1"), lstat("/special-fifo"), lstat("/links/rel"),
                lstat("/sparse"), lstat("/comp/text.txt"), lstat("/frag/big"),
                "echo ==statvfs",
                "statvfs /",
                "echo ==find",
                "find /",
                "checksums-out sha256 / " + tmp.resolve("sums"),
                "upload " + tmp.resolve("hib") + " /hiberfil.sys",
                "umount-all",
                // ntfs-3g's own verdict on the hibernation file: it falls back to a read-only mount.
                "echo ==hibernated",
                "-mount /dev/sda /",
                "-touch /after-hibernation",
                "");
        Path scriptFile = tmp.resolve("script.gf");
        Files.writeString(scriptFile, script);
        Run.Result r = Run.run(List.of("guestfish", "-a", img.toString(), "-f", scriptFile.toString()), tmp,
                Map.of("LIBGUESTFS_BACKEND", "direct", "LIBGUESTFS_BACKEND_SETTINGS", "force_tcg"), 600);
        guestfishOutput = r.all();
        assertThat(r.stdout()).as(guestfishOutput).contains("==hibernated");
        String key = null;
        for (String line : r.stdout().split("\n")) {
            if (line.startsWith("==")) {
                key = line.substring(2);
                oracle.put(key, new ArrayList<>());
            } else if (key != null) {
                oracle.get(key).add(line);
            }
        }
    }

    private static String lstat(String p) {
        return "echo ==lstat " + p + "\nlstatns " + p;
    }

    private static void put(byte[] b, int at, String s) {
        byte[] x = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(x, 0, b, at, x.length);
    }

    private static String xChars() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4092; i++) {
            sb.append((char) ('A' + (i * 7) % 26));
        }
        return sb.toString();
    }

    static void writeTar(Path tar) throws IOException {
        Random rnd = new Random(11);
        try (OutputStream os = Files.newOutputStream(tar); TarArchiveOutputStream t = new TarArchiveOutputStream(os)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            t.setAddPaxHeadersForNonAsciiNames(true);
            for (String d : List.of("dir", "dir/sub", "dir/sub/deep", "many", "hl", "links", "comp", "frag", "j1", "j2", "s3")) {
                TarArchiveEntry e = new TarArchiveEntry(d + "/");
                e.setMode(040755);
                t.putArchiveEntry(e);
                t.closeArchiveEntry();
            }
            file(t, "dir/hello.txt", "hello world\n".getBytes(StandardCharsets.UTF_8));
            file(t, "dir/Long File Name.txt", "long name\n".getBytes(StandardCharsets.UTF_8));
            byte[] data = new byte[100_000];
            rnd.nextBytes(data);
            file(t, "dir/sub/deep/data.bin", data);
            for (int i = 0; i < 1000; i++) {
                file(t, String.format("many/entry-%04d-with-a-longer-name.txt", i), (i + "\n").getBytes(StandardCharsets.UTF_8));
            }
            file(t, "hl/target", "hard linked content\n".getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < 30; i++) {
                TarArchiveEntry e = new TarArchiveEntry(String.format(
                        "hl/link-number-%02d-with-a-rather-long-name-to-fill-the-record", i), TarConstants.LF_LINK);
                e.setLinkName("hl/target");
                t.putArchiveEntry(e);
                t.closeArchiveEntry();
            }
            link(t, "links/rel", "../dir/hello.txt");
            link(t, "links/abs", "/dir/sub");
            link(t, "links/chain", "rel");
            link(t, "links/loop1", "loop2");
            link(t, "links/loop2", "loop1");
            link(t, "links/dangling", "nowhere");
            file(t, "s1", new byte[0]);
            file(t, "s2", new byte[0]);
            expected.remove("/s1");   // both become symbolic links
            expected.remove("/s2");
            file(t, "Ünïcödé 名前.txt", "ünïcödé\n".getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void file(TarArchiveOutputStream t, String name, byte[] data) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(data.length);
        e.setMode(0100644);
        e.setModTime(1_600_000_000_000L);
        t.putArchiveEntry(e);
        t.write(data);
        t.closeArchiveEntry();
        expected.put("/" + name, data);
    }

    private static void link(TarArchiveOutputStream t, String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
        e.setLinkName(target);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }

    /** A mount point (junction) reparse buffer, as setfattr's hex. */
    static String junction(String target) {
        byte[] sub = target.getBytes(StandardCharsets.UTF_16LE);
        byte[] print = target.substring(4).getBytes(StandardCharsets.UTF_16LE);
        ByteBuffer d = ByteBuffer.allocate(8 + sub.length + 2 + print.length + 2).order(ByteOrder.LITTLE_ENDIAN);
        d.putShort((short) 0).putShort((short) sub.length).putShort((short) (sub.length + 2)).putShort((short) print.length);
        d.put(sub).putShort((short) 0).put(print).putShort((short) 0);
        return reparse(0xA0000003, d.array());
    }

    /** A Windows symbolic link reparse buffer (flags 1: relative). */
    static String symlink(String target, boolean relative) {
        byte[] sub = target.getBytes(StandardCharsets.UTF_16LE);
        ByteBuffer d = ByteBuffer.allocate(12 + 2 * sub.length).order(ByteOrder.LITTLE_ENDIAN);
        d.putShort((short) 0).putShort((short) sub.length).putShort((short) sub.length).putShort((short) sub.length);
        d.putInt(relative ? 1 : 0).put(sub).put(sub);
        return reparse(0xA000000C, d.array());
    }

    private static String reparse(int tag, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(tag).putShort((short) data.length).putShort((short) 0).put(data);
        return "0x" + HexFormat.of().formatHex(b.array());
    }

    static FileSystem open(Path p) throws IOException {
        return NtfsFileSystem.open(org.jv2v.testing.FileDevice.open(p));
    }

    /** lstatns output of guestfish as a map. */
    static Map<String, Long> lstatOracle(String path) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String l : oracle.get("lstat " + path)) {
            int c = l.indexOf(':');
            if (c > 0) {
                m.put(l.substring(0, c).trim(), Long.parseLong(l.substring(c + 1).trim()));
            }
        }
        assertThat(m).as("lstat of " + path + " in\n" + guestfishOutput).isNotEmpty();
        return m;
    }

    // ---- the tests ---------------------------------------------------------------------------

    @Test
    void everyFileReadsAsNtfs3gReadsIt() throws Exception {
        Map<String, String> sums = new TreeMap<>();
        for (String l : Files.readAllLines(tmp.resolve("sums"))) {
            int sp = l.indexOf("  ");
            String p = l.substring(sp + 2);
            sums.put(p.startsWith("./") ? p.substring(1) : p, l.substring(0, sp));
        }
        assertThat(sums).hasSizeGreaterThan(1500);
        String before = Checksums.sha256(img);
        try (FileSystem fs = open(img)) {
            for (var e : sums.entrySet()) {
                byte[] got = NtfsImageTest.readAll(fs, e.getKey());
                assertThat(sha256(got)).as(e.getKey()).isEqualTo(e.getValue());
            }
            for (var e : expected.entrySet()) {
                assertThat(NtfsImageTest.readAll(fs, e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
            // readAll of the FileSystem interface too
            assertThat(fs.readAll("/frag/big", 4 << 20)).isEqualTo(expected.get("/frag/big"));
        }
        assertThat(Checksums.sha256(img)).as("source untouched").isEqualTo(before);
    }

    @Test
    void theTreeMatchesNtfs3gsFind() throws Exception {
        TreeSet<String> want = new TreeSet<>();
        for (String l : oracle.get("find")) {
            if (!l.isBlank()) {
                want.add("/" + l);
            }
        }
        TreeSet<String> got = new TreeSet<>();
        try (FileSystem fs = open(img)) {
            walk(fs, "/", got);
        }
        // hiberfil.sys was uploaded after the find
        got.remove("/hiberfil.sys");
        assertThat(got).isEqualTo(want);
    }

    private static void walk(FileSystem fs, String dir, TreeSet<String> out) throws IOException {
        for (DirEntry e : fs.list(dir)) {
            String p = (dir.equals("/") ? "" : dir) + "/" + e.name();
            out.add(p);
            assertThat(fs.stat(p).kind()).as(p).isEqualTo(e.kind());
            assertThat(fs.stat(p).inode()).as(p).isEqualTo(e.inode());
            if (e.kind() == FileKind.DIRECTORY) {
                walk(fs, p, out);
            }
        }
    }

    @Test
    void bigDirectoryListsWhatNtfslsLists() throws Exception {
        TreeSet<String> want = new TreeSet<>();
        for (String l : Run.checked(List.of("ntfsls", "-i", "-p", "/many", img.toString())).stdout().split("\n")) {
            String[] f = l.trim().split(" ", 2);
            if (f.length == 2 && !f[1].equals(".") && !f[1].equals("..")) {
                want.add(l.trim());
            }
        }
        assertThat(want).hasSize(1000);
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            List<DirEntry> got = fs.list("/many");
            assertThat(got.stream().map(d -> d.inode() + " " + d.name()).toList()).containsExactlyInAnyOrderElementsOf(want);
            // jv2v lists in the index's collation order (ntfs-3g goes block by block instead).
            List<String> names = got.stream().map(DirEntry::name).toList();
            assertThat(names).isSortedAccordingTo(String.CASE_INSENSITIVE_ORDER);
            // The index is a real multi-level B+ tree.
            Inode many = fs.volume().inode(fs.recordOf("/many"));
            assertThat(many.stream(Ntfs.AT_INDEX_ALLOCATION, Index.I30).dataSize).isGreaterThan(16 * 4096);
            assertThat(fs.stat("/many/ENTRY-0500-WITH-A-LONGER-NAME.TXT").inode())
                    .isEqualTo(fs.stat("/many/entry-0500-with-a-longer-name.txt").inode());
            assertThatThrownBy(() -> fs.stat("/many/entry-1000-with-a-longer-name.txt"))
                    .isInstanceOf(NoSuchFileException.class);
        }
    }

    @Test
    void attributeListsFromFragmentationAndHardLinks() throws Exception {
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            Inode big = fs.volume().inode(fs.recordOf("/frag/big"));
            assertThat(big.has(Ntfs.AT_ATTRIBUTE_LIST, "")).isTrue();
            assertThat(big.find(Ntfs.AT_DATA, "")).as("$DATA segments").hasSizeGreaterThan(1);
            assertThat(big.stream(Ntfs.AT_DATA, "").runs()).as("fragments").hasSizeGreaterThan(100);
            Inode target = fs.volume().inode(fs.recordOf("/hl/target"));
            assertThat(target.has(Ntfs.AT_ATTRIBUTE_LIST, "")).isTrue();
            assertThat(target.fileNames()).hasSize(31);
            assertThat(fs.stat("/hl/target").links()).isEqualTo(31);
            for (int i = 0; i < 30; i++) {
                String p = String.format("/hl/link-number-%02d-with-a-rather-long-name-to-fill-the-record", i);
                assertThat(fs.stat(p).inode()).isEqualTo(target.number);
            }
            // ntfsinfo sees the same attribute list
            String info = Run.checked(List.of("ntfsinfo", "-F", "/frag/big", img.toString())).stdout();
            assertThat(info).contains("$ATTRIBUTE_LIST");
        }
    }

    @Test
    void statAgreesWithNtfs3gsLstat() throws Exception {
        try (FileSystem fs = open(img)) {
            for (String p : List.of("/dir/hello.txt", "/dir/sub", "/dir", "/many", "/hl/target", "/special-null",
                    "/special-sda1", "/special-fifo", "/links/rel", "/sparse", "/comp/text.txt", "/frag/big")) {
                Map<String, Long> o = lstatOracle(p);
                FileStat st = fs.stat(p);
                assertThat(st.inode()).as(p).isEqualTo(o.get("st_ino"));
                assertThat(st.mode() | typeBits(st.kind())).as(p + " mode").isEqualTo(o.get("st_mode").intValue());
                assertThat(st.links()).as(p + " nlink").isEqualTo(o.get("st_nlink"));
                assertThat(st.size()).as(p + " size").isEqualTo(o.get("st_size"));
                assertThat(st.rdev()).as(p + " rdev").isEqualTo(o.get("st_rdev"));
                assertThat(st.atime()).as(p + " atime").isEqualTo(Instant.ofEpochSecond(o.get("st_atime_sec"), o.get("st_atime_nsec")));
                assertThat(st.mtime()).as(p + " mtime").isEqualTo(Instant.ofEpochSecond(o.get("st_mtime_sec"), o.get("st_mtime_nsec")));
                assertThat(st.ctime()).as(p + " ctime").isEqualTo(Instant.ofEpochSecond(o.get("st_ctime_sec"), o.get("st_ctime_nsec")));
            }
            // What went in: utimens times (NTFS keeps 100 ns) and tar's mtime.
            assertThat(fs.stat("/dir/hello.txt").atime()).isEqualTo(Instant.ofEpochSecond(1234567890, 123456700));
            assertThat(fs.stat("/dir/hello.txt").mtime()).isEqualTo(Instant.ofEpochSecond(1500000000, 987654300));
            assertThat(fs.stat("/dir/sub").mtime()).isEqualTo(Instant.ofEpochSecond(1400000000, 200));
            assertThat(fs.stat("/many/entry-0007-with-a-longer-name.txt").mtime()).isEqualTo(Instant.ofEpochSecond(1_600_000_000L));
            assertThat(fs.stat("/special-fifo").kind()).isEqualTo(FileKind.FIFO);
            assertThat(fs.stat("/special-null").kind()).isEqualTo(FileKind.CHAR_DEVICE);
            assertThat(fs.stat("/special-sda1").kind()).isEqualTo(FileKind.BLOCK_DEVICE);
        }
    }

    private static int typeBits(FileKind k) {
        return switch (k) {
            case REGULAR -> 0100000;
            case DIRECTORY -> 040000;
            case SYMLINK -> 0120000;
            case CHAR_DEVICE -> 020000;
            case BLOCK_DEVICE -> 060000;
            case FIFO -> 010000;
            case SOCKET -> 0140000;
        };
    }

    @Test
    void symlinksAndJunctionsResolveAsNtfs3gShowsThem() throws Exception {
        List<String> want = oracle.get("readlink").stream().filter(l -> !l.isBlank())
                .map(l -> l.replace("/sysroot", "")).toList();
        try (FileSystem fs = open(img)) {
            List<String> got = new ArrayList<>();
            for (String p : List.of("/links/rel", "/links/abs", "/links/chain", "/j1", "/j2", "/s1", "/s2", "/s3")) {
                assertThat(fs.stat(p).kind()).as(p).isEqualTo(FileKind.SYMLINK);
                got.add(fs.readlink(p));
            }
            assertThat(got).isEqualTo(want);
            assertThat(got).containsExactly("../dir/hello.txt", "/dir/sub", "rel", "/dir/sub", "/.NTFS-3G/D:/elsewhere",
                    "dir/sub/deep/data.bin", "/dir/hello.txt", "dir/sub");
            // Links are followed in the middle of a path and, for reads, at the end.
            assertThat(fs.stat("/j1/deep/data.bin").inode()).isEqualTo(fs.stat("/dir/sub/deep/data.bin").inode());
            assertThat(fs.stat("/s3/deep/data.bin").inode()).isEqualTo(fs.stat("/dir/sub/deep/data.bin").inode());
            assertThat(NtfsImageTest.readAll(fs, "/s1")).isEqualTo(expected.get("/dir/sub/deep/data.bin"));
            assertThat(fs.list("/links/abs")).extracting(DirEntry::name).containsExactly("deep");
            assertThat(NtfsImageTest.readAll(fs, "/links/chain")).isEqualTo("hello world\n".getBytes(StandardCharsets.UTF_8));
            assertThat(NtfsImageTest.readAll(fs, "/s2")).isEqualTo("hello world\n".getBytes(StandardCharsets.UTF_8));
            assertThatThrownBy(() -> fs.stat("/links/loop1/x")).isInstanceOf(FileSystemLoopException.class);
            assertThatThrownBy(() -> fs.stat("/links/dangling/x")).isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> fs.stat("/j2/x")).isInstanceOf(NoSuchFileException.class);
        }
    }

    @Test
    void dosAliasesAreHiddenButFound() throws Exception {
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            Inode i = fs.volume().inode(fs.recordOf("/dir/Long File Name.txt"));
            assertThat(i.fileNames()).extracting(FileName::namespace)
                    .containsExactlyInAnyOrder(Ntfs.NS_WIN32, Ntfs.NS_DOS);
            assertThat(fs.list("/dir")).extracting(DirEntry::name).doesNotContain("LONGFI~1.TXT");
            assertThat(fs.stat("/dir/longfi~1.txt").inode()).isEqualTo(i.number);
            // ntfsls shows the long name; with -x the DOS one
            assertThat(Run.checked(List.of("ntfsls", "-p", "/dir", img.toString())).stdout()).contains("Long File Name.txt")
                    .doesNotContain("LONGFI~1.TXT");
            assertThat(Run.checked(List.of("ntfsls", "-x", "-p", "/dir", img.toString())).stdout()).contains("LONGFI~1.TXT");
        }
    }

    @Test
    void compressedSparseAndStreams() throws Exception {
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            Inode text = fs.volume().inode(fs.recordOf("/comp/text.txt"));
            Stream ts = text.stream(Ntfs.AT_DATA, "");
            assertThat(ts.compressed()).isTrue();
            assertThat(text.fileAttributes() & Ntfs.FILE_ATTR_COMPRESSED).isNotZero();
            // Really compressed: fewer clusters stored than the size needs.
            long stored = ts.runs().stream().filter(r -> !r.sparse()).mapToLong(org.jv2v.fs.ntfs.Run::length).sum();
            assertThat(stored * 4096).isLessThan(ts.dataSize / 2);
            Stream ss = fs.volume().inode(fs.recordOf("/sparse")).stream(Ntfs.AT_DATA, "");
            assertThat(ss.runs()).anyMatch(org.jv2v.fs.ntfs.Run::sparse);
            assertThat(fs.xattrs("/dir/hello.txt")).containsOnlyKeys("user.note");
            assertThat(new String(fs.xattrs("/dir/hello.txt").get("user.note"), StandardCharsets.UTF_8)).isEqualTo("a-named-stream");
            assertThat(NtfsImageTest.readAll(fs, "/dir/hello.txt:note")).isEqualTo("a-named-stream".getBytes(StandardCharsets.UTF_8));
            assertThat(fs.list("/dir")).extracting(DirEntry::name).containsExactly("hello.txt", "Long File Name.txt", "sub");
            assertThat(NtfsImageTest.readAll(fs, "/comp/text.txt")).isEqualTo(Oracle.cat(img, "/comp/text.txt"));
        }
    }

    @Test
    void identitySpaceAndHibernation() throws Exception {
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            assertThat(fs.label()).contains("Rich Volume");
            assertThat(guestfishOutput).contains("Read-only file system");
            NtfsVolumeState st = fs.state();
            assertThat(st.hibernated()).isTrue();
            assertThat(st.writeRefusal()).get().asString().contains("hibernated");
            Map<String, Long> vfs = new LinkedHashMap<>();
            for (String l : oracle.get("statvfs")) {
                int c = l.indexOf(':');
                if (c > 0) {
                    vfs.put(l.substring(0, c).trim(), Long.parseLong(l.substring(c + 1).trim()));
                }
            }
            assertThat(fs.space().totalBytes()).isEqualTo(vfs.get("blocks") * vfs.get("frsize"));
            // statvfs was taken before hiberfil.sys (8 KiB: 2 clusters) was added
            assertThat(fs.space().freeBytes() + 8192).isEqualTo(vfs.get("bfree") * vfs.get("frsize"));
        }
    }

    @Test
    void usedRangesAreSafeOnTheRichVolume() throws Exception {
        Path copy = tmp.resolve("zeroed.img");
        Files.copy(img, copy, StandardCopyOption.REPLACE_EXISTING);
        List<ByteRange> used;
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            // hiberfil.sys makes the volume untrustworthy: all of it counts as used ...
            assertThat(fs.usedRanges()).containsExactly(new ByteRange(0, Files.size(img)));
            // ... but what $Bitmap says is checked all the same
            used = fs.bitmapRanges();
        }
        assertThat(NtfsImageTest.zeroOutside(copy, used)).isGreaterThan(Files.size(copy) / 4);
        Run.Result fix = Run.run(List.of("ntfsfix", "-n", copy.toString()));
        assertThat(fix.exitCode()).as(fix.all()).isZero();
        try (FileSystem fs = open(copy)) {
            for (var e : expected.entrySet()) {
                assertThat(NtfsImageTest.readAll(fs, e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
        }
        for (String p : List.of("/frag/big", "/comp/text.txt", "/sparse", "/hl/target", "/dir/sub/deep/data.bin")) {
            assertThat(Oracle.cat(copy, p)).as(p).isEqualTo(expected.get(p));
        }
        assertThat(Run.checked(List.of("ntfsls", "-p", "/many", copy.toString())).stdout().split("\n"))
                .contains("entry-0000-with-a-longer-name.txt", "entry-0999-with-a-longer-name.txt").hasSizeGreaterThanOrEqualTo(1000);
    }

    // ---- corrupt copies ----------------------------------------------------------------------

    /** A copy of the rich image, and the device offset of MFT record {@code n} in it. */
    private static Path corruptCopy(String name) throws IOException {
        Path copy = tmp.resolve(name + ".img");
        Files.copy(img, copy, StandardCopyOption.REPLACE_EXISTING);
        return copy;
    }

    private static long recordOffset(NtfsFileSystem fs, long n) {
        return fs.volume().recordDiskOffset(n);
    }

    private static void poke(Path p, long off, byte[] bytes) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.seek(off);
            raf.write(bytes);
        }
    }

    private static byte[] peek(Path p, long off, int n) throws IOException {
        byte[] b = new byte[n];
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "r")) {
            raf.seek(off);
            raf.readFully(b);
        }
        return b;
    }

    @Test
    void tornMftRecordIsRefusedNamingTheRecordAndOffset() throws Exception {
        Path copy = corruptCopy("torn");
        long rec;
        long off;
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            rec = fs.recordOf("/dir/hello.txt");
            off = recordOffset(fs, rec);
        }
        byte[] tail = peek(copy, off + 1022, 2);
        tail[0] ^= 0x55;
        poke(copy, off + 1022, tail);
        try (FileSystem fs = open(copy)) {
            assertThatThrownBy(() -> fs.stat("/dir/hello.txt"))
                    .isInstanceOf(BadInputException.class)
                    .hasMessageContaining("MFT record " + rec + " update sequence number")
                    .hasMessageContaining("offset 0x" + Long.toHexString(off + 1022))
                    .hasMessageContaining(copy.toString());
        }
    }

    @Test
    void runlistPastTheVolumeIsRefused() throws Exception {
        Path copy = corruptCopy("runlist");
        long attrOff;
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            Inode i = fs.volume().inode(fs.recordOf("/dir/sub/deep/data.bin"));
            Attr data = i.find(Ntfs.AT_DATA, "").getFirst();
            assertThat(data.resident()).isFalse();
            attrOff = data.diskOffset();
        }
        int mp = ByteBuffer.wrap(peek(copy, attrOff + 0x20, 2)).order(ByteOrder.LITTLE_ENDIAN).getShort();
        int header = peek(copy, attrOff + mp, 1)[0] & 0xFF;
        int lenBytes = header & 0x0F;
        int offBytes = header >>> 4;
        // Make the most significant byte of the first run's LCN 0x7F: far past a 64 MiB volume.
        poke(copy, attrOff + mp + lenBytes + offBytes, new byte[] {0x7F});
        try (FileSystem fs = open(copy)) {
            assertThatThrownBy(() -> NtfsImageTest.readAll(fs, "/dir/sub/deep/data.bin"))
                    .isInstanceOf(BadInputException.class)
                    .hasMessageContaining("runlist")
                    .hasMessageContaining("past the volume");
        }
    }

    @Test
    void indexLoopIsAnErrorNotAHang() throws Exception {
        Path copy = corruptCopy("loop");
        // Find an INDX block of /many that has children, and point its first child at itself.
        long blockOff = -1;
        long vcn = -1;
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            Inode many = fs.volume().inode(fs.recordOf("/many"));
            Stream alloc = many.stream(Ntfs.AT_INDEX_ALLOCATION, Index.I30);
            for (long pos = 0; pos < alloc.dataSize; pos += 4096) {
                long disk = alloc.deviceOffset(pos);
                ByteBuffer b = ByteBuffer.wrap(peek(copy, disk, 4096)).order(ByteOrder.LITTLE_ENDIAN);
                if (b.getInt(0) == 0x58444E49 && (b.getInt(0x18 + 0x0C) & 1) != 0) { // "INDX", has children
                    blockOff = disk;
                    vcn = b.getLong(0x10);
                    break;
                }
            }
        }
        assertThat(blockOff).as("a non-leaf index block").isPositive();
        ByteBuffer b = ByteBuffer.wrap(peek(copy, blockOff, 4096)).order(ByteOrder.LITTLE_ENDIAN);
        int first = 0x18 + b.getInt(0x18);
        int len = b.getShort(first + 8) & 0xFFFF;
        int at = first + len - 8;
        assertThat(at % 512).as("not a fixup position").isLessThan(504);
        ByteBuffer v = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(vcn);
        poke(copy, blockOff + at, v.array());
        try (FileSystem fs = open(copy)) {
            assertThatThrownBy(() -> fs.list("/many"))
                    .isInstanceOf(BadInputException.class)
                    .hasMessageContaining("loop");
        }
    }

    @Test
    void absurdMftSizeAndCountsAreRefused() throws Exception {
        long mftRecord0;
        long dataAttr;
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            Volume v = fs.volume();
            mftRecord0 = v.boot.mftLcn() * v.boot.clusterSize();
            dataAttr = v.record(0).attrs().stream().filter(a -> a.is(Ntfs.AT_DATA, "")).findFirst().orElseThrow().diskOffset();
        }
        // $MFT claiming 2^32 records
        Path copy = corruptCopy("mftsize");
        poke(copy, dataAttr + 0x30, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong((1L << 32) * 1024).array());
        assertThatThrownBy(() -> open(copy))
                .isInstanceOf(BadInputException.class)
                .hasMessageContaining("$MFT data size")
                .hasMessageContaining("4294967296 records");
        // an update sequence array count of 0xFFFF
        Path copy2 = corruptCopy("usacount");
        poke(copy2, mftRecord0 + 6, new byte[] {(byte) 0xFF, (byte) 0xFF});
        assertThatThrownBy(() -> open(copy2))
                .isInstanceOf(BadInputException.class)
                .hasMessageContaining("MFT record 0 update sequence array count")
                .hasMessageContaining("65535");
        // an attribute of length 0 would loop forever in a naive parser
        Path copy3 = corruptCopy("attrlen");
        ByteBuffer rec = ByteBuffer.wrap(peek(copy3, mftRecord0, 64)).order(ByteOrder.LITTLE_ENDIAN);
        int firstAttr = rec.getShort(0x14);
        poke(copy3, mftRecord0 + firstAttr + 4, new byte[4]);
        assertThatThrownBy(() -> open(copy3))
                .isInstanceOf(BadInputException.class)
                .hasMessageContaining("attribute length");
    }

    @Test
    void initializedSizeBelowDataSizeReadsZerosLikeNtfscat() throws Exception {
        Path copy = corruptCopy("initsize");
        long attrOff;
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            Inode i = fs.volume().inode(fs.recordOf("/dir/sub/deep/data.bin"));
            attrOff = i.find(Ntfs.AT_DATA, "").getFirst().diskOffset();
        }
        // Windows' SetFileValidData leaves exactly this: data past the initialized size reads as zeros.
        poke(copy, attrOff + 0x38, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(40_000).array());
        byte[] want = expected.get("/dir/sub/deep/data.bin").clone();
        java.util.Arrays.fill(want, 40_000, want.length, (byte) 0);
        assertThat(Oracle.cat(copy, "/dir/sub/deep/data.bin")).isEqualTo(want);
        try (FileSystem fs = open(copy)) {
            assertThat(NtfsImageTest.readAll(fs, "/dir/sub/deep/data.bin")).isEqualTo(want);
        }
    }

    @Test
    void corruptCompressedDataIsRefused() throws Exception {
        Path copy = corruptCopy("lznt1");
        long disk;
        try (NtfsFileSystem fs = (NtfsFileSystem) open(img)) {
            Stream s = fs.volume().inode(fs.recordOf("/comp/text.txt")).stream(Ntfs.AT_DATA, "");
            org.jv2v.fs.ntfs.Run first = s.runs().getFirst();
            assertThat(first.sparse()).isFalse();
            disk = first.lcn() * fs.clusterSize();
        }
        // the first token of the first chunk claims to be a back-reference: nothing precedes it
        byte[] head = peek(copy, disk, 4);
        assertThat(head[1] & 0x80).as("a compressed chunk").isNotZero();
        poke(copy, disk + 2, new byte[] {0x01, 0x00, 0x00});
        try (FileSystem fs = open(copy)) {
            assertThatThrownBy(() -> NtfsImageTest.readAll(fs, "/comp/text.txt"))
                    .isInstanceOf(BadInputException.class)
                    .hasMessageContaining("compression unit 0")
                    .hasMessageContaining("corrupt LZNT1 data");
        }
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
