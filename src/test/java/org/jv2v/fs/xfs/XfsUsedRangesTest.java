package org.jv2v.fs.xfs;

import org.jv2v.fs.ByteRange;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileSystem;
import org.jv2v.testing.FileBytes;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The used-block map is never wrong in the unsafe direction: a copy holding only the ranges jv2v
 * calls used passes xfs_repair -n and reads back every file; and it is not needlessly
 * conservative: the free total equals what xfs_db counts.
 */
class XfsUsedRangesTest {

    @ParameterizedTest
    @ValueSource(strings = {"v5", "v4"})
    void copyOfUsedRangesIsACompleteFilesystem(String version, @TempDir Path dir) throws Exception {
        XfsTools.require();
        boolean v4 = version.equals("v4");
        SourceTree tree = SourceTree.standard(dir, 7, v4);
        Path image = XfsTools.mkfs(dir, tree, XfsTools.IMAGE_SIZE, v4 ? List.of("-m", "crc=0", "-b", "size=1024")
                : List.of());
        List<ByteRange> used;
        long fsBytes;
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            used = fs.usedRanges();
            fsBytes = Long.parseLong(XfsTools.field(XfsTools.db(image, "sb 0", "p dblocks"), "dblocks")) * fs.blockSize();
            checkShape(used, fsBytes);

            // free space as xfs_db counts it: freesp totals the free space B+tree and the AG free lists
            String sb = XfsTools.db(image, "sb 0", "p");
            long agcount = Long.parseLong(XfsTools.field(sb, "agcount"));
            long freespTotal = freespTotal(image);
            long flcount = 0;
            for (long ag = 0; ag < agcount; ag++) {
                flcount += Long.parseLong(XfsTools.field(XfsTools.db(image, "agf " + ag, "p flcount"), "flcount"));
            }
            long usedBytes = used.stream().mapToLong(ByteRange::length).sum();
            assertThat(usedBytes).as("used = filesystem - free extents")
                    .isEqualTo(fsBytes - (freespTotal - flcount) * fs.blockSize());
            assertThat(fs.space().freeBytes()).as("free blocks, as the superblock counts them")
                    .isEqualTo(Long.parseLong(XfsTools.field(sb, "fdblocks")) * fs.blockSize());
            long logBlocks = Long.parseLong(XfsTools.field(sb, "logblocks"));
            assertThat(fs.space().totalBytes()).isEqualTo(fsBytes - logBlocks * fs.blockSize());
            assertThat(usedBytes).as("mostly empty filesystem").isLessThan(fsBytes / 3);
        }

        Path copy = FileBytes.copyOnly(image, used, dir.resolve("copy.img"));
        XfsTools.assertRepairClean(copy);
        try (FileDevice dev = FileDevice.open(copy); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            assertSameContent(fs, tree);
        }

        // the oracle can fail: zeroing one used block (the root inode's) is caught by xfs_repair
        Path broken = FileBytes.copyOnly(image, used, dir.resolve("broken.img"));
        long rootOffset;
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            rootOffset = fs.inode(fs.stat("/").inode()).offset();
        }
        try (RandomAccessFile f = new RandomAccessFile(broken.toFile(), "rw")) {
            f.seek(rootOffset);
            f.write(new byte[512]);
        }
        Run.Result r = Run.run(List.of("xfs_repair", "-n", broken.toString()), null, Map.of(), 300);
        assertThat(r.exitCode()).as("xfs_repair -n on a copy missing a used block").isNotZero();
    }

    static void checkShape(List<ByteRange> used, long fsBytes) {
        assertThat(used).isNotEmpty();
        assertThat(used.getFirst().offset()).as("the superblock is used").isZero();
        for (int i = 0; i < used.size(); i++) {
            ByteRange r = used.get(i);
            assertThat(r.length()).isPositive();
            assertThat(r.end()).isLessThanOrEqualTo(fsBytes);
            if (i > 0) {
                assertThat(r.offset()).as("sorted and merged").isGreaterThan(used.get(i - 1).end());
            }
        }
    }

    static long freespTotal(Path image) throws Exception {
        String out = XfsTools.db(image, "freesp -s");
        Matcher m = Pattern.compile("total free blocks (\\d+)").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Long.parseLong(m.group(1));
    }

    static void assertSameContent(FileSystem fs, SourceTree tree) throws Exception {
        List<String> checked = new ArrayList<>();
        for (SourceTree.Node n : tree.nodes.values()) {
            if (n.kind() == FileKind.REGULAR) {
                assertThat(fs.readAll(n.path(), 16 << 20)).as(n.path()).isEqualTo(Files.readAllBytes(n.content()));
                checked.add(n.path());
            } else if (n.kind() == FileKind.SYMLINK) {
                assertThat(fs.readlink(n.path())).isEqualTo(n.target());
            } else if (n.kind() == FileKind.DIRECTORY) {
                assertThat(fs.list(n.path())).hasSameSizeAs(tree.children(n.path()));
            }
        }
        assertThat(checked).hasSizeGreaterThan(3000);
    }
}
