package org.jv2v.fs.fat;

import org.jv2v.BadInputException;
import org.jv2v.fs.SourceTree;
import org.jv2v.fs.FileSystems;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Damaged FAT volumes (made by mkfs.fat and mtools, then broken on purpose) give one clear
 * BadInputException naming the structure and its offset; never a hang, a wrong answer or an
 * allocation sized from a damaged field.
 */
@Timeout(30)
class FatCorruptionTest {
    @TempDir
    static Path tmp;
    static Path good;
    static byte[] bigContent;

    @BeforeAll
    static void build() throws Exception {
        Tools.require("mkfs.fat", "mcopy", "mmd");
        good = FatTools.mkfs(tmp.resolve("good.img"), 32, 40000, "-s", "1");
        bigContent = SourceTree.bytes(new Random(3), 5000);
        Path big = tmp.resolve("big.bin");
        Files.write(big, bigContent);
        FatTools.mtool("mmd", good, "::/dir");
        FatTools.mtool("mcopy", good, big.toString(), "::/dir/big.bin");
        FatTools.mtool("mcopy", good, big.toString(), "::/dir/Long Name.bin");
    }

    /** A copy of the good image with {@code fix} applied, opened. */
    private static Path broken(String name, Patch fix) throws IOException {
        Path p = tmp.resolve(name + ".img");
        Files.copy(good, p, StandardCopyOption.REPLACE_EXISTING);
        try (FileDevice dev = FileDevice.open(good); FatFileSystem fs = FatFileSystem.open(dev);
             RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            ByteBuffer b = ByteBuffer.allocate(512);
            dev.read(b, 0);
            Geometry g = Geometry.of(BootSector.read(b.flip()), dev.size(), dev.describe());
            fix.apply(f, g, fs);
        }
        return p;
    }

    interface Patch {
        void apply(RandomAccessFile f, Geometry g, FatFileSystem fs) throws IOException;
    }

    private static void putFat(RandomAccessFile f, Geometry g, long cluster, long value) throws IOException {
        for (int i = 0; i < g.numFats(); i++) {
            f.seek(g.fatOffset() + i * g.fatBytes() + cluster * 4);
            f.write(new byte[] {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)});
        }
    }

    private static void putLe16(RandomAccessFile f, long at, int v) throws IOException {
        f.seek(at);
        f.write(new byte[] {(byte) v, (byte) (v >>> 8)});
    }

    private static String readBig(Path img) throws IOException {
        try (FileDevice dev = FileDevice.open(img); FatFileSystem fs = FatFileSystem.open(dev)) {
            fs.readAll("/dir/big.bin", 1 << 20);
            return "read";
        }
    }

    @Test
    void goodImageReads() throws IOException {
        try (FileDevice dev = FileDevice.open(good); FatFileSystem fs = FatFileSystem.open(dev)) {
            assertThat(fs.readAll("/dir/big.bin", 1 << 20)).isEqualTo(bigContent);
        }
    }

    @Test
    void chainLoop() throws IOException {
        Path p = broken("loop", (f, g, fs) -> {
            long first = fs.entry("/dir/big.bin").firstCluster();
            putFat(f, g, first + 3, first + 1); // ... -> 4th cluster -> 2nd cluster -> ...
        });
        assertThatThrownBy(() -> readBig(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("FAT entry of cluster").hasMessageContaining("offset 0x")
                .hasMessageContaining("loop");
    }

    @Test
    void directoryChainLoopsOnItself() throws IOException {
        Path p = broken("dirloop", (f, g, fs) -> {
            long c = fs.entry("/dir").firstCluster();
            putFat(f, g, c, c);
        });
        assertThatThrownBy(() -> readBig(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("directory dir").hasMessageContaining("loops");
    }

    @Test
    void clusterPastTheEnd() throws IOException {
        Path p = broken("pastend", (f, g, fs) -> {
            long first = fs.entry("/dir/big.bin").firstCluster();
            putFat(f, g, first + 1, g.clusterCount() + 100);
        });
        assertThatThrownBy(() -> readBig(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("past the end of the volume").hasMessageContaining("offset 0x");
    }

    @Test
    void chainShorterThanTheFile() throws IOException {
        Path p = broken("short", (f, g, fs) -> {
            long first = fs.entry("/dir/big.bin").firstCluster();
            putFat(f, g, first + 2, 0x0FFFFFFF);
        });
        assertThatThrownBy(() -> readBig(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("ends after 3 clusters");
    }

    @Test
    void chainIntoAFreeCluster() throws IOException {
        Path p = broken("free", (f, g, fs) -> {
            long first = fs.entry("/dir/big.bin").firstCluster();
            putFat(f, g, first, 0);
        });
        assertThatThrownBy(() -> readBig(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("free cluster");
    }

    @Test
    void firstClusterPastTheEnd() throws IOException {
        Path p = broken("firstpast", (f, g, fs) -> {
            long e = fs.entry("/dir/big.bin").entryOffset();
            putLe16(f, e + 0x14, 0x0FFF); // DIR_FstClusHI
        });
        assertThatThrownBy(() -> readBig(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("first cluster").hasMessageContaining("past the end");
    }

    @Test
    void badSectorSize() throws IOException {
        Path p = broken("bps", (f, g, fs) -> putLe16(f, 0x0B, 700));
        try (FileDevice dev = FileDevice.open(p)) {
            assertThat(new FatFormat().probe(dev)).isFalse();
            assertThat(FileSystems.probe(dev)).isEmpty();
            assertThatThrownBy(() -> FatFileSystem.open(dev)).isInstanceOf(BadInputException.class)
                    .hasMessage(p + ": boot sector BPB_BytsPerSec at offset 0xb: 700 bytes per sector is not a power"
                            + " of two from 512 to 4096");
        }
    }

    @Test
    void volumeLargerThanTheDevice() throws IOException {
        Path p = tmp.resolve("truncated.img");
        Files.copy(good, p, StandardCopyOption.REPLACE_EXISTING);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        try (FileDevice dev = FileDevice.open(p)) {
            assertThatThrownBy(() -> FatFileSystem.open(dev)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("BPB_TotSec32 at offset 0x20").hasMessageContaining("larger than the device");
        }
    }

    @Test
    void fatTooSmallForTheClusters() throws IOException {
        Path p = broken("fatsz", (f, g, fs) -> {
            f.seek(0x24);
            f.write(new byte[] {1, 0, 0, 0}); // BPB_FATSz32 = 1 sector
        });
        try (FileDevice dev = FileDevice.open(p)) {
            assertThatThrownBy(() -> FatFileSystem.open(dev)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("BPB_FATSz32 at offset 0x24");
        }
    }

    @Test
    void rootClusterOutsideTheVolume() throws IOException {
        Path p = broken("rootclus", (f, g, fs) -> {
            f.seek(0x2C);
            f.write(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F});
        });
        try (FileDevice dev = FileDevice.open(p)) {
            assertThatThrownBy(() -> FatFileSystem.open(dev)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("BPB_RootClus at offset 0x2c");
        }
    }

    /** A long-name set whose checksum does not match falls back to the 8.3 name, as on Linux. */
    @Test
    void brokenLongNameFallsBackToShortName() throws Exception {
        Path p = broken("lfn", (f, g, fs) -> {
            long e = fs.entry("/dir/Long Name.bin").entryOffset();
            f.seek(e - 32 + 0x0D); // the long-name entry just before the short entry
            int sum = f.read();
            f.seek(e - 32 + 0x0D);
            f.write(sum ^ 0x55);
        });
        try (FileDevice dev = FileDevice.open(p); FatFileSystem fs = FatFileSystem.open(dev)) {
            assertThat(fs.list("/dir")).extracting(org.jv2v.fs.DirEntry::name)
                    .containsExactlyInAnyOrder("big.bin", "LONGNA~1.BIN");
            assertThat(fs.readAll("/dir/LONGNA~1.BIN", 1 << 20)).isEqualTo(bigContent);
        }
        String mdir = FatTools.mtool("mdir", p, "-b", "::/dir").stdout();
        assertThat(mdir).contains("LONGNA~1.BIN").doesNotContain("Long Name");
    }
}
