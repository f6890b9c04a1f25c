package org.jv2v.fs.ext;

import org.jv2v.Jv2vException;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Edits that stress the allocator and the on-disk trees, each checked by e2fsck -fn and debugfs:
 * rewrites into fragmented free space (extent index blocks; double indirect blocks on ext3), a
 * nearly full filesystem, groups whose bitmaps were never initialised, and directories of
 * thousands of entries whose htree must split leaves, split index nodes and grow a level, with
 * each of the three name hashes.
 */
class ExtWriteLayoutTest {

    /** 1 KiB blocks, nearly full, its free space single blocks between files (debugfs rm of every other one). */
    private static Path fragmented(Path dir, List<String> mkfs, Random rnd) throws Exception {
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Path fill = Files.createDirectory(tree.resolve("fill"));
        for (int i = 0; i < 1600; i++) {
            Files.write(fill.resolve("f" + i), bytes(rnd, 1000));
        }
        Files.write(tree.resolve("victim"), bytes(rnd, 3000));
        Path image = dir.resolve("fs.img");
        List<String> opts = new ArrayList<>(mkfs);
        opts.addAll(List.of("-b", "1024", "-N", "2048", "-m", "0"));
        ExtTools.mkfs(image, tree, "6M", opts);
        // fill what is left, then punch single-block holes
        long free = ExtTools.number(Run.checked(List.of("dumpe2fs", "-h", image.toString())).stdout(),
                "Free blocks:\\s+(\\d+)");
        Path filler = dir.resolve("filler");
        Files.write(filler, bytes(rnd, (int) Math.max(0, free - 40) * 1024));
        StringBuilder cmds = new StringBuilder("write " + filler + " /filler\n");
        for (int i = 0; i < 1600; i += 2) {
            cmds.append("rm /fill/f").append(i).append('\n');
        }
        Path cmdFile = Files.writeString(dir.resolve("cmds"), cmds);
        Run.checked(List.of("debugfs", "-w", "-f", cmdFile.toString(), image.toString()));
        ExtTools.assertFsckClean(image);
        return image;
    }

    static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    @Test
    void rewriteIntoFragmentedSpaceBuildsExtentIndexBlocks(@TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "debugfs", "dumpe2fs");
        Random rnd = new Random(1);
        Path image = fragmented(dir, List.of("-t", "ext4"), rnd);
        byte[] big = bytes(rnd, 600_000);   // ~590 single-block pieces: 8 leaves, an index level under the root
        byte[] small = bytes(rnd, 2500);
        byte[] mid = bytes(rnd, 200_000);   // ~200 pieces: 3 leaves right under the root
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            fs.rewrite("/victim", big);
            assertThat(fs.readAll("/victim", 1 << 20)).isEqualTo(big);
        }
        ExtTools.assertFsckClean(image);
        String ex = ExtTools.debugfs(image, "ex /victim");
        assertThat(ex).as("extent tree of depth 2").containsPattern("(?m)^\\s*0/\\s*2\\s")
                .containsPattern("(?m)^\\s*1/\\s*2\\s").containsPattern("(?m)^\\s*2/\\s*2\\s");
        assertThat(ExtTools.debugfsCat(image, dir, "/victim")).isEqualTo(big);

        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            fs.rewrite("/victim", small);
        }
        ExtTools.assertFsckClean(image);
        assertThat(ExtTools.debugfs(image, "ex /victim")).doesNotContainPattern("(?m)^\\s*1/\\s*\\d\\s");
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            fs.rewrite("/victim", mid);
            fs.create("/second", mid, 0644, 0, 0); // the rest of the holes
        }
        ExtTools.assertFsckClean(image);
        assertThat(ExtTools.debugfs(image, "ex /victim")).containsPattern("(?m)^\\s*0/\\s*1\\s")
                .doesNotContainPattern("(?m)^\\s*2/\\s*2\\s");
        assertThat(ExtTools.debugfsCat(image, dir, "/victim")).isEqualTo(mid);
        assertThat(ExtTools.debugfsCat(image, dir, "/second")).isEqualTo(mid);
        try (FileDevice dev = FileDevice.open(image); ExtFileSystem fs = ExtFileSystem.open(dev)) {
            assertThat(fs.readAll("/victim", 1 << 20)).isEqualTo(mid);
            assertThat(fs.readAll("/second", 1 << 20)).isEqualTo(mid);
        }
    }

    @Test
    void rewriteIntoFragmentedSpaceOnExt3UsesDoubleIndirectBlocks(@TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "debugfs", "dumpe2fs");
        Random rnd = new Random(2);
        Path image = fragmented(dir, List.of("-t", "ext3"), rnd);
        byte[] big = bytes(rnd, 500_000); // 489 blocks: 12 direct, 256 single indirect, the rest double
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            fs.rewrite("/victim", big);
        }
        ExtTools.assertFsckClean(image);
        String stat = ExtTools.debugfs(image, "stat /victim");
        assertThat(stat).contains("(IND)").contains("(DIND)");
        assertThat(ExtTools.debugfsCat(image, dir, "/victim")).isEqualTo(big);
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            fs.rewrite("/victim", "short now".getBytes(StandardCharsets.UTF_8));
        }
        ExtTools.assertFsckClean(image);
        assertThat(ExtTools.debugfs(image, "stat /victim")).doesNotContain("(IND)");
    }

    @Test
    void largeFileOnExt2UsesTripleIndirectBlocks(@TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "debugfs");
        Path image = dir.resolve("fs.img");
        ExtTools.mkfs(image, null, "90M", List.of("-t", "ext2", "-b", "1024"));
        // past 12 + 256 + 256^2 blocks of 1 KiB: the triple indirect block
        byte[] big = bytes(new Random(5), (12 + 256 + 65536 + 3000) * 1024 + 17);
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            fs.create("/huge", big, 0644, 0, 0);
        }
        ExtTools.assertFsckClean(image);
        assertThat(ExtTools.debugfs(image, "stat /huge")).contains("(TIND)");
        assertThat(ExtTools.debugfsCat(image, dir, "/huge")).isEqualTo(big);
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            fs.rewrite("/huge", new byte[5000]);
        }
        ExtTools.assertFsckClean(image);
        assertThat(ExtTools.debugfs(image, "stat /huge")).doesNotContain("IND)");
    }

    @Test
    void nearlyFullFilesystemReusesTheFilesOwnBlocksAndRefusesWhatCannotFit(@TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "debugfs", "dumpe2fs");
        Random rnd = new Random(3);
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.write(tree.resolve("initrd.img"), bytes(rnd, 3_000_000));
        Path image = dir.resolve("fs.img");
        ExtTools.mkfs(image, tree, "5M", List.of("-t", "ext4", "-b", "1024", "-m", "0"));
        long free = ExtTools.number(Run.checked(List.of("dumpe2fs", "-h", image.toString())).stdout(),
                "Free blocks:\\s+(\\d+)");
        assertThat(free).isLessThan(3000 / 2); // a rewrite to a larger size only fits in its own space
        byte[] larger = bytes(rnd, 3_000_000 + (int) (free - 10) * 1024);
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            fs.rewrite("/initrd.img", larger);
        }
        ExtTools.assertFsckClean(image);
        assertThat(ExtTools.debugfsCat(image, dir, "/initrd.img")).isEqualTo(larger);
        // a file that cannot fit: refused, and the filesystem exactly as it was
        String sum = Checksums.sha256(image);
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            assertThatThrownBy(() -> fs.create("/too-big", bytes(rnd, 100_000), 0644, 0, 0))
                    .isInstanceOf(Jv2vException.class).hasMessageContaining("not enough free space");
            assertThatThrownBy(() -> fs.rewrite("/initrd.img", bytes(rnd, larger.length + 200_000)))
                    .isInstanceOf(Jv2vException.class).hasMessageContaining("not enough free space");
            assertThat(fs.readAll("/initrd.img", 8 << 20)).isEqualTo(larger);
        }
        assertThat(Checksums.sha256(image)).as("failed edits leave no trace").isEqualTo(sum);
        ExtTools.assertFsckClean(image);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"metadata_csum", "uninit_bg"})
    void groupsNeverUsedAreInitialisedOnFirstUse(String csum, @TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "debugfs", "dumpe2fs");
        Random rnd = new Random(4);
        Path image = dir.resolve("fs.img");
        List<String> opts = List.of("-t", "ext4", "-b", "1024", "-g", "1024", "-N", "512", "-O",
                csum.equals("uninit_bg") ? "^metadata_csum,uninit_bg" : "metadata_csum");
        ExtTools.mkfs(image, null, "48M", opts);
        String before = Run.checked(List.of("dumpe2fs", image.toString())).stdout();
        int blockUninit = count(before, "BLOCK_UNINIT");
        int inodeUninit = count(before, "INODE_UNINIT");
        assertThat(blockUninit).as("groups never used").isGreaterThan(20);
        byte[] big = bytes(rnd, 30_000_000); // spills over many never-used groups
        List<byte[]> smalls = new ArrayList<>();
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            fs.create("/big", big, 0644, 0, 0);
            fs.mkdir("/d", 0755, 0, 0);
            for (int i = 0; i < 40; i++) { // 8 inodes a group: new inodes in never-used groups
                byte[] b = bytes(rnd, 1 + rnd.nextInt(5000));
                smalls.add(b);
                fs.create("/d/f" + i, b, 0644, 0, 0);
            }
        }
        ExtTools.assertFsckClean(image);
        String after = Run.checked(List.of("dumpe2fs", image.toString())).stdout();
        assertThat(count(after, "BLOCK_UNINIT")).isLessThan(blockUninit - 20);
        assertThat(count(after, "INODE_UNINIT")).isLessThan(inodeUninit - 3);
        assertThat(ExtTools.debugfsCat(image, dir, "/big")).isEqualTo(big);
        try (FileDevice dev = FileDevice.open(image); ExtFileSystem fs = ExtFileSystem.open(dev)) {
            for (int i = 0; i < smalls.size(); i++) {
                assertThat(fs.readAll("/d/f" + i, 8000)).isEqualTo(smalls.get(i));
            }
            assertThat(fs.readAll("/big", 32 << 20)).isEqualTo(big);
        }
    }

    private static int count(String text, String word) {
        Matcher m = Pattern.compile(Pattern.quote(word)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /**
     * A directory of 2000 entries that e2fsck -D indexed, then 3000 more names and 100 removals
     * through jv2v: leaves split, the full root grows a level, index nodes split.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"half_md4 signed", "tea unsigned", "legacy signed"})
    void htreeOfThousandsSplitsLeavesNodesAndGrowsALevel(String hash, @TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "debugfs", "tune2fs");
        Path image = dir.resolve("fs.img");
        ExtTools.mkfs(image, bigDirTree(), "16M", List.of("-t", "ext4", "-b", "1024", "-N", "8192"));
        Run.checked(List.of("tune2fs", "-E", "hash_alg=" + hash.split(" ")[0], image.toString()));
        if (hash.endsWith("unsigned")) {
            ExtTools.debugfsWrite(image, "ssv flags 2");
        }
        ExtWriteTest.indexDirectories(image);
        ExtTools.assertFsckClean(image);
        assertThat(ExtTools.debugfs(image, "htree /big")).contains("Indirect levels: 0")
                .contains("Hash Version: " + hash.split(" ")[0].replace("half_md4", "1").replace("tea", "2")
                        .replace("legacy", "0"));
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            for (int i = 2000; i < 5000; i++) {
                fs.create("/big/" + name(i), new byte[0], 0644, 0, 0);
            }
            for (int i = 0; i < 5000; i += 50) {
                fs.unlink("/big/" + name(i));
            }
            assertThat(fs.list("/big")).hasSize(4900);
        }
        ExtTools.assertFsckClean(image);
        String htree = ExtTools.debugfs(image, "htree /big");
        assertThat(htree).contains("Indirect levels: 1");
        // debugfs lists a removed entry that began its block with inode 0, as the kernel leaves it
        java.util.Set<String> live = new java.util.HashSet<>();
        String lsOut = ExtTools.debugfs(image, "ls /big");
        Matcher m = Pattern.compile("(\\d+) +\\(\\d+\\) ([^ \\n]*)").matcher(lsOut);
        while (m.find()) {
            if (!m.group(1).equals("0")) {
                live.add(m.group(2));
            }
        }
        for (int i = 0; i < 5000; i++) {
            assertThat(live.contains(name(i))).as("%s listed with an inode", name(i)).isEqualTo(i % 50 != 0);
        }
        assertThat(live).hasSize(4900 + 2);
    }

    @TempDir
    static Path shared;
    private static Path bigDirTree;

    /** A tree holding /big with 2000 empty files, written once (creating files is the slow part). */
    static synchronized Path bigDirTree() throws Exception {
        if (bigDirTree == null) {
            Path tree = Files.createDirectory(shared.resolve("big-dir-tree"));
            Path big = Files.createDirectory(tree.resolve("big"));
            for (int i = 0; i < 2000; i++) {
                Files.createFile(big.resolve(name(i)));
            }
            bigDirTree = tree;
        }
        return bigDirTree;
    }

    static String name(int i) {
        return String.format("entry-%05d-%s", i, "x".repeat(i % 23));
    }
}
