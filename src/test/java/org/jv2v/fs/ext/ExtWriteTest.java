package org.jv2v.fs.ext;

import org.jv2v.fs.FileSystemFormat;
import org.jv2v.fs.FileSystems;
import org.jv2v.fs.WritableFileSystem;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conversion's edits ({@link ExtEditScenario}) on filesystems mkfs.ext4 -d made with each
 * family of features, checked by e2fsprogs: e2fsck -fn finds nothing, and debugfs reads every
 * file, link, owner and directory as expected, with the rewritten files' inode, mode, owner,
 * timestamps and attributes unchanged.
 */
class ExtWriteTest {

    record Config(String name, List<String> mkfs) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Config> configs() {
        return Stream.of(
                new Config("ext4 as Debian 12 and RHEL 8/9 make it", List.of("-t", "ext4")),
                new Config("ext4 as e2fsprogs 1.47 makes it (csum seed, orphan file)", List.of("-t", "ext4",
                        "-O", "metadata_csum_seed,orphan_file")),
                new Config("ext4 1k blocks, uninit_bg without metadata_csum", List.of("-t", "ext4", "-b", "1024",
                        "-O", "^metadata_csum,uninit_bg")),
                new Config("ext4 inline_data", List.of("-t", "ext4", "-O", "inline_data", "-I", "256")),
                new Config("ext4 128-byte inodes", List.of("-t", "ext4", "-I", "128")),
                new Config("ext4 without extents", List.of("-t", "ext4", "-b", "1024", "-O", "^extent,^64bit")),
                new Config("ext3", List.of("-t", "ext3")),
                new Config("ext2 1k without dir_index", List.of("-t", "ext2", "-b", "1024", "-O", "^dir_index")),
                new Config("ext4 64 KiB blocks", List.of("-t", "ext4", "-b", "65536", "-N", "2048")),
                new Config("ext4 meta_bg", List.of("-t", "ext4", "-b", "1024", "-O", "meta_bg,^resize_inode")));
    }

    static final long SEED = 7;
    /** One tree for every configuration: writing hundreds of files is the slow part. */
    @TempDir
    static Path shared;
    static Path tree;

    @BeforeAll
    static void buildTree() throws Exception {
        Tools.require("setfattr");
        tree = shared.resolve("tree");
        new ExtEditScenario(SEED).build(tree);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void editsLeaveE2fsckCleanAndReadBack(Config c, @TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "debugfs");
        ExtEditScenario s = new ExtEditScenario(SEED);
        s.build(null);
        Path image = dir.resolve("made.img");
        // 64 KiB blocks: each of the ~750 small files takes a whole block
        ExtTools.mkfs(image, tree, c.mkfs.contains("65536") ? "80M" : "32M", c.mkfs);
        indexDirectories(image);
        ExtTools.assertFsckClean(image);
        Path edited = dir.resolve("edited.img");
        Files.copy(image, edited);
        String sumBefore = Checksums.sha256(image);
        List<org.jv2v.fs.ByteRange> usedSeenByEditor;
        org.jv2v.fs.FileSystem.SpaceUsage spaceSeenByEditor;

        List<String> statRequests = new ArrayList<>();
        for (String p : s.rewritten) {
            statRequests.add("stat " + p);
            statRequests.add("ea_list " + p);
        }
        String before = ExtTools.debugfsBatch(edited, dir, statRequests);
        boolean indexed = ExtTools.debugfs(edited, "htree /etc/many").contains("Root node dump");
        boolean inline = c.mkfs.contains("inline_data");
        for (String p : List.of("/etc/tiny", "/etc/grows", "/etc/shrinks")) {
            assertThat(ExtTools.debugfs(edited, "stat " + p).contains("Size of inline data")).as("%s inline", p)
                    .isEqualTo(inline);
        }
        assertThat(indexed).as("e2fsck -D indexed /etc/many").isEqualTo(!c.mkfs.contains("^dir_index")
                && !c.mkfs.contains("65536")); // one 64 KiB block holds all its entries

        try (FileDevice dev = FileDevice.openWritable(edited)) {
            FileSystemFormat format = FileSystems.probe(dev).orElseThrow();
            try (WritableFileSystem fs = format.openWritable(dev)) {
                s.apply(fs);
                s.verify(fs); // reads through the editor see the edits
                usedSeenByEditor = fs.usedRanges();
                spaceSeenByEditor = fs.space();
            }
        }
        assertThat(Checksums.sha256(image)).as("the image edits were made on a copy of").isEqualTo(sumBefore);
        ExtTools.assertFsckClean(edited);
        checkWithDebugfs(s, edited, dir, before, statRequests);
        assertThat(ExtTools.debugfs(edited, "htree /etc/many").contains("Root node dump")).as("/etc/many indexed")
                .isEqualTo(indexed);
        // the inline directory and file grew out of their inodes; the shrunk file went back into i_block
        assertThat(ExtTools.debugfs(edited, "stat /etc/tiny")).doesNotContain("Size of inline data");
        assertThat(ExtTools.debugfs(edited, "stat /etc/grows")).doesNotContain("Size of inline data");
        assertThat(ExtTools.debugfs(edited, "stat /etc/shrinks").contains("Size of inline data: 60")).isEqualTo(inline);
        try (FileDevice dev = FileDevice.open(edited); ExtFileSystem fs = ExtFileSystem.open(dev)) {
            s.verify(fs);
            // the editor's view of used blocks and free space (what the copier asks) is the disk's
            assertThat(usedSeenByEditor).isEqualTo(fs.usedRanges());
            assertThat(spaceSeenByEditor).isEqualTo(fs.space());
            long free = ExtTools.number(Run.checked(List.of("dumpe2fs", "-h", edited.toString())).stdout(),
                    "Free blocks:\\s+(\\d+)");
            assertThat(spaceSeenByEditor.freeBytes()).isEqualTo(free * fs.blockSize());
        }
    }

    /** e2fsck -D indexes the directories big enough for an htree (where the filesystem has dir_index). */
    static void indexDirectories(Path image) throws Exception {
        Run.Result r = Run.run(List.of("e2fsck", "-fyD", image.toString()), null, Map.of(), 120);
        assertThat(r.exitCode()).as(r.all()).isLessThanOrEqualTo(1);
    }

    static void checkWithDebugfs(ExtEditScenario s, Path image, Path dir, String before, List<String> statRequests)
            throws Exception {
        // the rewritten files: same inode, mode, owner, times, attributes; new size
        String after = ExtTools.debugfsBatch(image, dir, statRequests);
        List<String> b = preserved(before);
        List<String> a = preserved(after);
        assertThat(a).as("inode, mode, owner, times and attributes of the rewritten files").isEqualTo(b);
        // one debugfs run: stat of every rewritten and new path (outside the big directory, and a
        // sample inside it), then a dump of every such file
        List<String> sample = new ArrayList<>();
        for (String p : s.files.keySet()) {
            if (!p.startsWith("/etc/many/") || p.contains("-0007") || p.contains("-0299") || p.contains("-0399")
                    || p.endsWith("nnnn")) {
                sample.add(p);
            }
        }
        List<String> requests = new ArrayList<>();
        java.util.Set<String> statted = new java.util.LinkedHashSet<>(s.rewritten);
        statted.addAll(sample);
        for (String p : s.owners.keySet()) {
            if (!s.files.containsKey(p)) {
                statted.add(p); // directories
            }
        }
        statted.add("/etc/short-link");
        for (String p : statted) {
            requests.add("stat " + p);
        }
        Path dumps = Files.createDirectory(dir.resolve("dumps"));
        for (int i = 0; i < sample.size(); i++) {
            requests.add("dump " + sample.get(i) + " " + dumps.resolve("f" + i));
        }
        requests.add("dump /etc/long-link " + dumps.resolve("long-link"));
        String out = ExtTools.debugfsBatch(image, dir, requests);
        Map<String, String> stats = new java.util.HashMap<>();
        String[] parts = out.split("(?m)^debugfs: ");
        for (String part : parts) {
            if (part.startsWith("stat ")) {
                stats.put(part.substring(5, part.indexOf('\n')).trim(), part);
            }
        }
        for (String p : s.rewritten) {
            assertThat(ExtTools.number(stats.get(p), "Size: (\\d+)")).as("size of %s", p).isEqualTo(s.files.get(p).length);
        }
        for (var o : s.owners.entrySet()) {
            String stat = stats.get(o.getKey());
            if (stat == null) {
                continue;
            }
            assertThat(stat).as(o.getKey()).containsPattern(String.format("Mode:\\s+0?%o\\s", o.getValue()[0]))
                    .containsPattern("User:\\s+" + o.getValue()[1] + "\\s+Group:\\s+" + o.getValue()[2] + "\\s");
        }
        for (int i = 0; i < sample.size(); i++) {
            String p = sample.get(i);
            byte[] got = Files.readAllBytes(dumps.resolve("f" + i));
            byte[] want = s.files.get(p);
            String stat = stats.get(p);
            if (stat != null && stat.contains("Size of inline data") && got.length > want.length) {
                // debugfs 1.47.0 dumps an inline file as all of i_block: compare what it holds
                got = java.util.Arrays.copyOf(got, want.length);
            }
            assertThat(got).as("debugfs dump of %s", p).isEqualTo(want);
        }
        assertThat(stats.get("/etc/short-link")).contains("Fast link dest: \"/dev/null\"");
        assertThat(Files.readString(dumps.resolve("long-link"))).isEqualTo(ExtEditScenario.LONG_TARGET);
        String ls = ExtTools.debugfs(image, "ls -l /etc");
        for (String name : List.of("new.conf", "empty-new", "short-link", "long-link", "newdir", "hard2", "fstab")) {
            assertThat(ls).as("ls -l /etc").containsPattern("\\s" + Pattern.quote(name) + "\\s*\\n");
        }
        for (String name : List.of("remove-me", "old-link", "hard1")) {
            assertThat(ls).as("ls -l /etc").doesNotContainPattern("\\s" + Pattern.quote(name) + "\\s*\\n");
        }
        assertThat(ExtTools.debugfs(image, "ls -l /etc/newdir/sub")).contains(" up");
        String many = ExtTools.debugfs(image, "ls /etc/many");
        assertThat(many).contains("added-by-jv2v-0000", "added-by-jv2v-0299", "existing-entry-0000");
    }

    /** From debugfs stat and ea_list: the fields a rewrite must keep. */
    static List<String> preserved(String debugfs) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("Inode: (\\d+)\\s+Type: (\\S+)\\s+Mode:\\s+(\\d+)|Generation: (\\d+)"
                + "|User:\\s+(\\d+)\\s+Group:\\s+(\\d+)|(ctime|atime|mtime|crtime): (0x[0-9a-f:]+)"
                + "|Extended attributes:\\n((?:  .*\\n)+)").matcher(debugfs);
        while (m.find()) {
            out.add(m.group().trim());
        }
        return out;
    }

    @org.junit.jupiter.api.Test
    void newFilesCarryTheirSelinuxLabelInTheInode(@TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "debugfs");
        Path image = dir.resolve("fs.img");
        ExtTools.mkfs(image, null, "16M", List.of("-t", "ext4"));
        byte[] label = "system_u:object_r:NetworkManager_etc_rw_t:s0\0".getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> attrs = Map.of("security.selinux", label);
        try (FileDevice dev = FileDevice.openWritable(image); WritableFileSystem fs = new ExtFormat().openWritable(dev)) {
            fs.create("/ens3.nmconnection", "[connection]\n".getBytes(StandardCharsets.UTF_8), 0600, 0, 0, attrs);
            assertThat(fs.xattrs("/ens3.nmconnection")).containsOnlyKeys("security.selinux");
            // two attributes of that size are more than a 256-byte inode holds
            Map<String, byte[]> more = Map.of("security.selinux", label, "user.origin", label);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> fs.create("/more", new byte[1], 0644, 0, 0, more))
                    .isInstanceOf(org.jv2v.Jv2vException.class).hasMessageContaining("do not fit in a 256-byte inode");
        }
        ExtTools.assertFsckClean(image);
        assertThat(ExtTools.debugfs(image, "ea_list /ens3.nmconnection")).contains("security.selinux (45)");
        Path value = dir.resolve("value");
        ExtTools.debugfs(image, "ea_get -f " + value + " /ens3.nmconnection security.selinux");
        assertThat(Files.readAllBytes(value)).isEqualTo(label);
        try (FileDevice dev = FileDevice.open(image); ExtFileSystem fs = ExtFileSystem.open(dev)) {
            assertThat(fs.xattrs("/ens3.nmconnection").get("security.selinux")).isEqualTo(label);
        }
        // 128-byte inodes have no room: refused, nothing written
        Path small = dir.resolve("small.img");
        ExtTools.mkfs(small, null, "16M", List.of("-t", "ext4", "-I", "128"));
        String sum = Checksums.sha256(small);
        try (FileDevice dev = FileDevice.openWritable(small); WritableFileSystem fs = new ExtFormat().openWritable(dev)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> fs.create("/f", new byte[1], 0644, 0, 0, attrs))
                    .isInstanceOf(org.jv2v.Jv2vException.class).hasMessageContaining("do not fit in a 128-byte inode");
        }
        assertThat(Checksums.sha256(small)).isEqualTo(sum);
    }
}
