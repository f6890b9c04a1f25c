package org.jv2v.fs;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A directory tree with every kind of thing a filesystem must carry (random file sizes, sparse
 * files, deep and wide directories, fast and slow symlinks, hard links, devices, modes, owners,
 * times, xattrs and ACLs), built on the host for mkfs -d and friends, and compared afterwards
 * against what jv2v reads back from the image.
 */
public final class SourceTree {
    /** Blocks of data in the island file: enough extents to need a two-level extent tree. */
    public static final int ISLANDS = 400;

    /** A file whose last bytes are a hole (mke2fs 1.47.0 -d with inline_data gets its size wrong). */
    public static final String TAIL_HOLE = "tail-hole.bin";

    private static final Map<Path, Map<String, Map<String, String>>> XATTRS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private SourceTree() {}

    /**
     * Builds the tree. No time after 2038: mke2fs -d stores only the low 32 bits of seconds (the
     * epoch bits are tested separately with debugfs).
     */
    public static void build(Path root, long seed) throws IOException, InterruptedException {
        Tools.require("setfattr", "setfacl", "mknod", "mkfifo");
        Random rnd = new Random(seed);
        Files.createDirectories(root);
        int[] sizes = {0, 1, 59, 60, 61, 1000, 1023, 1024, 1025, 4095, 4096, 4097, 65536, 200_000};
        for (int i = 0; i < 40; i++) {
            int size = i < sizes.length ? sizes[i] : rnd.nextInt(300_000);
            Path f = root.resolve("file" + i + ".bin");
            Files.write(f, bytes(rnd, size));
        }
        Files.write(root.resolve("big.bin"), bytes(rnd, 3 << 20));
        Files.writeString(root.resolve("hello.txt"), "hello, world\n");
        // sparse: holes at the start, in the middle, and (tail-hole.bin) at the end
        try (RandomAccessFile f = new RandomAccessFile(root.resolve("sparse.bin").toFile(), "rw")) {
            f.seek(3 << 20);
            f.write(bytes(rnd, 70_000));
            f.seek((7 << 20) + 123);
            f.write(bytes(rnd, 5000));
        }
        try (RandomAccessFile f = new RandomAccessFile(root.resolve(TAIL_HOLE).toFile(), "rw")) {
            f.setLength(9 << 20);
            f.seek(1 << 20);
            f.write(bytes(rnd, 10_000));
        }
        try (RandomAccessFile f = new RandomAccessFile(root.resolve("islands.bin").toFile(), "rw")) {
            for (int i = 0; i < ISLANDS; i++) {
                f.seek(i * 8192L);
                f.write(bytes(rnd, 4096));
            }
        }
        Run.checked(List.of("truncate", "-s", "5M", root.resolve("empty-sparse.bin").toString()));
        // deep directories
        Path deep = root;
        for (int i = 0; i < 40; i++) {
            deep = deep.resolve("d" + i);
        }
        Files.createDirectories(deep);
        Files.writeString(deep.resolve("leaf.txt"), "at the bottom\n");
        // a wide directory, indexed (htree) by e2fsck -D afterwards
        Path many = Files.createDirectory(root.resolve("many"));
        for (int i = 0; i < 2000; i++) {
            Files.writeString(many.resolve("entry-with-a-longish-name-" + i), Integer.toString(i));
        }
        // small directory with small files (inline data candidates)
        Path small = Files.createDirectory(root.resolve("small"));
        Files.writeString(small.resolve("a"), "tiny");
        Files.writeString(small.resolve("b"), "x".repeat(100));
        // symlinks
        Files.createSymbolicLink(root.resolve("fast-link"), Path.of("hello.txt"));
        Files.createSymbolicLink(root.resolve("slow-link"), Path.of("x".repeat(59) + "/" + "y".repeat(140)));
        Files.createSymbolicLink(root.resolve("abs-link"), Path.of("/small/a"));
        Files.createSymbolicLink(root.resolve("dir-link"), Path.of("small"));
        Files.createSymbolicLink(root.resolve("len59-link"), Path.of("z".repeat(59)));
        Files.createSymbolicLink(root.resolve("len60-link"), Path.of("z".repeat(60)));
        Files.createLink(root.resolve("hardlink.bin"), root.resolve("file5.bin"));
        // special files
        Run.checked(List.of("mknod", root.resolve("chardev").toString(), "c", "4", "5"));
        Run.checked(List.of("mknod", root.resolve("blockdev").toString(), "b", "259", "300000"));
        Run.checked(List.of("mkfifo", root.resolve("fifo").toString()));
        // xattrs: user, security (as SELinux sets them), a value too big for the inode, ACLs
        setfattr(root.resolve("hello.txt"), "user.comment", "greeting");
        setfattr(root.resolve("hello.txt"), "security.selinux", "system_u:object_r:etc_t:s0");
        setfattr(root.resolve("file3.bin"), "user.big", "v".repeat(700));
        setfattr(root.resolve("many"), "user.dir", "on a directory");
        setfattr(root.resolve("small"), "trusted.note", "trusted namespace");
        Run.checked(List.of("setfacl", "-m", "u:1000:rw,g:2000:r", root.resolve("file7.bin").toString()));
        Run.checked(List.of("setfacl", "-d", "-m", "u:1001:rx", root.resolve("small").toString()));
        // modes, owners, times
        setOwnersAndModes(walk(root));
        Files.setLastModifiedTime(root.resolve("file1.bin"), FileTime.fromMillis(-315_619_200_000L)); // 1960
        Files.setLastModifiedTime(root.resolve("file2.bin"), FileTime.fromMillis(1_000_000_000_000L)); // 2001
    }

    private static void setfattr(Path p, String name, String value) throws IOException, InterruptedException {
        Run.checked(List.of("setfattr", "-h", "-n", name, "-v", value, p.toString()));
    }

    public static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    /**
     * Gives every fourth path an owner and group and every third regular file one of a spread of
     * modes (setuid, setgid, sticky, none), owners first: chown clears setuid bits.
     */
    public static void setOwnersAndModes(List<Path> all) throws IOException {
        int[] modes = {0600, 0644, 0755, 04755, 02750, 01777, 0400, 0};
        for (int i = 0; i < all.size(); i++) {
            Path p = all.get(i);
            if (i % 4 == 1 && !Files.isSymbolicLink(p)) {
                Files.setAttribute(p, "unix:uid", i * 37 % 2000, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:gid", 70000 + i, LinkOption.NOFOLLOW_LINKS);
            }
        }
        for (int i = 0; i < all.size(); i++) {
            Path p = all.get(i);
            if (i % 3 == 0 && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.setAttribute(p, "unix:mode", modes[i % modes.length], LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    /** Every path under root (not root itself), parents first (sorted), not following symlinks. */
    public static List<Path> walk(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> !p.equals(root)).sorted().toList();
        }
    }

    /** Extended attributes of every file under {@code root}, as getfattr reads them (by relative path). */
    public static Map<String, Map<String, String>> xattrs(Path root) throws IOException, InterruptedException {
        Tools.require("getfattr");
        Run.Result r = Run.run(List.of("getfattr", "-R", "-P", "-d", "-m", "-", "-e", "hex", "--absolute-names",
                root.toString()), null, Map.of(), 120);
        Map<String, Map<String, String>> out = new TreeMap<>();
        Map<String, String> cur = null;
        for (String line : r.stdout().split("\n")) {
            if (line.startsWith("# file: ")) {
                Path p = Path.of(line.substring(8));
                cur = new LinkedHashMap<>();
                out.put(p.equals(root) ? "" : root.relativize(p).toString(), cur);
            } else if (cur != null && line.contains("=0x")) {
                int eq = line.indexOf('=');
                cur.put(line.substring(0, eq), line.substring(eq + 3));
            }
        }
        return out;
    }

    /**
     * Asserts that every file under {@code root} reads back from {@code fs} identical: kind, mode,
     * owner, mtime (seconds), size, content, symlink target, device number, xattrs; and that every
     * directory lists the same names ({@code extraRootNames} such as lost+found aside).
     */
    public static void assertSame(Path root, FileSystem fs, List<String> extraRootNames) throws Exception {
        Map<String, Map<String, String>> xattrs = XATTRS.computeIfAbsent(root, r -> {
            try {
                return xattrs(r);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        List<Path> all = new ArrayList<>(walk(root));
        all.addFirst(root);
        for (Path p : all) {
            String rel = root.relativize(p).toString();
            String path = "/" + rel;
            FileStat st = fs.stat(path);
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime,rdev,size",
                    LinkOption.NOFOLLOW_LINKS);
            assertThat(st.mode()).as("mode of %s", path).isEqualTo((Integer) a.get("mode") & 07777);
            assertThat(st.uid()).as("uid of %s", path).isEqualTo(a.get("uid"));
            assertThat(st.gid()).as("gid of %s", path).isEqualTo(a.get("gid"));
            assertThat(rel.isEmpty() ? 0 : st.mtime().getEpochSecond()).as("mtime of %s", path) // mkfs makes the root
                    .isEqualTo(rel.isEmpty() ? 0
                    : ((FileTime) a.get("lastModifiedTime")).toInstant().getEpochSecond());
            if (Files.isSymbolicLink(p)) {
                assertThat(st.kind()).isEqualTo(FileKind.SYMLINK);
                assertThat(fs.readlink(path)).as("target of %s", path).isEqualTo(Files.readSymbolicLink(p).toString());
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                assertThat(st.kind()).isEqualTo(FileKind.DIRECTORY);
                List<String> expected = new ArrayList<>();
                try (Stream<Path> s = Files.list(p)) {
                    s.forEach(c -> expected.add(c.getFileName().toString()));
                }
                if (rel.isEmpty()) {
                    expected.addAll(extraRootNames);
                }
                List<DirEntry> listed = fs.list(path);
                assertThat(listed).extracting(DirEntry::name).as("names in %s", path)
                        .containsExactlyInAnyOrderElementsOf(expected);
                for (DirEntry e : listed) {
                    if (!extraRootNames.contains(e.name()) || !rel.isEmpty()) {
                        assertThat(e.kind()).as("kind of %s in %s", e.name(), path)
                                .isEqualTo(fs.stat((rel.isEmpty() ? "" : path) + "/" + e.name()).kind());
                    }
                }
            } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                assertThat(st.kind()).isEqualTo(FileKind.REGULAR);
                assertThat(st.size()).as("size of %s", path).isEqualTo(a.get("size"));
                assertThat(readInChunks(fs, path)).as("content of %s", path).isEqualTo(Files.readAllBytes(p));
            } else {
                assertThat(st.rdev()).as("rdev of %s", path).isEqualTo(a.get("rdev"));
            }
            if (Files.isSymbolicLink(p)) {
                continue; // getfattr reports a link's target's attributes; none are set on links here
            }
            Map<String, String> want = xattrs.getOrDefault(rel, Map.of());
            Map<String, String> got = new TreeMap<>();
            fs.xattrs(path).forEach((k, v) -> got.put(k, HexFormat.of().formatHex(v)));
            assertThat(got).as("xattrs of %s", path).isEqualTo(new TreeMap<>(want));
        }
    }

    /** A whole file read through {@link FileSystem#read} in odd-sized chunks. */
    public static byte[] readInChunks(FileSystem fs, String path) throws IOException {
        return readInChunks(fs, path, 1 << 20 | 12345);
    }

    /** A whole file read through {@link FileSystem#read} in chunks of {@code chunkSize} bytes (odd, to cross block edges). */
    public static byte[] readInChunks(FileSystem fs, String path, int chunkSize) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(chunkSize);
        long pos = 0;
        for (int n; (n = fs.read(path, buf.clear(), pos)) >= 0; pos += n) {
            out.write(buf.array(), 0, n);
        }
        return out.toByteArray();
    }
}
