package org.jv2v.fs.btrfs;

import org.jv2v.BadInputException;
import org.jv2v.fs.FileSystems;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Damaged btrfs images (made by mkfs.btrfs, then broken on purpose, with checksums recomputed
 * where the damage must get past them) give one clear BadInputException naming the structure and
 * its address; never a hang or an allocation sized from a damaged field.
 */
@Timeout(60)
class BtrfsCorruptionTest {
    @TempDir
    static Path tmp;
    static Path single;
    static Path dup;
    static Path src;

    @BeforeAll
    static void build() throws Exception {
        Tools.require("mkfs.btrfs");
        src = tmp.resolve("src");
        Path many = Files.createDirectories(src.resolve("many"));
        for (int i = 0; i < 400; i++) {
            Files.writeString(many.resolve("entry-with-a-longish-name-" + i), "x".repeat(i));
        }
        Files.writeString(src.resolve("hello.txt"), "hello\n");
        // 4 KiB nodes: the FS tree has interior nodes
        single = BtrfsTools.mkfs(tmp.resolve("single.img"), 128, src, "-n", "4096", "-m", "single");
        dup = BtrfsTools.mkfs(tmp.resolve("dup.img"), 128, src, "-n", "4096", "-m", "dup");
    }

    /** Where a tree's root block is, and its copies on the device. */
    record Block(long logical, int level, List<ChunkMap.Copy> copies) {}

    private static Block fsRoot(Path img) throws IOException {
        try (FileDevice dev = FileDevice.open(img)) {
            Volume v = Volume.open(List.of(dev));
            Volume.Root r = v.treeRoot(5);
            return new Block(r.bytenr(), r.level(), v.chunks.copies(r.bytenr(), 4096));
        }
    }

    interface Edit {
        void apply(byte[] block) throws IOException;
    }

    /** A copy of {@code img} whose tree block gets {@code edit} (on {@code copies} of its mirrors), checksum fixed or not. */
    private static Path patchBlock(Path img, String name, long physical, Edit edit, boolean fixCsum) throws IOException {
        Path p = tmp.resolve(name + ".img");
        BtrfsTools.copy(img, p);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            byte[] b = new byte[4096];
            f.seek(physical);
            f.readFully(b);
            edit.apply(b);
            if (fixCsum) {
                CRC32C c = new CRC32C();
                c.update(b, 0x20, b.length - 0x20);
                putLe(b, 0, c.getValue(), 4);
            }
            f.seek(physical);
            f.write(b);
        }
        return p;
    }

    /** A copy with the superblock edited (checksum recomputed when asked). */
    private static Path patchSuper(String name, Edit edit, boolean fixCsum) throws IOException {
        return patchBlock(single, name, 0x10000, edit, fixCsum);
    }

    static void putLe(byte[] b, int off, long v, int n) {
        for (int i = 0; i < n; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    private static void listAll(Path img) throws IOException {
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            fs.readAll("/hello.txt", 100);
            for (var e : fs.list("/many")) { // touches every leaf of the FS tree
                fs.stat("/many/" + e.name());
            }
        }
    }

    @Test
    void goodImagesRead() throws IOException {
        assertThat(fsRoot(single).level()).as("FS tree has interior nodes").isPositive();
        listAll(single);
        listAll(dup);
    }

    @Test
    void superblockChecksum() throws IOException {
        Path p = patchSuper("sbcsum", b -> b[0x12B] ^= 1, false);
        try (FileDevice dev = FileDevice.open(p)) {
            assertThat(FileSystems.probe(dev)).get().extracting(f -> f.name()).isEqualTo("btrfs");
            assertThatThrownBy(() -> BtrfsFileSystem.open(dev)).isInstanceOf(BadInputException.class)
                    .hasMessage(p + ": superblock at offset 0x10000: checksum (crc32c) does not match");
        }
    }

    @Test
    void unknownChecksumType() throws IOException {
        Path p = patchSuper("csumtype", b -> putLe(b, 0xC4, 9, 2), false);
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessage(p + ": superblock at offset 0x10000: csum_type (0xc4) 9 is unknown");
    }

    @Test
    void zonedIsRefused() throws IOException {
        Path p = patchSuper("zoned", b -> b[0xBD] |= 0x10, true); // incompat bit 12
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("incompat_flags (0xbc) 0x1000 (zoned)");
    }

    @Test
    void nodeSizeAbsurd() throws IOException {
        Path p = patchSuper("nodesize", b -> putLe(b, 0x94, 3 << 20, 4), true);
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("nodesize (0x94) 3145728");
    }

    @Test
    void systemChunkPastTheDevice() throws IOException {
        // sys_chunk_array (0x32B): key (17 bytes), then the chunk; stripe 0's offset at chunk + 0x38
        Path p = patchSuper("chunk", b -> putLe(b, 0x32B + 17 + 0x38, 1L << 40, 8), true);
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("tree block of tree chunk at logical 0x")
                .hasMessageContaining("past the end of the device");
    }

    @Test
    void nodeLevelAbsurd() throws IOException {
        Block r = fsRoot(single);
        Path p = patchBlock(single, "level", r.copies().getFirst().offset(), b -> b[0x64] = (byte) 200, true);
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessage(p + ": tree block of tree fs at logical 0x" + Long.toHexString(r.logical()) + ", offset 0x"
                        + Long.toHexString(r.copies().getFirst().offset()) + ": level (0x64) 200 above 7");
    }

    @Test
    void itemCountAbsurd() throws IOException {
        Block r = fsRoot(single);
        Path p = patchBlock(single, "nritems", r.copies().getFirst().offset(), b -> putLe(b, 0x60, 0xFFFFFFFFL, 4),
                true);
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("tree block of tree fs at logical 0x" + Long.toHexString(r.logical()))
                .hasMessageContaining("nritems (0x60) 4294967295 does not fit");
    }

    /** An interior node whose first child pointer points back at the node itself. */
    @Test
    void treeLoop() throws IOException {
        Block r = fsRoot(single);
        Path p = patchBlock(single, "loop", r.copies().getFirst().offset(),
                b -> putLe(b, Node.HEADER + 0x11, r.logical(), 8), true);
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("at logical 0x" + Long.toHexString(r.logical()))
                .hasMessageContaining("level " + r.level() + " where " + (r.level() - 1) + " was expected (a loop");
    }

    /** Two pointers to one child: its keys cannot lie in both ranges. */
    @Test
    void sharedChild() throws IOException {
        Block r = fsRoot(single);
        Path p = patchBlock(single, "shared", r.copies().getFirst().offset(), b -> {
            System.arraycopy(b, Node.HEADER + 0x11, b, Node.HEADER + Node.KEY_PTR + 0x11, 16); // ptr 1 := ptr 0
        }, true);
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("differs from its parent's");
    }

    @Test
    void keysOutOfOrder() throws IOException {
        Block r = fsRoot(single);
        Path p = patchBlock(single, "order", r.copies().getFirst().offset(),
                b -> putLe(b, Node.HEADER + Node.KEY_PTR, 1, 8), true); // key 1's objectid below key 0's
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("is not above the previous key");
    }

    @Test
    void treeBlockChecksum() throws IOException {
        Block r = fsRoot(single);
        Path p = patchBlock(single, "blockcsum", r.copies().getFirst().offset(), b -> b[200] ^= 0x40, false);
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("tree block of tree fs at logical 0x" + Long.toHexString(r.logical()))
                .hasMessageContaining("checksum (crc32c) does not match");
    }

    /** With DUP metadata a damaged copy is survived by reading the other; both damaged is an error. */
    @Test
    void dupMirrorCoversOneDamagedCopy() throws IOException {
        Block r = fsRoot(dup);
        assertThat(r.copies()).hasSize(2);
        Path one = patchBlock(dup, "dup1", r.copies().get(0).offset(), b -> b[200] ^= 0x40, false);
        listAll(one);
        Path both = patchBlock(one, "dup2", r.copies().get(1).offset(), b -> b[200] ^= 0x40, false);
        assertThatThrownBy(() -> listAll(both)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("checksum (crc32c) does not match");
    }

    @Test
    void leafItemOutsideTheLeaf() throws IOException {
        Path p;
        long leaf;
        try (FileDevice dev = FileDevice.open(single)) {
            Volume v = Volume.open(List.of(dev));
            Volume.Item it = v.find(v.treeRoot(5), new Key(256, Key.INODE_ITEM, 0));
            leaf = it.node().logical;
            long phys = v.chunks.copies(leaf, 4096).getFirst().offset();
            p = patchBlock(single, "itemoff", phys, b -> putLe(b, Node.HEADER + 0x11, 0x7FFFFFF0L, 4), true);
        }
        assertThatThrownBy(() -> listAll(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("at logical 0x" + Long.toHexString(leaf))
                .hasMessageContaining("outside the leaf");
    }
}
