package org.jv2v.fs.xfs;

import org.jv2v.BadInputException;
import org.jv2v.fs.FileKind;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Damaged structures, made with xfs_db (which recomputes v5 checksums with {@code write -d}, so
 * the structure itself is what is wrong) or by flipping bytes: each gives a one-line
 * BadInputException naming the image, the structure and its offset, and never hangs.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class XfsCorruptionTest {
    @TempDir
    Path dir;

    private Path image(String... mkfsOptions) throws Exception {
        XfsTools.require();
        SourceTree t = new SourceTree(dir, 3);
        t.dir("/files", 0755, 0, 0);
        t.file("/files/a", 0644, 0, 0, new byte[10_000]);
        byte[] big = new byte[2 << 20];
        new java.util.Random(1).nextBytes(big);
        t.file("/files/big", 0644, 0, 0, big);
        t.file("/files/attrs", 0644, 0, 0, new byte[0]);
        t.dir("/block", 0755, 0, 0);
        for (int i = 0; i < 40; i++) {
            t.file("/block/entry-number-" + i, 0644, 0, 0, new byte[0]);
        }
        t.dir("/short", 0755, 0, 0);
        t.file("/short/one", 0644, 0, 0, new byte[0]);
        t.file("/short/two", 0644, 0, 0, new byte[0]);
        Path image = XfsTools.mkfs(dir, t, XfsTools.IMAGE_SIZE, List.of(mkfsOptions));
        List<String> cmds = new ArrayList<>(List.of("path /files/attrs"));
        for (int i = 0; i < 160; i++) {
            cmds.add("attr_set -v 40 attribute-" + i);
        }
        XfsTools.db(image, true, cmds);
        return image;
    }

    private static void expectBad(Path image, ThrowingCallableOnFs action, String... fragments) throws Exception {
        try (FileDevice dev = FileDevice.open(image)) {
            ThrowingCallable call = () -> action.run(XfsFileSystem.open(dev));
            var a = assertThatThrownBy(call).isInstanceOf(BadInputException.class)
                    .hasMessageStartingWith(image + ": XFS ")
                    .hasMessageMatching("(?s)[^\n]* at offset 0x[0-9a-f]+: [^\n]*");
            for (String f : fragments) {
                a.hasMessageContaining(f);
            }
        }
    }

    @FunctionalInterface
    interface ThrowingCallableOnFs {
        void run(XfsFileSystem fs) throws Exception;
    }

    private static void flip(Path image, long offset) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x40);
        }
    }

    private static long inodeOffset(Path image, String path) throws Exception {
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            return fs.inode(fs.stat(path).inode()).offset();
        }
    }

    @Test
    void badInodeChecksum() throws Exception {
        Path image = image();
        long off = inodeOffset(image, "/files/a");
        flip(image, off + 0x38 + 7); // di_size
        expectBad(image, fs -> fs.stat("/files/a"), "inode ", "at offset 0x" + Long.toHexString(off), "CRC mismatch");
    }

    @Test
    void badSuperblockChecksum() throws Exception {
        Path image = image();
        flip(image, 0x90); // sb_fdblocks
        expectBad(image, fs -> { }, "superblock at offset 0x0", "CRC mismatch");
    }

    @Test
    void freeSpaceBtreeLoop() throws Exception {
        Path image = image();
        String root = XfsTools.field(XfsTools.db(image, "agf 0", "p bnoroot"), "bnoroot");
        XfsTools.db(image, true, List.of("agf 0", "write -d bnolevel 2", "addr bnoroot", "write -d level 1",
                "write -d numrecs 1", "write -d ptrs[1] " + root));
        expectBad(image, XfsFileSystem::usedRanges, "free space B+tree", "AG 0", "reached twice: loop");
    }

    @Test
    void freeCounterDisagreesWithBtree() throws Exception {
        Path image = image();
        XfsTools.db(image, true, List.of("agf 1", "write -d freeblks 99"));
        expectBad(image, XfsFileSystem::usedRanges, "AGF of AG 1", "free block counter 99 disagrees");
    }

    @Test
    void directoryBlockWithBadMagic() throws Exception {
        Path image = image();
        XfsTools.db(image, true, List.of("path /block", "dblock 0", "write -d bhdr.hdr.magic 0x12345678"));
        expectBad(image, fs -> fs.list("/block"), "directory block of inode", "bad magic 0x12345678");
    }

    @Test
    void directoryBlockWithBadMagicV4() throws Exception {
        Path image = image("-m", "crc=0");
        XfsTools.db(image, true, List.of("path /block", "dblock 0", "write -d bhdr.magic 0x12345678"));
        expectBad(image, fs -> fs.stat("/block/entry-number-3"), "directory block of inode", "bad magic 0x12345678");
    }

    @Test
    void extentCountOf2To32() throws Exception {
        Path image = image("-i", "nrext64=1");
        XfsTools.db(image, true, List.of("path /files/big", "write -d core.nextents 4294967296"));
        expectBad(image, fs -> fs.readAll("/files/big", 1 << 30), "data fork of inode",
                "extent count 4294967296 does not fit in the fork");
    }

    @Test
    void extentCountAtMaximumOf32Bits() throws Exception {
        Path image = image("-m", "crc=0");
        XfsTools.db(image, true, List.of("path /files/big", "write -d core.nextents 4294967295"));
        expectBad(image, fs -> fs.readAll("/files/big", 1 << 30), "extent count 4294967295 does not fit in the fork");
    }

    @Test
    void extentPastTheFilesystem() throws Exception {
        Path image = image();
        XfsTools.db(image, true, List.of("path /files/big", "write -d u3.bmx[0].startblock 1099511627776"));
        expectBad(image, fs -> fs.readAll("/files/big", 1 << 30), "data fork of inode", "outside the filesystem");
    }

    @Test
    void truncatedImage() throws Exception {
        Path image = image();
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(100L << 20);
        }
        expectBad(image, fs -> { }, "superblock at offset 0x8", "truncated image?");
    }

    @Test
    void shortformDirectoryCountTooBig() throws Exception {
        Path image = image();
        XfsTools.db(image, true, List.of("path /short", "write -d u3.sfdir3.hdr.count 200"));
        expectBad(image, fs -> fs.list("/short"), "shortform directory in inode", "of 200 starts past the end");
    }

    @Test
    void directoryEntryWithInodeOutsideTheFilesystem() throws Exception {
        Path image = image();
        XfsTools.db(image, true, List.of("path /short", "write -d u3.sfdir3.list[0].inumber.i4 4294967295"));
        expectBad(image, fs -> {
            fs.list("/short"); // entries carry ftype, so listing reads no inode
            fs.stat("/short/one");
        }, "entry \"one\" of directory inode", "inode 4294967295", "outside the filesystem");
    }

    @Test
    void attributeNodeLoop() throws Exception {
        Path image = image();
        assertThat(XfsTools.db(image, "path /files/attrs", "ablock 0", "p")).contains("magic = 0x3ebe");
        XfsTools.db(image, true, List.of("path /files/attrs", "ablock 0", "write -d btree[1].before 0"));
        expectBad(image, fs -> fs.xattrs("/files/attrs"), "attribute B+tree of inode", "reached twice: loop");
    }

    @Test
    void attributeLeafCountTooBig() throws Exception {
        Path image = image();
        String node = XfsTools.db(image, "path /files/attrs", "ablock 0", "p btree[0].before");
        long leaf = Long.parseLong(XfsTools.field(node, "btree[0].before"));
        XfsTools.db(image, true, List.of("path /files/attrs", "ablock " + leaf, "write -d hdr.count 60000"));
        expectBad(image, fs -> fs.xattrs("/files/attrs"), "attribute block " + leaf, "entry count 60000 does not fit");
    }

    @Test
    void nonsenseSuperblockIsRefusedAndNotProbed() throws Exception {
        Path image = image();
        XfsTools.db(image, true, List.of("sb 0", "write -d agcount 0"));
        try (FileDevice dev = FileDevice.open(image)) {
            assertThat(new XfsFormat().probe(dev)).isFalse();
            assertThatThrownBy(() -> XfsFileSystem.open(dev)).isInstanceOf(BadInputException.class)
                    .hasMessage(image + ": XFS superblock at offset 0x0: AG count 0 outside 1..1000000");
        }
    }

    @Test
    void unknownIncompatibleFeatureIsProbedButRefused() throws Exception {
        Path image = image();
        String features = XfsTools.field(XfsTools.db(image, "sb 0", "p features_incompat"), "features_incompat");
        long withNew = Long.decode(features) | 0x10000;
        XfsTools.db(image, true, List.of("sb 0", "write -d features_incompat " + withNew));
        try (FileDevice dev = FileDevice.open(image)) {
            assertThat(new XfsFormat().probe(dev)).isTrue();
            assertThatThrownBy(() -> XfsFileSystem.open(dev)).isInstanceOf(BadInputException.class)
                    .hasMessage(image + ": XFS superblock at offset 0x0: unknown incompatible features 0x10000");
        }
    }

    @Test
    void remoteSymlinkWithoutItsV5HeaderAsMkfsWritesIt() throws Exception {
        // mkfs.xfs 6.1 -p writes long symlinks on v5 without the XSLM header; xfs_repair -n calls them bad too
        XfsTools.require();
        SourceTree t = new SourceTree(dir, 1);
        t.symlink("/long", "/" + "x".repeat(700));
        Path image = XfsTools.mkfs(dir, t, XfsTools.IMAGE_SIZE, List.of());
        expectBad(image, fs -> fs.readlink("/long"), "symbolic link inode", "bad magic");
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            assertThat(fs.stat("/long").kind()).isEqualTo(FileKind.SYMLINK);
        }
        var r = org.jv2v.testing.Run.run(List.of("xfs_repair", "-n", image.toString()));
        assertThat(r.all()).contains("bad symlink header");
    }
}
