package org.jv2v.fs.xfs;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystems;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Builds XFS images with mkfs.xfs from a generated tree (protofile), adds extended attributes with
 * xfs_db, and checks that jv2v reads back every file, link, device, mode, owner, timestamp and
 * attribute exactly; xfs_db is the second opinion for what mkfs did (directory forms, times).
 */
class XfsReadTest {

    /** One mkfs.xfs configuration. {@code allForms}: the standard tree must produce every directory form. */
    record Config(String name, long size, List<String> options, boolean allForms) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Config> configs() {
        long s = XfsTools.IMAGE_SIZE;
        return Stream.of(
                new Config("v5 defaults", s, List.of("-L", "jv2v-label"), true),
                new Config("v5 1k blocks, 4k dir blocks", s, List.of("-b", "size=1024", "-n", "size=4096"), true),
                new Config("v5 1k inodes, nrext64, 64k dir blocks", s, List.of("-i", "size=1024,nrext64=1", "-n",
                        "size=65536"), false),
                new Config("v4 ftype=0", s, List.of("-m", "crc=0", "-n", "ftype=0"), true),
                new Config("v4 1k blocks, 512-byte inodes", s, List.of("-m", "crc=0", "-b", "size=1024", "-i", "size=512"),
                        true),
                // AGs above 512 GiB: AG-relative inode numbers need 32 bits, so AG 1 has 64-bit inode numbers
                new Config("v4 64-bit inode numbers", 1100L << 30, List.of("-m", "crc=0", "-d", "agcount=2", "-l",
                        "size=64m"), true));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void readsBackWhatMkfsPutIn(Config config, @TempDir Path dir) throws Exception {
        XfsTools.require();
        boolean v4 = config.options().contains("crc=0");
        SourceTree tree = SourceTree.standard(dir, 42, v4);
        Path image = XfsTools.mkfs(dir, tree, config.size(), config.options());
        Map<String, Map<String, byte[]>> xattrs = addXattrs(image);
        // a 1.1 TiB sparse file is too long to hash: its size and modification time stand in
        boolean hash = config.size() <= XfsTools.IMAGE_SIZE;
        String before = hash ? Checksums.sha256(image) : Files.getLastModifiedTime(image) + " " + Files.size(image);

        try (FileDevice dev = FileDevice.open(image)) {
            assertThat(FileSystems.probe(dev)).map(f -> f.name()).contains("xfs");
            try (XfsFileSystem fs = XfsFileSystem.open(dev)) {
                String sb = XfsTools.db(image, "sb 0", "p");
                assertThat(fs.type()).isEqualTo("xfs");
                assertThat(fs.uuid()).contains(XfsTools.field(sb, "uuid"));
                assertThat(fs.version()).isEqualTo(v4 ? 4 : 5);
                assertThat(fs.label()).isEqualTo(config.options().contains("-L") ? java.util.Optional.of("jv2v-label")
                        : java.util.Optional.empty());
                assertThat(fs.logState().clean()).isTrue();

                checkTree(fs, tree, xattrs);
                checkDirectoryForms(image, fs, config);
                checkAttributeForms(image);
                checkTimestamps(image, fs, tree);
                checkPaths(fs, tree);
                if (config.size() > 1L << 40) {
                    assertThat(fs.list("/").stream().mapToLong(DirEntry::inode).max().orElseThrow())
                            .as("some inode number needs 64 bits").isGreaterThan(0xffffffffL);
                }
            }
        }
        assertThat(hash ? Checksums.sha256(image) : Files.getLastModifiedTime(image) + " " + Files.size(image))
                .as("the image is never written").isEqualTo(before);
    }

    /** Sets attributes with xfs_db in every form: shortform, leaf, node, remote values; all namespaces. */
    private static Map<String, Map<String, byte[]>> addXattrs(Path image) throws Exception {
        Map<String, Map<String, byte[]>> expected = new HashMap<>();
        List<String> cmds = new ArrayList<>();
        // shortform
        cmds.add("path /etc/hostname");
        set(cmds, expected, "/etc/hostname", "-s", "security.selinux", 27);
        set(cmds, expected, "/etc/hostname", "-u", "user.mime_type", 10);
        set(cmds, expected, "/etc/hostname", "-r", "trusted.one", 1);
        // a single leaf block
        cmds.add("path /files/f0");
        for (int i = 0; i < 12; i++) {
            set(cmds, expected, "/files/f0", "-u", "user.leaf" + i, 60);
        }
        // node: more than a block of names
        cmds.add("path /files/f1");
        for (int i = 0; i < 160; i++) {
            set(cmds, expected, "/files/f1", i % 3 == 0 ? "-s" : "-u", (i % 3 == 0 ? "security.n" : "user.n") + i, 40);
        }
        // remote values, in a leaf
        cmds.add("path /files/f2");
        set(cmds, expected, "/files/f2", "-u", "user.big", 20000);
        set(cmds, expected, "/files/f2", "-r", "trusted.huge", 65536);
        set(cmds, expected, "/files/f2", "-u", "user.small", 3);
        // on a directory and a symlink
        cmds.add("path /forms/leaf");
        set(cmds, expected, "/forms/leaf", "-s", "security.selinux", 31);
        assertThat(XfsTools.db(image, true, cmds)).as("xfs_db attr_set").doesNotContain("failed");
        return expected;
    }

    private static void set(List<String> cmds, Map<String, Map<String, byte[]>> expected, String path, String ns,
                            String name, int valueLength) {
        cmds.add("attr_set " + ns + " -v " + valueLength + " " + name.substring(name.indexOf('.') + 1));
        byte[] value = "v".repeat(valueLength).getBytes(StandardCharsets.US_ASCII); // xfs_db fills values with 'v'
        expected.computeIfAbsent(path, p -> new LinkedHashMap<>()).put(name, value);
    }

    private static void checkTree(XfsFileSystem fs, SourceTree tree, Map<String, Map<String, byte[]>> xattrs)
            throws Exception {
        for (SourceTree.Node n : tree.nodes.values()) {
            FileStat st = fs.stat(n.path());
            assertThat(st.kind()).as(n.path()).isEqualTo(n.kind());
            assertThat(st.mode()).as(n.path() + " mode").isEqualTo(n.mode());
            assertThat(st.uid()).as(n.path() + " uid").isEqualTo(n.uid());
            assertThat(st.gid()).as(n.path() + " gid").isEqualTo(n.gid());
            switch (n.kind()) {
                case REGULAR -> {
                    byte[] want = Files.readAllBytes(n.content());
                    assertThat(st.size()).as(n.path() + " size").isEqualTo(want.length);
                    assertThat(fs.readAll(n.path(), 16 << 20)).as(n.path() + " content").isEqualTo(want);
                    assertThat(st.links()).isEqualTo(1);
                }
                case SYMLINK -> {
                    assertThat(fs.readlink(n.path())).as(n.path()).isEqualTo(n.target());
                    assertThat(st.size()).isEqualTo(n.target().getBytes(StandardCharsets.UTF_8).length);
                }
                case BLOCK_DEVICE, CHAR_DEVICE -> assertThat(st.rdev()).as(n.path() + " rdev")
                        .isEqualTo(makedev(n.major(), n.minor()));
                case DIRECTORY -> {
                    List<SourceTree.Node> children = tree.children(n.path());
                    List<DirEntry> entries = fs.list(n.path());
                    assertThat(entries.stream().map(DirEntry::name)).as(n.path() + " names")
                            .containsExactlyInAnyOrderElementsOf(children.stream().map(SourceTree.Node::name).toList());
                    Map<String, FileKind> kinds = entries.stream().collect(Collectors.toMap(DirEntry::name, DirEntry::kind));
                    for (SourceTree.Node c : children) {
                        assertThat(kinds.get(c.name())).as(c.path() + " kind in listing").isEqualTo(c.kind());
                    }
                    long subdirs = children.stream().filter(c -> c.kind() == FileKind.DIRECTORY).count();
                    assertThat(st.links()).as(n.path() + " links").isEqualTo(2 + subdirs);
                    for (DirEntry e : entries.subList(0, Math.min(5, entries.size()))) {
                        String child = (n.path().equals("/") ? "" : n.path()) + "/" + e.name();
                        assertThat(fs.stat(child).inode()).isEqualTo(e.inode());
                    }
                }
                default -> { }
            }
            Map<String, byte[]> want = xattrs.getOrDefault(n.path(), Map.of());
            Map<String, byte[]> got = fs.xattrs(n.path());
            assertThat(got.keySet()).as(n.path() + " xattr names").containsExactlyInAnyOrderElementsOf(want.keySet());
            for (var e : want.entrySet()) {
                assertThat(got.get(e.getKey())).as(n.path() + " " + e.getKey()).isEqualTo(e.getValue());
            }
        }
    }

    static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xff);
    }

    /** The directory forms as xfs_db shows them: the standard tree must cover all four. */
    private static void checkDirectoryForms(Path image, XfsFileSystem fs, Config config) throws Exception {
        long leafBlock = (32L << 30) / fs.blockSize();
        Map<String, String> forms = new TreeMap<>();
        for (String d : List.of("short", "block", "leaf", "node")) {
            String path = "/forms/" + d;
            String format = XfsTools.field(XfsTools.db(image, "path " + path, "p core.format"), "core.format");
            List<long[]> map = XfsTools.bmap(image, path, false);
            String form;
            if (format.startsWith("1")) {
                form = "short";
            } else if (map.stream().anyMatch(e -> e[0] >= 2 * leafBlock)) {
                form = "node";
            } else if (map.stream().anyMatch(e -> e[0] >= leafBlock)) {
                form = "leaf";
            } else {
                form = "block";
            }
            forms.put(d, form);
        }
        if (config.allForms()) {
            assertThat(forms).as("directory forms made by mkfs").allSatisfy((k, v) -> assertThat(v).isEqualTo(k));
        }
    }

    /** The attribute forms xfs_db set up: shortform, leaf, node, and remote value blocks. */
    private static void checkAttributeForms(Path image) throws Exception {
        assertThat(XfsTools.field(XfsTools.db(image, "path /etc/hostname", "p core.aformat"), "core.aformat"))
                .startsWith("1");
        for (String p : List.of("/files/f0", "/files/f1", "/files/f2")) {
            assertThat(XfsTools.field(XfsTools.db(image, "path " + p, "p core.aformat"), "core.aformat"))
                    .startsWith("2");
        }
        assertThat(XfsTools.db(image, "path /files/f0", "ablock 0", "p")).containsPattern("magic = 0x(3bee|fbee)");
        assertThat(XfsTools.db(image, "path /files/f1", "ablock 0", "p")).containsPattern("magic = 0x(3ebe|febe)");
    }

    private static final DateTimeFormatter CTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US);

    /** atime/mtime/ctime of a sample of files, as xfs_db prints them (in UTC). */
    private static void checkTimestamps(Path image, XfsFileSystem fs, SourceTree tree) throws Exception {
        List<String> paths = tree.nodes.keySet().stream().filter(p -> !p.contains("/forms/")).limit(60).toList();
        List<String> cmds = new ArrayList<>();
        for (String p : paths) {
            cmds.add("path " + p);
            cmds.add("p core.atime.sec core.atime.nsec core.mtime.sec core.mtime.nsec core.ctime.sec core.ctime.nsec");
        }
        String[] lines = XfsTools.db(image, false, cmds).split("\n");
        assertThat(lines).hasSize(paths.size() * 6);
        for (int i = 0; i < paths.size(); i++) {
            FileStat st = fs.stat(paths.get(i));
            assertThat(st.atime()).as(paths.get(i) + " atime").isEqualTo(time(lines[6 * i], lines[6 * i + 1]));
            assertThat(st.mtime()).as(paths.get(i) + " mtime").isEqualTo(time(lines[6 * i + 2], lines[6 * i + 3]));
            assertThat(st.ctime()).as(paths.get(i) + " ctime").isEqualTo(time(lines[6 * i + 4], lines[6 * i + 5]));
        }
    }

    private static Instant time(String secLine, String nsecLine) {
        String sec = secLine.substring(secLine.indexOf('=') + 1).trim();
        long nsec = Long.parseLong(nsecLine.substring(nsecLine.indexOf('=') + 1).trim());
        return LocalDateTime.parse(sec, CTIME).toInstant(ZoneOffset.UTC).plusNanos(nsec);
    }

    /** Symbolic links in the middle and at the end of paths, "." and "..", errors. */
    private static void checkPaths(XfsFileSystem fs, SourceTree tree) throws Exception {
        byte[] hostname = "xfs-guest\n".getBytes(StandardCharsets.UTF_8);
        assertThat(fs.readAll("/links/relative", 100)).isEqualTo(hostname);
        assertThat(fs.readAll("/links/chain", 100)).isEqualTo(hostname);
        if (tree.nodes.containsKey("/links/long")) {
            assertThat(fs.readAll("/links/long", 100)).as("through a remote symlink").isEqualTo(hostname);
        }
        assertThat(fs.readAll("/links/todir/../etc/hostname", 100)).isEqualTo(hostname);
        assertThat(fs.readAll("/deep/./d0/../d0/d1/../../../etc//hostname", 100)).isEqualTo(hostname);
        assertThat(fs.stat("/links/todir").kind()).isEqualTo(FileKind.SYMLINK);
        assertThat(fs.list("/links/todir")).isEqualTo(fs.list("/files"));
        assertThat(fs.readAll("/links/todir/f7", 1 << 20)).isEqualTo(Files.readAllBytes(tree.nodes.get("/files/f7").content()));
        assertThat(fs.stat("/links/dangling").kind()).isEqualTo(FileKind.SYMLINK);
        assertThatThrownBy(() -> fs.readAll("/links/dangling", 100)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> fs.stat("/links/loop1/x")).isInstanceOf(FileSystemException.class)
                .hasMessageContaining("too many levels of symbolic links");
        assertThatThrownBy(() -> fs.stat("/no/such")).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> fs.stat("/etc/hostname/x")).isInstanceOf(NotDirectoryException.class);
        assertThatThrownBy(() -> fs.list("/etc/hostname")).isInstanceOf(NotDirectoryException.class);
        assertThatThrownBy(() -> fs.readlink("/etc/hostname")).isInstanceOf(FileSystemException.class);

        // partial reads, at odd offsets, and at the end of the file
        byte[] big = Files.readAllBytes(tree.nodes.get("/files/big").content());
        ByteBuffer buf = ByteBuffer.allocate(10_000);
        assertThat(fs.read("/files/big", buf, 123_457)).isEqualTo(10_000);
        assertThat(buf.array()).isEqualTo(java.util.Arrays.copyOfRange(big, 123_457, 133_457));
        buf.clear();
        assertThat(fs.read("/files/big", buf, big.length - 10)).isEqualTo(10);
        buf.clear();
        assertThat(fs.read("/files/big", buf, big.length)).isEqualTo(-1);
    }
}
