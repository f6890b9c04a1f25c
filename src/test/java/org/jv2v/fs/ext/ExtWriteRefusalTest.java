package org.jv2v.fs.ext;

import org.jv2v.BadInputException;
import org.jv2v.Jv2vException;
import org.jv2v.fs.FileSystems;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the editor refuses, with a one-line message and without touching the image: filesystems
 * not cleanly unmounted (journal to replay, transactions left in the journal, orphans, errors),
 * features it does not write, a read-only device, and damaged structures met during an edit.
 */
@Timeout(120)
class ExtWriteRefusalTest {
    @TempDir
    Path dir;
    Path image;

    @BeforeEach
    void make() throws Exception {
        Tools.require("mkfs.ext4", "debugfs", "e2fsck");
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.writeString(tree.resolve("fstab"), "UUID=x / ext4 defaults 0 1\n".repeat(20));
        try (var f = new java.io.RandomAccessFile(tree.resolve("islands").toFile(), "rw")) {
            byte[] data = new byte[4096];
            java.util.Arrays.fill(data, (byte) 'i');
            for (int i = 0; i < 12; i++) { // 12 extents: a leaf block under the inode
                f.seek(i * 8192L);
                f.write(data);
            }
        }
        Path d = Files.createDirectory(tree.resolve("d"));
        for (int i = 0; i < 5; i++) {
            Files.writeString(d.resolve("f" + i), "x");
        }
        image = dir.resolve("fs.img");
        ExtTools.mkfs(image, tree, "16M", List.of("-t", "ext4"));
    }

    private void assertRefused(Class<? extends Exception> type, String... fragments) throws Exception {
        String sum = Checksums.sha256(image);
        try (FileDevice dev = FileDevice.openWritable(image)) {
            var a = assertThatThrownBy(() -> FileSystems.probe(dev).orElseThrow().openWritable(dev)).isInstanceOf(type);
            for (String f : fragments) {
                a.hasMessageContaining(f);
            }
            assertThat(a.actual().getMessage()).startsWith(image.toString()).doesNotContain("\n");
        }
        assertThat(Checksums.sha256(image)).isEqualTo(sum);
    }

    private static final String[] UNCLEAN = {"was not shut down cleanly", "boot the guest on VMware and shut it down"
            + " cleanly, or run e2fsck -fy on a copy of the disk"};

    @Test
    void journalNeedingRecoveryIsRefused() throws Exception {
        // a real transaction in the journal, as a crash leaves it
        Path cmds = Files.writeString(dir.resolve("cmds"), "jo\njw -b 300 " + image + "\njc\n");
        Run.checked(List.of("debugfs", "-w", "-f", cmds.toString(), image.toString()));
        assertThat(ExtTools.debugfs(image, "features")).contains("needs_recovery");
        assertRefused(Jv2vException.class, concat(UNCLEAN, "its journal needs recovery"));
        // the flag cleared but the transaction still there: e2fsck would offer to replay it
        ExtTools.debugfsWrite(image, "feature -needs_recovery");
        assertRefused(Jv2vException.class, concat(UNCLEAN, "its journal holds transactions not yet written back"));
    }

    @Test
    void orphansErrorsAndUncleanStateAreRefused() throws Exception {
        ExtTools.debugfsWrite(image, "ssv last_orphan 12");
        assertRefused(Jv2vException.class, concat(UNCLEAN, "orphan list"));
        ExtTools.debugfsWrite(image, "ssv last_orphan 0");
        ExtTools.debugfsWrite(image, "ssv state 3");
        assertRefused(Jv2vException.class, concat(UNCLEAN, "the kernel recorded errors in it"));
        ExtTools.debugfsWrite(image, "ssv state 0");
        assertRefused(Jv2vException.class, concat(UNCLEAN, "marked as not cleanly unmounted"));
    }

    @Test
    void orphanFileWithOrphansIsRefused() throws Exception {
        ExtTools.mkfs(image, null, "16M", List.of("-t", "ext4", "-O", "orphan_file"));
        ExtTools.debugfsWrite(image, "feature orphan_present");
        assertRefused(Jv2vException.class, concat(UNCLEAN, "orphan list"));
    }

    @Test
    void featuresNotWrittenAreNamed() throws Exception {
        ExtTools.mkfs(image, null, "16M", List.of("-t", "ext4", "-O", "quota,project,mmp"));
        assertRefused(Jv2vException.class, "jv2v cannot edit this ext4 filesystem: it uses mmp, quota, project");
        ExtTools.mkfs(image, null, "16M", List.of("-t", "ext4", "-O", "bigalloc", "-C", "16384"));
        assertRefused(Jv2vException.class, "it uses bigalloc");
    }

    @Test
    void readOnlyDeviceIsRefused() throws Exception {
        try (FileDevice dev = FileDevice.open(image)) {
            assertThatThrownBy(() -> new ExtFormat().openWritable(dev)).isInstanceOf(Jv2vException.class)
                    .hasMessageContaining("read-only");
        }
    }

    // ---- damage met during an edit: a one-line BadInputException, the image unchanged ----

    private void assertEditFails(ThrowingEdit edit, String... fragments) throws Exception {
        String sum = Checksums.sha256(image);
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            var a = assertThatThrownBy(() -> edit.run(fs)).isInstanceOf(BadInputException.class)
                    .hasMessageStartingWith(image.toString()).hasMessageContaining("at offset 0x");
            for (String f : fragments) {
                a.hasMessageContaining(f);
            }
            assertThat(a.actual().getMessage()).doesNotContain("\n");
        }
        assertThat(Checksums.sha256(image)).as("a failed edit writes nothing").isEqualTo(sum);
    }

    interface ThrowingEdit {
        void run(ExtWritableFileSystem fs) throws Exception;
    }

    private long leafBlock() throws Exception {
        String ex = ExtTools.debugfs(image, "ex /islands");
        Matcher m = Pattern.compile("(?m)^\\s*0/\\s*1\\s+\\d+/\\s*\\d+\\s+\\d+\\s*-\\s*\\d+\\s+(\\d+)").matcher(ex);
        assertThat(m.find()).as(ex).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void aBlockTheBitmapCallsFreeIsNotFreedAgain() throws Exception {
        // the file's first data block marked free in the bitmap (as a damaged bitmap would say)
        String blocks = ExtTools.debugfs(image, "blocks /fstab").trim();
        ExtTools.debugfsWrite(image, "freeb " + blocks.split("\\s+")[0]);
        assertEditFails(fs -> fs.rewrite("/fstab", new byte[10]), "bitmap says it is free");
    }

    @Test
    void anExtentPointingIntoTheInodeTableIsRefused() throws Exception {
        long leaf = leafBlock();
        String stats = ExtTools.debugfs(image, "stats");
        long itable = ExtTools.number(stats, "inode table at (\\d+)");
        // the leaf's first extent now starts in the inode table (and the leaf checksum is redone)
        byte[] leafBytes = readBlock(leaf);
        Le.put32(leafBytes, 12 + 8, itable);
        Le.put16(leafBytes, 12 + 6, 0);
        writeBlock(leaf, leafBytes, "/islands", true);
        assertEditFails(fs -> fs.rewrite("/islands", new byte[10]), "inode", "block " + itable + " is filesystem metadata");
    }

    @Test
    void aLoopInTheExtentTreeIsRefused() throws Exception {
        long leaf = leafBlock();
        byte[] node = readBlock(leaf);
        // the leaf becomes an index node (depth 1) pointing at itself
        Le.put16(node, 6, 1);
        Le.put32(node, 12 + 4, leaf);
        writeBlock(leaf, node, "/islands", true);
        assertEditFails(fs -> fs.rewrite("/islands", new byte[10]), "extent tree", "depth");
    }

    @Test
    void aDamagedDirectoryBlockIsRefused() throws Exception {
        long blk = Long.parseLong(ExtTools.debugfs(image, "blocks /d").trim().split("\\s+")[0]);
        byte[] b = readBlock(blk);
        Le.put16(b, 12 + 4, 7); // ".." rec_len not a multiple of 4
        writeBlock(blk, b, "/d", false);
        assertEditFails(fs -> fs.create("/d/new", new byte[1], 0644, 0, 0), "rec_len");
    }

    @Test
    void aBitmapWithABadChecksumIsRefused() throws Exception {
        long bitmap = ExtTools.number(ExtTools.debugfs(image, "stats"), "block bitmap at (\\d+)");
        byte[] b = readBlock(bitmap);
        b[bs() - 1] ^= 1; // a padding bit past the checksummed part: flip one that counts instead
        b[0] ^= 0;
        b[100] ^= (byte) 0x80;
        writeBlockRaw(bitmap, b);
        assertEditFails(fs -> fs.create("/new", new byte[100_000], 0644, 0, 0), "bg_block_bitmap_csum");
    }

    // ---- helpers ----

    private int bs() throws Exception {
        return (int) ExtTools.number(ExtTools.debugfs(image, "stats"), "Block size:\\s+(\\d+)");
    }

    private byte[] readBlock(long n) throws Exception {
        int bs = bs();
        byte[] b = new byte[bs];
        try (var ch = java.nio.channels.FileChannel.open(image)) {
            ch.read(java.nio.ByteBuffer.wrap(b), n * bs);
        }
        return b;
    }

    private void writeBlockRaw(long n, byte[] b) throws Exception {
        ExtTools.patch(image, n * bs(), b);
    }

    /** Writes an extent block or directory leaf back, its checksum redone so the damage itself is what is found. */
    private void writeBlock(long n, byte[] b, String owner, boolean extentBlock) throws Exception {
        String stat = ExtTools.debugfs(image, "stat " + owner);
        long ino = ExtTools.number(stat, "Inode: (\\d+)");
        long gen = ExtTools.number(stat, "Generation: (\\d+)");
        int c = Crc32c.update(seed(), Le.le32(ino), 0, 4);
        c = Crc32c.update(c, Le.le32(gen), 0, 4);
        if (extentBlock) {
            int max = Le.u16(b, 4);
            Le.put32(b, 12 + 12 * max, Crc32c.update(c, b, 0, 12 + 12 * max));
        } else {
            Le.put32(b, b.length - 4, Crc32c.update(c, b, 0, b.length - 12));
        }
        writeBlockRaw(n, b);
    }

    private int seed() throws Exception {
        String uuid = ExtTools.debugfs(image, "stats").lines().filter(l -> l.startsWith("Filesystem UUID:"))
                .findFirst().orElseThrow().split(":\\s+")[1].trim();
        byte[] u = java.util.HexFormat.of().parseHex(uuid.replace("-", ""));
        return Crc32c.update(~0, u, 0, 16);
    }

    private static String[] concat(String[] a, String b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + 1);
        r[a.length] = b;
        return r;
    }

    @SuppressWarnings("unused")
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
