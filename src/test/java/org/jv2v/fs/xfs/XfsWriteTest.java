package org.jv2v.fs.xfs;

import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class XfsWriteTest {
    record Config(String name, List<String> options) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Config> configs() {
        return Stream.of(new Config("v5 defaults", List.of()),
                new Config("v4", List.of("-m", "crc=0")),
                new Config("v5 1k blocks 4k dir blocks", List.of("-b", "size=1024", "-n", "size=4096")),
                // as RHEL 7's mkfs.xfs made them: no free inode B+tree, sparse inodes, reflink or bigtime
                new Config("v5 as RHEL 7", List.of("-m", "finobt=0,reflink=0,bigtime=0,inobtcount=0", "-i", "sparse=0")));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void editsPassTheChecker(Config config, @TempDir Path dir) throws Exception {
        XfsTools.require();
        Path image = XfsTools.mkfs(dir, XfsEditScenario.tree(dir), XfsTools.IMAGE_SIZE, config.options());
        XfsEditScenario s = new XfsEditScenario();
        try (FileDevice dev = FileDevice.openWritable(image); XfsWritableFileSystem fs = XfsWritableFileSystem.open(dev)) {
            s.apply(fs);
        }
        XfsWriteChecks.repairClean(image);
        XfsWriteChecks.readBack(image, s);
        XfsWriteChecks.dbAgrees(image, s);
        // every directory went on to the next form (a node directory stays one), as xfs_db sees them
        long blockSize = Long.parseLong(XfsTools.field(XfsTools.db(image, "sb 0", "p blocksize"), "blocksize"));
        List<String> forms = new ArrayList<>();
        for (String form : XfsEditScenario.FORMS) {
            forms.add(formOf(image, "/forms/" + form, blockSize));
        }
        assertThat(forms).isEqualTo(List.of("block", "leaf", "node", "node"));
    }

    /** A directory's form from its inode format and where its blocks lie (leaf at 32 GiB, free index at 64 GiB). */
    static String formOf(Path image, String path, long blockSize) throws Exception {
        if (XfsTools.field(XfsTools.db(image, "path " + path, "p core.format"), "core.format").startsWith("1")) {
            return "short";
        }
        long maxOffset = 0;
        for (long[] x : XfsTools.bmap(image, path, false)) {
            maxOffset = Math.max(maxOffset, x[0] * blockSize);
        }
        return maxOffset >= 64L << 30 ? "node" : maxOffset >= 32L << 30 ? "leaf" : "block";
    }

    /**
     * A /boot too full to hold the old and the new initramfs side by side: the new one (larger,
     * spread over several AGs) takes the old one's blocks, and shrinking it back frees the rest.
     */
    @Test
    void aFileGrowsIntoItsOwnSpace(@TempDir Path dir) throws Exception {
        XfsTools.require();
        byte[] old = new byte[60 << 20];
        new java.util.Random(5).nextBytes(old);
        SourceTree t = new SourceTree(dir, 5);
        t.dir("/boot", 0755, 0, 0);
        t.file("/boot/initramfs.img", 0600, 0, 0, old);
        Path image = XfsTools.mkfs(dir, t, XfsTools.IMAGE_SIZE, List.of());
        long free = freeBytes(image);
        // mkfs.xfs 6.1 writes a protofile's file larger than an AG (75 MiB here) wrongly: fill in thirds
        byte[] filler = new byte[(int) (free - (80 << 20)) / 3];
        new java.util.Random(7).nextBytes(filler);
        for (int i = 0; i < 3; i++) {
            t.file("/boot/vmlinuz-" + i, 0755, 0, 0, filler);
        }
        image = XfsTools.mkfs(dir, t, XfsTools.IMAGE_SIZE, List.of());
        long freeBefore = freeBytes(image);
        assertThat(freeBefore).isBetween(70L << 20, 90L << 20);
        byte[] bigger = new byte[130 << 20];
        new java.util.Random(6).nextBytes(bigger);
        byte[] small = "tiny".getBytes();
        try (FileDevice dev = FileDevice.openWritable(image); XfsWritableFileSystem fs = XfsWritableFileSystem.open(dev)) {
            fs.rewrite("/boot/initramfs.img", bigger);
            assertThat(fs.readAll("/boot/initramfs.img", 200 << 20)).isEqualTo(bigger);
        }
        XfsWriteChecks.repairClean(image);
        assertThat(freeBytes(image)).isBetween(0L, 20L << 20);
        List<long[]> map = XfsTools.bmap(image, "/boot/initramfs.img", false);
        assertThat(map.stream().mapToLong(x -> x[2]).sum()).isEqualTo(130L << 20 >> 12);
        int agBlkLog = Integer.parseInt(XfsTools.field(XfsTools.db(image, "sb 0", "p agblklog"), "agblklog"));
        assertThat(map.stream().map(x -> x[1] >> agBlkLog).distinct().count())
                .as("AGs the file spans").isGreaterThan(1);
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            assertThat(fs.readAll("/boot/initramfs.img", 200 << 20)).isEqualTo(bigger);
        }
        try (FileDevice dev = FileDevice.openWritable(image); XfsWritableFileSystem fs = XfsWritableFileSystem.open(dev)) {
            fs.rewrite("/boot/initramfs.img", small);
        }
        XfsWriteChecks.repairClean(image);
        // the old blocks all came back, less the one block "tiny" takes (and a few free-space B+tree blocks at most)
        assertThat(freeBytes(image)).isBetween(freeBefore + (60L << 20) - 8 * 4096, freeBefore + (60L << 20) - 4096);
        assertThat(XfsTools.bmap(image, "/boot/initramfs.img", false)).hasSize(1);
    }

    /**
     * New files with SELinux labels on v5 (512-byte inodes) and v4 (256-byte inodes, where the first
     * labelled file also marks the superblock as having attributes), long labels and several
     * attributes: xfs_repair and xfs_db agree with jv2v's reader. (Attributes larger than the
     * inode holds are refused: XfsWriteRefusalTest.)
     */
    @ParameterizedTest
    @MethodSource("configs")
    void newFilesGetTheirLabels(Config config, @TempDir Path dir) throws Exception {
        XfsTools.require();
        SourceTree t = new SourceTree(dir, 5);
        t.dir("/etc", 0755, 0, 0);
        Path image = XfsTools.mkfs(dir, t, XfsTools.IMAGE_SIZE, config.options());
        byte[] label = "system_u:object_r:etc_t:s0".getBytes(StandardCharsets.UTF_8);
        byte[] longLabel = ("unconfined_u:object_r:" + "x".repeat(30) + "_t:s0-s0:c0.c1023").getBytes(StandardCharsets.UTF_8);
        Map<String, Map<String, byte[]>> files = new java.util.LinkedHashMap<>();
        files.put("/etc/a.conf", Map.of("security.selinux", label));
        files.put("/etc/b.conf", Map.of("security.selinux", longLabel));
        files.put("/etc/c.conf", Map.of("security.selinux", label, "user.origin", "jv2v".getBytes(),
                "trusted.x", new byte[] {1, 2, 3}));
        files.put("/etc/unlabelled", Map.of());
        byte[] content = new byte[3 << 20];
        new java.util.Random(8).nextBytes(content);
        try (FileDevice dev = FileDevice.openWritable(image); XfsWritableFileSystem fs = XfsWritableFileSystem.open(dev)) {
            for (var f : files.entrySet()) {
                fs.create(f.getKey(), content, 0644, 0, 0, f.getValue());
            }
        }
        XfsWriteChecks.repairClean(image);
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            for (var f : files.entrySet()) {
                assertThat(fs.readAll(f.getKey(), 4 << 20)).as(f.getKey()).isEqualTo(content);
                Map<String, byte[]> got = fs.xattrs(f.getKey());
                assertThat(got.keySet()).as(f.getKey()).isEqualTo(f.getValue().keySet());
                for (var x : f.getValue().entrySet()) {
                    assertThat(got.get(x.getKey())).as(f.getKey() + " " + x.getKey()).isEqualTo(x.getValue());
                }
            }
        }
        String out = XfsTools.db(image, "path /etc/b.conf", "p a.sfattr.list[0].secure a.sfattr.list[0].name");
        assertThat(out).contains("a.sfattr.list[0].secure = 1").contains("\"selinux\"");
        String version = XfsTools.db(image, "version").strip(); // "versionnum [0x...] = V4,NLINK,...,ATTR,..."
        assertThat(version).contains(config.options().contains("crc=0") ? "V4" : "V5");
        if (config.options().contains("crc=0")) { // v5 implies attributes; v4 marks them in versionnum
            assertThat(List.of(version.substring(version.indexOf('=') + 1).strip().split(","))).contains("ATTR");
        }
    }

    private static long freeBytes(Path image) throws Exception {
        String sb = XfsTools.db(image, "sb 0", "p fdblocks blocksize");
        return Long.parseLong(XfsTools.field(sb, "fdblocks")) * Long.parseLong(XfsTools.field(sb, "blocksize"));
    }
}
