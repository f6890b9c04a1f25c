package org.jv2v.fs.btrfs;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.SourceTree;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A host tree for {@code mkfs.btrfs --rootdir}: random sizes around the inline limit, the sector
 * and the 128 KiB compression unit, deep and wide directories, symlinks short and long, hard
 * links, a FIFO, owners, modes with setuid/setgid/sticky, xattrs in four namespaces and an ACL.
 * Device nodes are left out: mkfs.btrfs 6.2 stores their device number as 0 (the guestfish test
 * covers them).
 */
final class BtrfsSourceTree {
    private BtrfsSourceTree() {}

    static void build(Path root, long seed, int wide) throws IOException, InterruptedException {
        Tools.require("setfattr", "setfacl", "mkfifo");
        Random rnd = new Random(seed);
        Files.createDirectories(root);
        int[] sizes = {0, 1, 2047, 2048, 2049, 4095, 4096, 4097, 131072, 131073, 300_000, 1_500_000};
        for (int i = 0; i < 30; i++) {
            int size = i < sizes.length ? sizes[i] : rnd.nextInt(200_000);
            Files.write(root.resolve("file" + i + ".bin"), SourceTree.bytes(rnd, size));
        }
        Files.writeString(root.resolve("hello.txt"), "hello, world\n");
        Files.writeString(root.resolve("ünïcode ☃.txt"), "snow\n");
        Path deep = root;
        for (int i = 0; i < 30; i++) {
            deep = deep.resolve("d" + i);
        }
        Files.createDirectories(deep);
        Files.writeString(deep.resolve("leaf.txt"), "at the bottom\n");
        Path many = Files.createDirectory(root.resolve("many"));
        for (int i = 0; i < wide; i++) {
            Files.writeString(many.resolve("entry-with-a-longish-name-" + i), Integer.toString(i));
        }
        Path small = Files.createDirectory(root.resolve("small"));
        Files.writeString(small.resolve("a"), "tiny");
        Files.createSymbolicLink(root.resolve("rel-link"), Path.of("hello.txt"));
        Files.createSymbolicLink(root.resolve("abs-link"), Path.of("/small/a"));
        Files.createSymbolicLink(root.resolve("dir-link"), Path.of("small"));
        Files.createSymbolicLink(root.resolve("long-link"), Path.of("x".repeat(100) + "/" + "y".repeat(200)));
        Files.createSymbolicLink(root.resolve("dangling"), Path.of("nowhere"));
        Files.createLink(root.resolve("hardlink.bin"), root.resolve("file5.bin"));
        Run.checked(List.of("mkfifo", root.resolve("fifo").toString()));
        setfattr(root.resolve("hello.txt"), "user.comment", "greeting");
        setfattr(root.resolve("hello.txt"), "security.selinux", "system_u:object_r:etc_t:s0");
        setfattr(root.resolve("file3.bin"), "user.big", "v".repeat(1500));
        setfattr(many, "user.dir", "on a directory");
        setfattr(small, "trusted.note", "trusted namespace");
        Run.checked(List.of("setfacl", "-m", "u:1000:rw,g:2000:r", root.resolve("file7.bin").toString()));
        SourceTree.setOwnersAndModes(SourceTree.walk(root));
        Files.setLastModifiedTime(root.resolve("file1.bin"), FileTime.fromMillis(-315_619_200_000L)); // 1960
        Files.setLastModifiedTime(root.resolve("file2.bin"), FileTime.fromMillis(4_102_444_800_000L)); // 2100
    }

    private static void setfattr(Path p, String name, String value) throws IOException, InterruptedException {
        Run.checked(List.of("setfattr", "-h", "-n", name, "-v", value, p.toString()));
    }

    /**
     * Every file under {@code root} reads back from {@code fs} (seen at {@code prefix}) identical:
     * kind, mode, owner, mtime (seconds: mkfs.btrfs 6.2 drops nanoseconds), size, content, symlink
     * target, hard link count, xattrs; every directory lists the same names.
     */
    static void assertSame(Path root, FileSystem fs, String prefix, boolean checkRootMeta) throws Exception {
        Map<String, Map<String, String>> xattrs = SourceTree.xattrs(root);
        List<Path> all = new ArrayList<>(SourceTree.walk(root));
        all.addFirst(root);
        for (Path p : all) {
            String rel = root.relativize(p).toString();
            String path = rel.isEmpty() ? (prefix.isEmpty() ? "/" : prefix) : prefix + "/" + rel;
            FileStat st = fs.stat(path);
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime,size,nlink",
                    LinkOption.NOFOLLOW_LINKS);
            if (!rel.isEmpty() || checkRootMeta) {
                assertThat(st.mode()).as("mode of %s", path).isEqualTo((Integer) a.get("mode") & 07777);
                assertThat(st.uid()).as("uid of %s", path).isEqualTo(a.get("uid"));
                assertThat(st.gid()).as("gid of %s", path).isEqualTo(a.get("gid"));
                assertThat(st.mtime().getEpochSecond()).as("mtime of %s", path)
                        .isEqualTo(((FileTime) a.get("lastModifiedTime")).toInstant().getEpochSecond());
            }
            if (Files.isSymbolicLink(p)) {
                assertThat(st.kind()).as("kind of %s", path).isEqualTo(FileKind.SYMLINK);
                assertThat(fs.readlink(path)).as("target of %s", path).isEqualTo(Files.readSymbolicLink(p).toString());
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                assertThat(st.kind()).as("kind of %s", path).isEqualTo(FileKind.DIRECTORY);
                List<String> expected;
                try (Stream<Path> s = Files.list(p)) {
                    expected = s.map(c -> c.getFileName().toString()).toList();
                }
                List<DirEntry> listed = fs.list(path);
                assertThat(listed).extracting(DirEntry::name).as("names in %s", path)
                        .containsExactlyInAnyOrderElementsOf(expected);
                for (DirEntry e : listed) {
                    FileStat cs = fs.stat((path.equals("/") ? "" : path) + "/" + e.name());
                    assertThat(e.kind()).as("kind of %s in %s", e.name(), path).isEqualTo(cs.kind());
                    assertThat(e.inode()).as("inode of %s in %s", e.name(), path).isEqualTo(cs.inode());
                }
            } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                assertThat(st.kind()).as("kind of %s", path).isEqualTo(FileKind.REGULAR);
                assertThat(st.size()).as("size of %s", path).isEqualTo(a.get("size"));
                assertThat(st.links()).as("links of %s", path).isEqualTo(((Number) a.get("nlink")).longValue());
                assertThat(SourceTree.readInChunks(fs, path, 100_003)).as("content of %s", path).isEqualTo(Files.readAllBytes(p));
            } else {
                assertThat(st.kind()).as("kind of %s", path).isEqualTo(FileKind.FIFO);
            }
            if (Files.isSymbolicLink(p)) {
                continue; // getfattr reads the target's attributes; none are set on links here
            }
            Map<String, String> got = new TreeMap<>();
            fs.xattrs(path).forEach((k, v) -> got.put(k, HexFormat.of().formatHex(v)));
            assertThat(got).as("xattrs of %s", path).isEqualTo(new TreeMap<>(xattrs.getOrDefault(rel, Map.of())));
        }
    }
}
