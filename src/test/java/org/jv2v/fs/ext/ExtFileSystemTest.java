package org.jv2v.fs.ext;

import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystemFormat;
import org.jv2v.fs.FileSystems;
import org.jv2v.fs.SourceTree;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ext2/3/4 images made by mkfs.ext4 -d from a generated tree, read back through jv2v: every file
 * identical, the used-block map equal to dumpe2fs's, and safe (zeroing every block jv2v calls unused
 * leaves e2fsck clean and every file intact).
 */
class ExtFileSystemTest {

    /** One way of making the filesystem. */
    record Config(String name, String blkidType, List<String> mkfs) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Config> configs() {
        return Stream.of(
                new Config("ext4 4k 256-byte inodes", "ext4", List.of("-t", "ext4", "-b", "4096", "-I", "256",
                        "-L", "rootfs")),
                new Config("ext4 64bit metadata_csum 1k", "ext4", List.of("-t", "ext4", "-b", "1024",
                        "-O", "64bit,metadata_csum")),
                new Config("ext4 128-byte inodes", "ext4", List.of("-t", "ext4", "-b", "4096", "-I", "128")),
                new Config("ext4 without extents", "ext4", List.of("-t", "ext4", "-b", "1024",
                        "-O", "^extent,^64bit")),
                new Config("ext4 inline_data", "ext4", List.of("-t", "ext4", "-O", "inline_data", "-I", "256")),
                new Config("ext3", "ext3", List.of("-t", "ext3", "-b", "4096")),
                new Config("ext2 1k", "ext2", List.of("-t", "ext2", "-b", "1024", "-I", "128", "-L", "old")));
    }

    /** One source tree for every configuration: building it is the slow part. */
    @TempDir
    static Path shared;
    static Path tree;
    static Map<String, String> treeSums;

    @BeforeAll
    static void buildTree() throws Exception {
        tree = shared.resolve("tree");
        SourceTree.build(tree, 42);
        treeSums = Checksums.of(tree);
    }

    @AfterAll
    static void treeUntouched() throws Exception {
        assertThat(Checksums.of(tree)).isEqualTo(treeSums);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void readsBackTheTreeAndMapsUsedBlocks(Config c, @TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "dumpe2fs", "debugfs", "blkid");
        Path image = dir.resolve("fs.img");
        ExtTools.mkfs(image, tree, "48M", c.mkfs);
        if (c.mkfs.contains("inline_data")) {
            // mke2fs 1.47.0 -d with inline_data records a file ending in a hole as ending at its last data
            ExtTools.debugfsWrite(image, "sif /" + SourceTree.TAIL_HOLE + " size "
                    + Files.size(tree.resolve(SourceTree.TAIL_HOLE)));
        }
        // index the wide directory (htree) where the filesystem has dir_index
        Run.Result fsck = Run.run(List.of("e2fsck", "-fyD", image.toString()), null, Map.of(), 120);
        assertThat(fsck.exitCode()).as(fsck.all()).isLessThanOrEqualTo(1);
        if (c.mkfs.contains("inline_data")) {
            assertThat(ExtTools.debugfs(image, "stat /small")).contains("Size of inline data");
            assertThat(ExtTools.debugfs(image, "stat /small/a")).contains("Size of inline data");
        }
        if (ExtTools.debugfs(image, "features").contains("dir_index")) {
            assertThat(ExtTools.debugfs(image, "htree /many")).contains("Root node dump");
        }

        try (FileDevice dev = FileDevice.open(image)) {
            Optional<FileSystemFormat> probed = FileSystems.probe(dev);
            assertThat(probed).isPresent();
            try (FileSystem fs = probed.get().open(dev)) {
                assertThat(fs.type()).isEqualTo(c.blkidType);
                assertThat(fs.type()).isEqualTo(blkid(image, "TYPE"));
                assertThat(fs.uuid()).contains(blkid(image, "UUID"));
                assertThat(fs.label().orElse("")).isEqualTo(blkid(image, "LABEL"));
                SourceTree.assertSame(tree, fs, List.of("lost+found"));
                checkUsedMap(image, (ExtFileSystem) fs);
                ExtFileSystem ext = (ExtFileSystem) fs;
                assertThat(ext.journalState()).isEqualTo(c.blkidType.equals("ext2")
                        ? ExtFileSystem.JournalState.NONE : ExtFileSystem.JournalState.CLEAN);
                String dumpe2fs = Run.checked(List.of("dumpe2fs", "-h", image.toString())).stdout();
                long bs = ExtTools.number(dumpe2fs, "Block size:\\s+(\\d+)");
                assertThat(fs.space().totalBytes()).isEqualTo(ExtTools.number(dumpe2fs, "Block count:\\s+(\\d+)") * bs);
                assertThat(fs.space().freeBytes()).isEqualTo(ExtTools.number(dumpe2fs, "Free blocks:\\s+(\\d+)") * bs);
                // stat of a path through a symlink to a directory, and through an absolute one
                assertThat(fs.stat("/dir-link/a").size()).isEqualTo(4);
                assertThat(fs.readAll("/dir-link/b", 1000)).hasSize(100);
            }
        }

        // the safe direction: zero every block jv2v calls unused, then e2fsck and a full read-back
        Path copy = dir.resolve("zeroed.img");
        Files.copy(image, copy);
        try (FileDevice dev = FileDevice.open(image); FileSystem fs = ExtFileSystem.open(dev)) {
            zeroUnused(copy, fs.usedRanges(), Files.size(copy));
        }
        Run.Result check = Run.run(List.of("e2fsck", "-fn", copy.toString()), null, Map.of(), 120);
        assertThat(check.exitCode()).as(check.all()).isZero();
        try (FileDevice dev = FileDevice.open(copy); FileSystem fs = ExtFileSystem.open(dev)) {
            SourceTree.assertSame(tree, fs, List.of("lost+found"));
        }
        if (c.mkfs.contains("inline_data")) {
            return; // debugfs 1.47.0 rdump writes inline files wrongly (all 60 bytes of i_block, or 60 only)
        }
        // and e2fsprogs reads the same bytes from the zeroed copy (the top-level files: dumping all
        // three thousand small ones costs seconds and adds nothing)
        Path dump = Files.createDirectory(dir.resolve("dump"));
        StringBuilder cmds = new StringBuilder();
        List<Path> files;
        try (Stream<Path> top = Files.list(tree)) {
            files = top.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).sorted().toList();
        }
        for (Path p : files) {
            cmds.append("dump /").append(p.getFileName()).append(' ').append(dump.resolve(p.getFileName())).append('\n');
        }
        Path cmdFile = Files.writeString(dir.resolve("dump.cmds"), cmds);
        Run.checked(List.of("debugfs", "-f", cmdFile.toString(), copy.toString()));
        for (Path p : files) {
            assertThat(Files.mismatch(p, dump.resolve(p.getFileName()))).as("debugfs dump of %s", p).isEqualTo(-1L);
        }
    }

    /** Layouts that move metadata around: meta_bg descriptors, sparse_super2 backups, bigalloc clusters. */
    static Stream<Config> layouts() {
        return Stream.of(
                new Config("meta_bg", "ext4", List.of("-t", "ext4", "-b", "1024", "-O", "meta_bg,^resize_inode")),
                new Config("sparse_super2", "ext4", List.of("-t", "ext4", "-b", "1024", "-O", "sparse_super2")),
                new Config("bigalloc", "ext4", List.of("-t", "ext4", "-b", "1024", "-O", "bigalloc", "-C", "16384")),
                new Config("no flex_bg, no uninit_bg", "ext4", List.of("-t", "ext4", "-b", "1024",
                        "-O", "^flex_bg,^metadata_csum,^uninit_bg")),
                new Config("flex_bg 64 groups", "ext4", List.of("-t", "ext4", "-b", "1024", "-G", "64", "-g", "2048")),
                new Config("uninit_bg (crc16 descriptors)", "ext4", List.of("-t", "ext4", "-b", "1024",
                        "-O", "^metadata_csum,uninit_bg")),
                new Config("metadata_csum BLOCK_UNINIT", "ext4", List.of("-t", "ext4", "-b", "1024",
                        "-O", "metadata_csum")),
                new Config("1024-byte inodes", "ext4", List.of("-t", "ext4", "-I", "1024")),
                new Config("64 KiB blocks", "ext4", List.of("-t", "ext4", "-b", "65536")),
                new Config("ext2 without filetype or dir_index", "ext2", List.of("-t", "ext2",
                        "-O", "^filetype,^dir_index")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void metadataLayoutsMapUsedBlocksSafely(Config c, @TempDir Path dir) throws Exception {
        Path small = Files.createDirectory(dir.resolve("tree"));
        java.util.Random rnd = new java.util.Random(c.name.hashCode());
        for (int i = 0; i < 30; i++) {
            Files.write(small.resolve("f" + i), SourceTree.bytes(rnd, rnd.nextInt(400_000)));
        }
        Files.createSymbolicLink(small.resolve("link"), Path.of("f1"));
        Path image = dir.resolve("fs.img");
        ExtTools.mkfs(image, small, "40M", c.mkfs);
        if (c.name.contains("BLOCK_UNINIT") || c.name.startsWith("uninit_bg")) {
            // groups whose bitmap was never written, some holding superblock backups
            assertThat(Run.checked(List.of("dumpe2fs", image.toString())).stdout())
                    .containsPattern("Group [1-9]\\d*: .*BLOCK_UNINIT.*\\n\\s+Backup superblock");
        }
        try (FileDevice dev = FileDevice.open(image); ExtFileSystem fs = ExtFileSystem.open(dev)) {
            assertThat(fs.type()).isEqualTo(c.blkidType).isEqualTo(blkid(image, "TYPE"));
            SourceTree.assertSame(small, fs, List.of("lost+found"));
            checkUsedMap(image, fs);
            zeroUnused(image, fs.usedRanges(), Files.size(image));
        }
        Run.Result check = Run.run(List.of("e2fsck", "-fn", image.toString()), null, Map.of(), 120);
        assertThat(check.exitCode()).as(check.all()).isZero();
        try (FileDevice dev = FileDevice.open(image); ExtFileSystem fs = ExtFileSystem.open(dev)) {
            SourceTree.assertSame(small, fs, List.of("lost+found"));
        }
    }

    /** jv2v's used blocks are exactly the ones dumpe2fs does not list as free. */
    private static void checkUsedMap(Path image, ExtFileSystem fs) throws Exception {
        BitSet free = ExtTools.freeBlocks(image, fs.superblock().clusterSize() / fs.blockSize());
        BitSet used = ExtTools.usedBlocks(fs.usedRanges(), fs.blockSize());
        BitSet expected = new BitSet();
        expected.set((int) fs.firstDataBlock(), (int) fs.blocksCount());
        expected.andNot(free);
        BitSet mine = (BitSet) used.clone();
        mine.clear(0, (int) fs.firstDataBlock()); // the boot block is outside every group
        BitSet diff = (BitSet) mine.clone();
        diff.xor(expected);
        assertThat(diff.nextSetBit(0)).as("first block where jv2v (%s) and dumpe2fs disagree",
                diff.isEmpty() ? "-" : mine.get(diff.nextSetBit(0)) ? "used" : "free").isEqualTo(-1);
        assertThat(used.length()).isLessThanOrEqualTo((int) fs.blocksCount());
    }

    private static void zeroUnused(Path image, List<org.jv2v.fs.ByteRange> used, long size) throws Exception {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
            long pos = 0;
            for (org.jv2v.fs.ByteRange r : used) {
                zero(ch, pos, r.offset());
                pos = r.end();
            }
            zero(ch, pos, size);
        }
    }

    private static void zero(FileChannel ch, long from, long to) throws Exception {
        ByteBuffer z = ByteBuffer.allocate(1 << 20);
        for (long p = from; p < to; ) {
            z.clear().limit((int) Math.min(z.capacity(), to - p));
            p += ch.write(z, p);
        }
    }

    static String blkid(Path image, String tag) throws Exception {
        Run.Result r = Run.run(List.of("blkid", "-p", "-o", "value", "-s", tag, image.toString()), null, Map.of(), 60);
        return r.stdout().trim();
    }

    @Test
    void deepExtentTreeAndFragmentedFiles(@TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "debugfs", "e2fsck");
        Path tree = Files.createDirectory(dir.resolve("tree"));
        java.util.Random rnd = new java.util.Random(7);
        try (var f = new java.io.RandomAccessFile(tree.resolve("islands.bin").toFile(), "rw")) {
            for (int i = 0; i < SourceTree.ISLANDS; i++) {
                f.seek(i * 8192L);
                f.write(SourceTree.bytes(rnd, 4096));
            }
        }
        Path fill = Files.createDirectory(tree.resolve("fill"));
        for (int i = 0; i < 600; i++) {
            Files.write(fill.resolve("f" + i), SourceTree.bytes(rnd, 3000));
        }
        Path image = dir.resolve("fs.img");
        ExtTools.mkfs(image, tree, "8M", List.of("-t", "ext4", "-b", "1024", "-g", "1024", "-N", "1024"));
        // free every other file, then write a file that must fill the gaps: many extents, scattered
        StringBuilder cmds = new StringBuilder();
        for (int i = 0; i < 600; i += 2) {
            cmds.append("rm /fill/f").append(i).append('\n');
        }
        Path big = dir.resolve("frag.bin");
        Files.write(big, SourceTree.bytes(rnd, 700_000));
        cmds.append("write ").append(big).append(" /frag.bin\n");
        Path cmdFile = dir.resolve("cmds");
        Files.writeString(cmdFile, cmds);
        Run.checked(List.of("debugfs", "-w", "-f", cmdFile.toString(), image.toString()));
        Run.Result fsck = Run.run(List.of("e2fsck", "-fn", image.toString()), null, Map.of(), 60);
        assertThat(fsck.exitCode()).as(fsck.all()).isZero();
        assertThat(ExtTools.debugfs(image, "ex /islands.bin")).contains(" 2/ 2 ");
        assertThat(ExtTools.debugfs(image, "ex /frag.bin")).contains(" 1/ 1 ");
        try (FileDevice dev = FileDevice.open(image); FileSystem fs = ExtFileSystem.open(dev)) {
            assertThat(fs.readAll("/islands.bin", 8 << 20)).isEqualTo(Files.readAllBytes(tree.resolve("islands.bin")));
            assertThat(fs.readAll("/frag.bin", 1 << 20)).isEqualTo(Files.readAllBytes(big));
            assertThat(fs.readAll("/fill/f1", 4000)).isEqualTo(Files.readAllBytes(fill.resolve("f1")));
            assertThat(fs.list("/fill")).hasSize(300);
            // reading across a run boundary at an odd offset gives the same bytes as a straight copy
            ByteBuffer mid = ByteBuffer.allocate(100_001);
            fs.read("/frag.bin", mid, 333_333);
            assertThat(mid.array()).isEqualTo(java.util.Arrays.copyOfRange(Files.readAllBytes(big), 333_333, 433_334));
        }
    }

    @Test
    void bytesPastTheFilesystemEndAreNotCalledFree(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("fs.img");
        Run.checked(List.of("truncate", "-s", "10M", image.toString()));
        ExtTools.mkfs(image, null, "8M", List.of("-t", "ext4"));
        assertThat(Files.size(image)).isEqualTo(10 << 20);
        try (FileDevice dev = FileDevice.open(image); ExtFileSystem fs = ExtFileSystem.open(dev)) {
            assertThat(fs.usedRanges().getLast().end()).isEqualTo(10 << 20);
            assertThat(fs.usedRanges().getLast().offset()).isLessThanOrEqualTo(8 << 20);
            assertThat(fs.space().totalBytes()).isEqualTo(8 << 20);
        }
    }

    @Test
    void journalNeedingRecoveryIsReported(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("fs.img");
        ExtTools.mkfs(image, null, "8M", List.of("-t", "ext4"));
        ExtTools.debugfsWrite(image, "feature needs_recovery");
        try (FileDevice dev = FileDevice.open(image); ExtFileSystem fs = ExtFileSystem.open(dev)) {
            assertThat(fs.journalState()).isEqualTo(ExtFileSystem.JournalState.NEEDS_RECOVERY);
        }
    }

    @Test
    void nanosecondsAndTimesAfter2038ComeFromTheExtraFields(@TempDir Path dir) throws Exception {
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.writeString(tree.resolve("f"), "x");
        Path image = dir.resolve("fs.img");
        ExtTools.mkfs(image, tree, "8M", List.of("-t", "ext4", "-I", "256"));
        // 0x6b112b0a with epoch bits 1 and 123456789 ns: (123456789 << 2) | 1
        ExtTools.debugfsWrite(image, "sif /f mtime 0x6b112b0a");
        ExtTools.debugfsWrite(image, "sif /f mtime_extra " + ((123456789L << 2) | 1));
        String stat = ExtTools.debugfs(image, "stat /f");
        assertThat(stat).contains("mtime: 0x6b112b0a:1d6f3455");
        try (FileDevice dev = FileDevice.open(image); ExtFileSystem fs = ExtFileSystem.open(dev)) {
            assertThat(fs.stat("/f").mtime()).isEqualTo(java.time.Instant.ofEpochSecond(0x6b112b0aL + (1L << 32),
                    123456789));
        }
    }
}
