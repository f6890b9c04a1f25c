package org.jv2v.fs.fat;

import org.jv2v.fs.ByteRange;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystems;
import org.jv2v.fs.SourceTree;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileBytes;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FAT12, FAT16 and FAT32 volumes made by mkfs.fat and filled by mtools at test time; everything
 * jv2v reads is compared with the source tree, and with mtools, fsck.fat and blkid as second
 * opinions.
 */
class FatFileSystemTest {
    @TempDir
    static Path tmp;

    /** One volume per FAT type, built once for the class. */
    record Fixture(int bits, Path img, Path src, List<String> readOnly) {}

    private static final Map<Integer, Fixture> FIXTURES = new HashMap<>();

    @BeforeAll
    static void build() throws Exception {
        Tools.require("mkfs.fat", "mcopy", "mattrib", "fsck.fat");
        // FAT12: 4 MiB; FAT16: 16 MiB with 512-byte clusters; FAT32: 48 MiB with 512-byte clusters
        // (about 96000 clusters, a true FAT32 by the specification's count)
        build(12, 4096, 1_200_000, 100, "-n", "SMALL FAT", "-i", "0badf00d");
        build(16, 16384, 5_000_000, 300, "-s", "1", "-n", "MIDDLE", "-i", "12345678");
        build(32, 49152, 8_000_000, 400, "-s", "1", "-n", "EFI SYSTEM", "-i", "cafe0001");
    }

    private static void build(int bits, long kib, long budget, int wide, String... mkfs) throws Exception {
        Path src = tmp.resolve("src" + bits);
        FatSourceTree.build(src, bits, budget, wide);
        Path img = FatTools.mkfs(tmp.resolve("fat" + bits + ".img"), bits, kib, mkfs);
        FatTools.copyIn(img, src);
        List<String> readOnly = List.of("file3.bin", "Wide Directory/entry number 7 with a long name.dat");
        for (String r : readOnly) {
            FatTools.mtool("mattrib", img, "+r", "::/" + r);
        }
        FatTools.mtool("mattrib", img, "+h", "+s", "::/file4.bin");
        FIXTURES.put(bits, new Fixture(bits, img, src, readOnly));
    }

    @ParameterizedTest
    @ValueSource(ints = {12, 16, 32})
    void everyFileReadsBackAsItWentIn(int bits) throws Exception {
        Fixture f = FIXTURES.get(bits);
        String before = Checksums.sha256(f.img());
        try (FileDevice dev = FileDevice.open(f.img())) {
            assertThat(FileSystems.probe(dev)).get().extracting(x -> x.name()).isEqualTo("vfat");
            try (FatFileSystem fs = FatFileSystem.open(dev)) {
                assertThat(fs.fatType()).isEqualTo(bits == 12 ? FatType.FAT12 : bits == 16 ? FatType.FAT16
                        : FatType.FAT32);
                assertThat(fs.type()).isEqualTo("vfat");
                FatSourceTree.assertSame(f.src(), fs, f.readOnly());
                FatDirEntry hidden = fs.entry("/file4.bin");
                assertThat(hidden.attributes() & (FatDirEntry.HIDDEN | FatDirEntry.SYSTEM))
                        .isEqualTo(FatDirEntry.HIDDEN | FatDirEntry.SYSTEM);
                // 8.3 names: lower case comes from the NT case bits, no long name needed
                assertThat(fs.entry("/lower.txt").shortName()).isEqualTo("LOWER.TXT");
                assertThat(fs.entry("/lowerbase.TXT").name()).isEqualTo("lowerbase.TXT");
                // lookups ignore case and accept the short name, as Linux's vfat does
                assertThat(fs.stat("/LOWER.TXT").inode()).isEqualTo(fs.stat("/lower.txt").inode());
                String shortOfLong = fs.entry("/Long File Name with Spaces and MixedCase.txt").shortName();
                assertThat(shortOfLong).matches("LONGFI~\\d\\.TXT");
                assertThat(fs.stat("/" + shortOfLong).size())
                        .isEqualTo(Files.size(f.src().resolve("Long File Name with Spaces and MixedCase.txt")));
                assertThat(fs.xattrs("/file1.bin")).isEmpty();
            }
        }
        assertThat(Checksums.sha256(f.img())).as("the image is never written").isEqualTo(before);
    }

    /** mtools' own listing (mdir -/ -b -a) names the same paths jv2v finds walking the tree. */
    @ParameterizedTest
    @ValueSource(ints = {12, 16, 32})
    void pathsMatchMdir(int bits) throws Exception {
        Fixture f = FIXTURES.get(bits);
        String out = FatTools.mtool("mdir", f.img(), "-/", "-b", "-a", "::/").stdout();
        List<String> mdir = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("::/")) {
                mdir.add(line.substring(2).replaceAll("/$", ""));
            }
        }
        List<String> ours = new ArrayList<>();
        try (FileDevice dev = FileDevice.open(f.img()); FatFileSystem fs = FatFileSystem.open(dev)) {
            walk(fs, "", ours);
        }
        assertThat(ours).containsExactlyInAnyOrderElementsOf(mdir);
    }

    private static void walk(FileSystem fs, String dir, List<String> out) throws IOException {
        for (var e : fs.list(dir.isEmpty() ? "/" : dir)) {
            String p = dir + "/" + e.name();
            out.add(p);
            if (e.kind() == org.jv2v.fs.FileKind.DIRECTORY) {
                walk(fs, p, out);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {12, 16, 32})
    void labelAndUuidAsBlkidPrintsThem(int bits) throws Exception {
        Fixture f = FIXTURES.get(bits);
        Map<String, String> blkid = blkid(f.img());
        try (FileDevice dev = FileDevice.open(f.img()); FatFileSystem fs = FatFileSystem.open(dev)) {
            assertThat(fs.label()).contains(blkid.get("LABEL"));
            assertThat(fs.uuid()).contains(blkid.get("UUID"));
        }
        // a volume without a label
        Path bare = FatTools.mkfs(tmp.resolve("bare" + bits + ".img"), bits, bits == 32 ? 40000 : bits == 16 ? 16384 : 4096);
        Map<String, String> b2 = blkid(bare);
        try (FileDevice dev = FileDevice.open(bare); FatFileSystem fs = FatFileSystem.open(dev)) {
            assertThat(b2).doesNotContainKey("LABEL");
            assertThat(fs.label()).isEmpty();
            assertThat(fs.uuid()).contains(b2.get("UUID"));
        }
    }

    /** The label mlabel writes into the root directory wins over the boot sector's, as for blkid. */
    @Test
    void rootDirectoryLabelWins() throws Exception {
        Path img = FatTools.mkfs(tmp.resolve("label.img"), 16, 16384, "-n", "BOOTSECT");
        FatTools.mtool("mlabel", img, "::Dir Label");
        // put the old label back into the boot sector only, so the two differ
        try (RandomAccessFile r = new RandomAccessFile(img.toFile(), "rw")) {
            r.seek(0x2B);
            r.write("BOOTSECT   ".getBytes());
        }
        Map<String, String> blkid = blkid(img);
        assertThat(blkid).containsEntry("LABEL_FATBOOT", "BOOTSECT");
        try (FileDevice dev = FileDevice.open(img); FatFileSystem fs = FatFileSystem.open(dev)) {
            assertThat(fs.label()).contains(blkid.get("LABEL")).contains("DIR LABEL");
        }
    }

    static Map<String, String> blkid(Path img) throws Exception {
        Tools.require("blkid");
        Map<String, String> m = new TreeMap<>();
        for (String line : Run.checked(List.of("blkid", "-p", "-o", "export", img.toString())).stdout().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1).replaceAll("\\\\(.)", "$1")); // export format escapes
            }
        }
        return m;
    }

    /**
     * Zero everything jv2v calls unused in a copy: fsck.fat -n stays clean, mtools extracts every
     * file identical, and fsck.fat counts the same clusters in use as {@link FatFileSystem#space}.
     */
    @ParameterizedTest
    @ValueSource(ints = {12, 16, 32})
    void zeroingUnusedRangesKeepsEveryFile(int bits) throws Exception {
        Fixture f = FIXTURES.get(bits);
        List<ByteRange> used;
        FileSystem.SpaceUsage space;
        long clusters;
        try (FileDevice dev = FileDevice.open(f.img()); FatFileSystem fs = FatFileSystem.open(dev)) {
            used = fs.usedRanges();
            space = fs.space();
            clusters = fs.clusterCount();
        }
        for (int i = 1; i < used.size(); i++) {
            assertThat(used.get(i).offset()).as("sorted and merged").isGreaterThan(used.get(i - 1).end());
        }
        long usedBytes = used.stream().mapToLong(ByteRange::length).sum();
        long size = Files.size(f.img());
        assertThat(usedBytes).as("something is unused, so zeroing it proves something").isLessThan(size * 3 / 4);

        String fsck = FatTools.fsckClean(f.img());
        Matcher m = Pattern.compile("(\\d+)/(\\d+) clusters").matcher(fsck);
        assertThat(m.find()).as(fsck).isTrue();
        assertThat(Long.parseLong(m.group(2))).isEqualTo(clusters);
        long usedClusters = Long.parseLong(m.group(1));
        long clusterSize = space.totalBytes() / clusters;
        assertThat(space.freeBytes()).isEqualTo((clusters - usedClusters) * clusterSize);

        Path zeroed = FileBytes.copyOnly(f.img(), used, tmp.resolve("zeroed" + bits + ".img"));
        String after = FatTools.fsckClean(zeroed);
        assertThat(after).contains(usedClusters + "/" + clusters + " clusters");
        Path out = FatTools.extract(zeroed, tmp.resolve("extracted" + bits));
        for (Path p : SourceTree.walk(f.src())) {
            Path q = out.resolve(f.src().relativize(p).toString());
            if (Files.isRegularFile(p)) {
                assertThat(Files.readAllBytes(q)).as("mtools reads %s from the zeroed copy", q).isEqualTo(
                        Files.readAllBytes(p));
            }
        }
        try (FileDevice dev = FileDevice.open(zeroed); FatFileSystem fs = FatFileSystem.open(dev)) {
            FatSourceTree.assertSame(f.src(), fs, f.readOnly());
        }
    }

    /** Gaps left by deleted files force a file into many runs; it still reads as mtools wrote it. */
    @Test
    void fragmentedFileReadsWhole() throws Exception {
        Path img = FatTools.mkfs(tmp.resolve("frag.img"), 16, 16384, "-s", "1");
        Random rnd = new Random(7);
        Path small = tmp.resolve("small.bin");
        Files.write(small, SourceTree.bytes(rnd, 1536));
        for (int i = 0; i < 30; i++) {
            FatTools.mtool("mcopy", img, small.toString(), "::/s" + i);
        }
        for (int i = 0; i < 30; i += 2) {
            FatTools.mtool("mdel", img, "::/s" + i);
        }
        Path big = tmp.resolve("big.bin");
        Files.write(big, SourceTree.bytes(rnd, 40_000));
        FatTools.mtool("mcopy", img, big.toString(), "::/big.bin");
        Path viaMtools = tmp.resolve("big-mtools.bin");
        FatTools.mtool("mcopy", img, "-n", "::/big.bin", viaMtools.toString());
        try (FileDevice dev = FileDevice.open(img); FatFileSystem fs = FatFileSystem.open(dev)) {
            ByteBuffer b = ByteBuffer.allocate(512);
            dev.read(b, 0);
            Geometry g = Geometry.of(BootSector.read(b.flip()), dev.size(), dev.describe());
            FatTable t = new FatTable(dev, g);
            FatDirEntry e = fs.entry("/big.bin");
            List<FatTable.Run> runs = t.chain(e.firstCluster(), (e.size() + 511) / 512, true, "big");
            assertThat(runs.size()).as("runs of the fragmented file").isGreaterThan(10);
            byte[] content = SourceTree.readInChunks(fs, "/big.bin", 12345);
            assertThat(content).isEqualTo(Files.readAllBytes(big));
            assertThat(content).isEqualTo(Files.readAllBytes(viaMtools));
        }
    }

    /** Both dirty markers: the boot sector's state bit (fsck.fat reports it) and FAT[1]'s clean bit. */
    @ParameterizedTest
    @ValueSource(ints = {12, 16, 32})
    void dirtyBits(int bits) throws Exception {
        Path img = FatTools.mkfs(tmp.resolve("dirty" + bits + ".img"), bits, bits == 32 ? 40000 : bits == 16 ? 16384 : 4096);
        try (FileDevice dev = FileDevice.open(img); FatFileSystem fs = FatFileSystem.open(dev)) {
            assertThat(fs.isDirty()).isFalse();
            assertThat(fs.cleanShutdownBit()).isTrue();
            assertThat(fs.hardErrorReported()).isFalse();
        }
        assertThat(FatTools.fsckClean(img)).doesNotContain("Dirty bit");
        Path bootDirty = tmp.resolve("dirty-boot" + bits + ".img");
        Files.copy(img, bootDirty);
        try (RandomAccessFile r = new RandomAccessFile(bootDirty.toFile(), "rw")) {
            r.seek(bits == 32 ? 0x41 : 0x25);
            r.write(1);
        }
        Run.Result fsck = Run.run(List.of("fsck.fat", "-n", bootDirty.toString()));
        assertThat(fsck.stdout() + fsck.stderr()).contains("Dirty bit is set");
        try (FileDevice dev = FileDevice.open(bootDirty); FatFileSystem fs = FatFileSystem.open(dev)) {
            assertThat(fs.isDirty()).isTrue();
        }
        if (bits == 12) {
            return;
        }
        Path fatDirty = tmp.resolve("dirty-fat" + bits + ".img");
        Files.copy(img, fatDirty);
        try (FileDevice dev = FileDevice.open(img); FatFileSystem fs = FatFileSystem.open(dev);
             RandomAccessFile r = new RandomAccessFile(fatDirty.toFile(), "rw")) {
            ByteBuffer b = ByteBuffer.allocate(512);
            dev.read(b, 0);
            Geometry g = Geometry.of(BootSector.read(b.flip()), dev.size(), dev.describe());
            // clear the clean-shutdown bit (FAT16 bit 15, FAT32 bit 27) in every FAT copy
            for (int i = 0; i < g.numFats(); i++) {
                long at = g.fatOffset() + i * g.fatBytes() + (bits == 16 ? 3 : 7);
                r.seek(at);
                int v = r.read();
                r.seek(at);
                r.write(v & ~(bits == 16 ? 0x80 : 0x08));
            }
        }
        try (FileDevice dev = FileDevice.open(fatDirty); FatFileSystem fs = FatFileSystem.open(dev)) {
            assertThat(fs.cleanShutdownBit()).isFalse();
            assertThat(fs.isDirty()).isTrue();
        }
    }

    /** FSInfo's free count, as mkfs.fat and mtools keep it, agrees with the FAT. */
    @Test
    void fsInfoAgreesWithTheFat() throws Exception {
        Fixture f = FIXTURES.get(32);
        try (FileDevice dev = FileDevice.open(f.img()); FatFileSystem fs = FatFileSystem.open(dev)) {
            long free = fs.space().freeBytes() / fs.clusterSize();
            assertThat(fs.fsInfoFreeClusters()).hasValue(free);
        }
    }

    /** The creation time's 10 ms field and the access date, written into an entry by hand. */
    @Test
    void creationTimeHundredths() throws Exception {
        Path img = FatTools.mkfs(tmp.resolve("ctime.img"), 16, 16384);
        Path one = tmp.resolve("ONE.TXT");
        Files.writeString(one, "1");
        FatTools.mtool("mcopy", img, one.toString(), "::/ONE.TXT");
        long entry;
        try (FileDevice dev = FileDevice.open(img); FatFileSystem fs = FatFileSystem.open(dev)) {
            entry = fs.entry("/ONE.TXT").entryOffset();
        }
        // 2024-02-29 13:45:58 + 1.99 s: date (44 << 9 | 2 << 5 | 29), time (13 << 11 | 45 << 5 | 29), tenths 199
        try (RandomAccessFile r = new RandomAccessFile(img.toFile(), "rw")) {
            r.seek(entry + 0x0D);
            r.write(199);
            r.write(le16(13 << 11 | 45 << 5 | 29));
            r.write(le16(44 << 9 | 2 << 5 | 29));
            r.write(le16(44 << 9 | 3 << 5 | 1)); // accessed 2024-03-01
        }
        try (FileDevice dev = FileDevice.open(img); FatFileSystem fs = FatFileSystem.open(dev)) {
            FatDirEntry e = fs.entry("/ONE.TXT");
            assertThat(e.created()).isEqualTo(LocalDateTime.of(2024, 2, 29, 13, 45, 59, 990_000_000));
            assertThat(e.accessed()).isEqualTo(java.time.LocalDate.of(2024, 3, 1));
            assertThat(fs.stat("/ONE.TXT").atime()).isEqualTo(java.time.Instant.parse("2024-03-01T00:00:00Z"));
        }
        assertThat(FatTools.fsckClean(img)).doesNotContain("differ");
    }

    private static byte[] le16(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8)};
    }
}
