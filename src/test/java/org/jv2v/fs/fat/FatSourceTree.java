package org.jv2v.fs.fat;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.SourceTree;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tree of what a FAT volume can hold (random sizes around sector and cluster edges, long and
 * Unicode names, 8.3 names in lower case, deep and wide directories), built on the host and
 * copied in with mtools, then compared with what jv2v reads back.
 */
final class FatSourceTree {
    /** Names that exercise the VFAT and 8.3 rules. */
    static final List<String> NAMES = List.of("lower.txt", "UPPER.TXT", "MiXeD.TxT", "lowerbase.TXT",
            "Long File Name with Spaces and MixedCase.txt", "ünïcode ✓ ☃.txt", "name.with.dots.tar.gz",
            "x".repeat(200) + ".bin", "NOEXT", "a+b=c;d,e[f].txt", "日本語のファイル名.txt");

    private FatSourceTree() {}

    /**
     * Builds the tree; {@code budget} bounds the bytes of random files (the volume must hold
     * them). Modification times are even seconds (FAT's resolution).
     */
    static void build(Path root, long seed, long budget, int wide) throws IOException {
        Random rnd = new Random(seed);
        Files.createDirectories(root);
        int[] edges = {0, 1, 511, 512, 513, 2047, 2048, 2049, 4096, 4097, 32768, 65537};
        long used = 0;
        for (int i = 0; used < budget; i++) {
            int size = i < edges.length ? edges[i] : rnd.nextInt((int) Math.min(200_000, budget / 4));
            Files.write(root.resolve("file" + i + ".bin"), SourceTree.bytes(rnd, size));
            used += size;
        }
        for (String n : NAMES) {
            Files.write(root.resolve(n), SourceTree.bytes(rnd, rnd.nextInt(3000)));
        }
        Path deep = root;
        for (int i = 0; i < 16; i++) {
            deep = deep.resolve(i % 2 == 0 ? "Level " + i : "LVL" + i);
        }
        Files.createDirectories(deep);
        Files.writeString(deep.resolve("leaf.txt"), "at the bottom\n");
        Path w = Files.createDirectories(root.resolve("Wide Directory"));
        for (int i = 0; i < wide; i++) {
            Files.write(w.resolve("entry number " + i + " with a long name.dat"), SourceTree.bytes(rnd, rnd.nextInt(700)));
        }
        Files.createDirectories(root.resolve("empty dir"));
        long[] times = {Instant.parse("1985-06-07T08:09:10Z").toEpochMilli(),
                Instant.parse("2001-09-09T01:46:40Z").toEpochMilli(),
                Instant.parse("2038-01-19T03:14:08Z").toEpochMilli(),
                Instant.parse("2099-12-31T23:59:58Z").toEpochMilli()};
        List<Path> all = SourceTree.walk(root);
        for (int i = 0; i < all.size(); i++) {
            if (Files.isRegularFile(all.get(i))) {
                Files.setLastModifiedTime(all.get(i), FileTime.fromMillis(times[i % times.length] + 2000L * i));
            }
        }
    }

    /**
     * Every file and directory under {@code root} reads back identical from {@code fs}: names in
     * each directory, kind, size, content, mtime of files; with {@code readOnly} files 0555 and
     * others 0755.
     */
    static void assertSame(Path root, FileSystem fs, List<String> readOnly) throws IOException {
        List<Path> all = new ArrayList<>(SourceTree.walk(root));
        all.addFirst(root);
        for (Path p : all) {
            String rel = root.relativize(p).toString();
            String path = "/" + rel;
            FileStat st = fs.stat(path);
            if (Files.isDirectory(p)) {
                assertThat(st.kind()).as("kind of %s", path).isEqualTo(FileKind.DIRECTORY);
                assertThat(st.mode()).as("mode of %s", path).isEqualTo(0755);
                List<String> expected;
                try (Stream<Path> s = Files.list(p)) {
                    expected = s.map(c -> c.getFileName().toString()).toList();
                }
                List<DirEntry> listed = fs.list(path);
                assertThat(listed).extracting(DirEntry::name).as("names in %s", path)
                        .containsExactlyInAnyOrderElementsOf(expected);
                long subdirs = expected.stream().filter(n -> Files.isDirectory(p.resolve(n))).count();
                assertThat(st.links()).as("links of %s", path).isEqualTo(subdirs + 2);
            } else {
                assertThat(st.kind()).as("kind of %s", path).isEqualTo(FileKind.REGULAR);
                assertThat(st.size()).as("size of %s", path).isEqualTo(Files.size(p));
                assertThat(st.mode()).as("mode of %s", path).isEqualTo(readOnly.contains(rel) ? 0555 : 0755);
                assertThat(st.mtime()).as("mtime of %s", path)
                        .isEqualTo(Files.getLastModifiedTime(p).toInstant());
                assertThat(SourceTree.readInChunks(fs, path, 12345)).as("content of %s", path).isEqualTo(Files.readAllBytes(p));
            }
        }
    }
}
