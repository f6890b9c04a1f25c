package org.jv2v.fs.ext;

import org.jv2v.BadInputException;
import org.jv2v.fs.FileSystem;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Images made by mkfs.ext4 and then damaged on purpose: every kind of damage is a one-line
 * {@link BadInputException} naming the image, the field and the offset; nothing hangs.
 */
@Timeout(60)
class ExtCorruptionTest {
    @TempDir
    Path dir;
    Path image;
    long blockSize = 4096;

    /** A small ext4 (no metadata_csum, so a patched field is reached rather than a checksum). */
    @BeforeEach
    void make() throws Exception {
        Tools.require("mkfs.ext4", "debugfs");
        Path tree = Files.createDirectory(dir.resolve("tree"));
        try (var f = new java.io.RandomAccessFile(tree.resolve("islands").toFile(), "rw")) {
            for (int i = 0; i < 20; i++) { // 20 extents: more than the inode holds, so one index level
                f.seek(i * 2L * blockSize);
                f.write(new byte[(int) blockSize]);
                f.seek(i * 2L * blockSize);
                f.write(1);
            }
        }
        Files.writeString(tree.resolve("small"), "small file");
        Path d = Files.createDirectory(tree.resolve("d"));
        for (int i = 0; i < 5; i++) {
            Files.writeString(d.resolve("f" + i), "x");
        }
        Files.createSymbolicLink(tree.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(tree.resolve("b"), Path.of("a"));
        image = dir.resolve("fs.img");
        ExtTools.mkfs(image, tree, "16M", List.of("-t", "ext4", "-b", "4096", "-O", "^metadata_csum"));
    }

    private FileSystem open() throws Exception {
        return ExtFileSystem.open(FileDevice.open(image));
    }

    private void assertBad(ThrowingRunnable r, String... fragments) {
        var a = assertThatThrownBy(r::run).isInstanceOf(BadInputException.class)
                .hasMessageStartingWith(image.toString()).hasMessageContaining("at offset 0x");
        for (String f : fragments) {
            a.hasMessageContaining(f);
        }
        assertThat(a.actual().getMessage()).doesNotContain("\n");
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void extentTreeLoopIsAnError() throws Exception {
        String ex = ExtTools.debugfs(image, "ex /islands");
        Matcher m = Pattern.compile("(?m)^\\s*0/\\s*1\\s+\\d+/\\s*\\d+\\s+\\d+\\s*-\\s*\\d+\\s+(\\d+)").matcher(ex);
        assertThat(m.find()).as(ex).isTrue();
        long leaf = Long.parseLong(m.group(1));
        long at = leaf * blockSize;
        // make the leaf an index node whose only entry points back at itself
        ExtTools.patch(image, at + 2, ExtTools.le16(1));          // eh_entries
        ExtTools.patch(image, at + 6, ExtTools.le16(1));          // eh_depth
        ExtTools.patch(image, at + 12, ExtTools.le32(0));         // ei_block
        ExtTools.patch(image, at + 16, ExtTools.le32(leaf));      // ei_leaf_lo
        ExtTools.patch(image, at + 20, ExtTools.le16(0));         // ei_leaf_hi
        try (FileSystem fs = open()) {
            assertBad(() -> fs.readAll("/islands", 1 << 20), "extent tree header depth", "loop");
        }
    }

    @Test
    void extentHeaderWithAbsurdEntryCountIsAnError() throws Exception {
        long inode = ExtTools.inodeOffset(image, "/islands");
        ExtTools.patch(image, inode + 0x28 + 2, ExtTools.le16(0xffff));
        try (FileSystem fs = open()) {
            assertBad(() -> fs.readAll("/islands", 1 << 20), "extent tree header entries", "65535 entries");
        }
    }

    @Test
    void extentPastTheDeviceIsAnError() throws Exception {
        long inode = ExtTools.inodeOffset(image, "/small");
        ExtTools.patch(image, inode + 0x28 + 12 + 8, ExtTools.le32(0xffffff00L)); // ee_start_lo
        try (FileSystem fs = open()) {
            assertBad(() -> fs.readAll("/small", 100), "extent", "outside the filesystem");
        }
    }

    @Test
    void directoryRecLenZeroIsAnError() throws Exception {
        long block = Long.parseLong(ExtTools.debugfs(image, "blocks /d").trim().split("\\s+")[0]);
        ExtTools.patch(image, block * blockSize + 4, ExtTools.le16(0));
        try (FileSystem fs = open()) {
            assertBad(() -> fs.list("/d"), "entry rec_len", "0 is not");
        }
    }

    @Test
    void directoryRecLenPastTheBlockIsAnError() throws Exception {
        long block = Long.parseLong(ExtTools.debugfs(image, "blocks /d").trim().split("\\s+")[0]);
        ExtTools.patch(image, block * blockSize + 12 + 4, ExtTools.le16((int) blockSize)); // ".." entry
        try (FileSystem fs = open()) {
            assertBad(() -> fs.list("/d"), "entry rec_len", "runs past the end of the block");
        }
    }

    @Test
    void inodeCountOf2To32IsAnError() throws Exception {
        ExtTools.patch(image, 1024, ExtTools.le32(0xffffffffL));
        assertBad(this::open, "s_inodes_count", "4294967295");
    }

    @Test
    void blockCountPastTheDeviceIsAnError() throws Exception {
        ExtTools.patch(image, 1024 + 4, ExtTools.le32(0xffffffffL));
        assertBad(this::open, "s_blocks_count", "do not fit");
    }

    @Test
    void badMagicIsNotProbedAndIsAnErrorToOpen() throws Exception {
        ExtTools.patch(image, 1024 + 0x38, ExtTools.le16(0x1234));
        try (FileDevice dev = FileDevice.open(image)) {
            assertThat(new ExtFormat().probe(dev)).isFalse();
        }
        assertBad(this::open, "s_magic");
    }

    @Test
    void symlinkLoopIsAnErrorNotAHang() throws Exception {
        try (FileSystem fs = open()) {
            assertThat(fs.readlink("/a")).isEqualTo("b");
            assertThatThrownBy(() -> fs.stat("/a/x")).isInstanceOf(FileSystemLoopException.class);
        }
    }

    @Test
    void superblockChecksumIsVerified(@TempDir Path other) throws Exception {
        image = other.resolve("csum.img");
        ExtTools.mkfs(image, null, "8M", List.of("-t", "ext4", "-O", "metadata_csum"));
        try (FileSystem fs = open()) {
            assertThat(fs.type()).isEqualTo("ext4");
        }
        ExtTools.patch(image, 1024 + 0x78, "renamed".getBytes()); // s_volume_name, checksum not updated
        assertBad(this::open, "s_checksum", "stored 0x");
    }

    @Test
    void inodeChecksumIsVerified(@TempDir Path other) throws Exception {
        Path tree = Files.createDirectory(other.resolve("tree"));
        Files.writeString(tree.resolve("f"), "checked");
        image = other.resolve("csum.img");
        ExtTools.mkfs(image, tree, "8M", List.of("-t", "ext4", "-O", "metadata_csum", "-I", "256"));
        try (FileSystem fs = open()) {
            assertThat(new String(fs.readAll("/f", 100))).isEqualTo("checked");
        }
        long inode = ExtTools.inodeOffset(image, "/f");
        ExtTools.patch(image, inode + 0x02, ExtTools.le16(4242)); // i_uid, checksum not updated
        try (FileSystem fs = open()) {
            assertBad(() -> fs.stat("/f"), "inode 12 checksum", "stored 0x");
        }
    }

    @Test
    void directoryExtentAndXattrBlockChecksumsAreVerified(@TempDir Path other) throws Exception {
        Tools.require("setfattr");
        Path tree = Files.createDirectory(other.resolve("tree"));
        try (var f = new java.io.RandomAccessFile(tree.resolve("islands").toFile(), "rw")) {
            for (int i = 0; i < 20; i++) {
                f.seek(i * 8192L);
                f.write(1);
            }
        }
        Path d = Files.createDirectory(tree.resolve("d"));
        Files.writeString(d.resolve("name"), "x");
        org.jv2v.testing.Run.checked(List.of("setfattr", "-n", "user.big", "-v", "v".repeat(600),
                tree.resolve("islands").toString()));
        image = other.resolve("csum.img");
        ExtTools.mkfs(image, tree, "8M", List.of("-t", "ext4", "-b", "4096", "-I", "128", "-O", "metadata_csum"));
        try (FileSystem fs = open()) { // intact: every checksum matches
            assertThat(fs.list("/d")).hasSize(1);
            assertThat(fs.readAll("/islands", 1 << 20)).hasSize(19 * 8192 + 1);
            assertThat(fs.xattrs("/islands")).containsKey("user.big");
        }
        long dirBlock = Long.parseLong(ExtTools.debugfs(image, "blocks /d").trim().split("\\s+")[0]);
        ExtTools.patch(image, dirBlock * blockSize + 24 + 8, "N".getBytes()); // first letter of "name"
        String ex = ExtTools.debugfs(image, "ex /islands");
        Matcher m = Pattern.compile("(?m)^\\s*0/\\s*1\\s+\\d+/\\s*\\d+\\s+\\d+\\s*-\\s*\\d+\\s+(\\d+)").matcher(ex);
        assertThat(m.find()).as(ex).isTrue();
        ExtTools.patch(image, Long.parseLong(m.group(1)) * blockSize + 12 + 4, ExtTools.le16(2)); // first ee_len
        long acl = ExtTools.number(ExtTools.debugfs(image, "stat /islands"), "File ACL: (\\d+)");
        ExtTools.patch(image, acl * blockSize + 0x20 + 16, "U".getBytes()); // first name letter
        try (FileSystem fs = open()) {
            assertBad(() -> fs.list("/d"), "directory inode", "block checksum", "stored 0x");
            assertBad(() -> fs.readAll("/islands", 1 << 20), "extent tree block checksum");
            assertBad(() -> fs.xattrs("/islands"), "xattr block checksum");
        }
    }

    @Test
    void indirectPointerPastTheDeviceIsAnError(@TempDir Path other) throws Exception {
        Path tree = Files.createDirectory(other.resolve("tree"));
        Files.write(tree.resolve("f"), new byte[5000]);
        image = other.resolve("ext2.img");
        ExtTools.mkfs(image, tree, "8M", List.of("-t", "ext2", "-b", "1024"));
        long inode = ExtTools.inodeOffset(image, "/f");
        ExtTools.patch(image, inode + 0x28 + 4, ExtTools.le32(0x7fffffffL)); // i_block[1]
        try (FileSystem fs = open()) {
            assertBad(() -> fs.readAll("/f", 10_000), "block pointer", "past the filesystem");
        }
    }

    @Test
    void xattrValuePastItsBlockIsAnError(@TempDir Path other) throws Exception {
        Tools.require("setfattr");
        Path tree = Files.createDirectory(other.resolve("tree"));
        Path f = Files.writeString(tree.resolve("f"), "x");
        org.jv2v.testing.Run.checked(List.of("setfattr", "-n", "user.big", "-v", "v".repeat(600), f.toString()));
        image = other.resolve("xattr.img");
        ExtTools.mkfs(image, tree, "8M", List.of("-t", "ext4", "-b", "1024", "-I", "128", "-O", "^metadata_csum"));
        long acl = ExtTools.number(ExtTools.debugfs(image, "stat /f"), "File ACL: (\\d+)");
        ExtTools.patch(image, acl * 1024 + 0x20 + 2, ExtTools.le16(0xfff0)); // first entry's e_value_offs
        try (FileSystem fs = open()) {
            assertBad(() -> fs.xattrs("/f"), "e_value_offs", "outside its area");
        }
    }
}
