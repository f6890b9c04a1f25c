package org.jv2v.image.vmdk;

import org.jv2v.BadInputException;
import org.jv2v.image.OpenedImage;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jv2v.image.vmdk.VmdkOracle.open;
import static org.jv2v.image.vmdk.VmdkOracle.qemuImg;
import static org.jv2v.image.vmdk.VmdkOracle.qemuIo;

/**
 * Broken and hostile images: each gives one clear line naming the file, the field and where it is,
 * allocates nothing a header asks for before checking it, opens nothing outside the allowed
 * folders, and leaves the source files untouched.
 */
class VmdkMaliciousTest {
    @TempDir
    Path dir;
    Path src;

    @BeforeEach
    void setUp() throws IOException {
        Tools.require("qemu-img", "qemu-io");
        src = Files.createDirectories(dir.resolve("vm"));
    }

    private Path sparseWithData(String name, String subformat) throws Exception {
        Path raw = dir.resolve(name + ".raw");
        qemuImg("create", "-f", "raw", raw.toString(), "4M");
        qemuIo(raw, "raw", "write -P 0xab 1M 192k");
        Path vmdk = src.resolve(name + ".vmdk");
        qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=" + subformat, raw.toString(), vmdk.toString());
        return vmdk;
    }

    static void patch(Path file, long at, ByteBuffer bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(bytes, at);
        }
    }

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    static long readLong(Path file, long at) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = le(8);
            ch.read(b, at);
            return b.getLong(0);
        }
    }

    static long readInt(Path file, long at) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = le(4);
            ch.read(b, at);
            return Integer.toUnsignedLong(b.getInt(0));
        }
    }

    /** File offset of the grain table entry of {@code grain} in a hosted sparse extent. */
    static long gteOffset(Path vmdk, long grain) throws IOException {
        long gd = readLong(vmdk, 0x38) * 512;
        long gt = readInt(vmdk, gd + (grain / 512) * 4) * 512;
        return gt + (grain % 512) * 4;
    }

    /** Runs {@code body}, expecting a one-line BadInputException naming the file and containing each part. */
    private void assertBad(ThrowingRunnable body, Path file, String... parts) throws IOException {
        Map<String, String> before = Checksums.of(src);
        assertThatThrownBy(body::run).isInstanceOf(BadInputException.class)
                .satisfies(e -> {
                    assertThat(e.getMessage()).doesNotContain("\n").contains(file.toString());
                    for (String p : parts) {
                        assertThat(e.getMessage()).contains(p);
                    }
                });
        assertThat(Checksums.of(src)).as("source files unchanged").isEqualTo(before);
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static void readAll(Path image) throws IOException {
        try (OpenedImage img = open(image)) {
            ByteBuffer b = ByteBuffer.allocate(1 << 20);
            for (long off = 0; off < img.device().size(); off += b.capacity()) {
                b.clear().limit((int) Math.min(b.capacity(), img.device().size() - off));
                img.device().read(b, off);
            }
        }
    }

    @Test
    void grainTableEntryPastEndOfFile() throws Exception {
        Path vmdk = sparseWithData("gte", "monolithicSparse");
        long at = gteOffset(vmdk, 17);
        patch(vmdk, at, le(4).putInt(0, 0x7ffffff0));
        assertBad(() -> readAll(vmdk), vmdk, "grain table entry 17 of table 0", "offset 0x" + Long.toHexString(at),
                "past the end of the file");
        assertBad(() -> {
            try (OpenedImage img = open(vmdk)) {
                img.device().blockStatus(0, img.device().size());
            }
        }, vmdk, "grain table entry 17");
    }

    @Test
    void grainDirectoryEntryPastEndOfFile() throws Exception {
        Path vmdk = sparseWithData("gd", "monolithicSparse");
        long gd = readLong(vmdk, 0x38) * 512;
        patch(vmdk, gd, le(4).putInt(0, 0x40000000));
        assertBad(() -> readAll(vmdk), vmdk, "grain directory entry 0", "offset 0x" + Long.toHexString(gd),
                "grain table at 0x");
    }

    @Test
    void absurdCountsAndSizesAreRefusedBeforeAllocating() throws Exception {
        Path vmdk = sparseWithData("caps", "monolithicSparse");
        byte[] orig = Files.readAllBytes(vmdk);

        patch(vmdk, 0x2c, le(4).putInt(0, 0x40000000));
        assertBad(() -> open(vmdk), vmdk, "numGTEsPerGT at offset 0x2c");

        Files.write(vmdk, orig);
        patch(vmdk, 0x0c, le(8).putLong(0, 1L << 60));
        assertBad(() -> open(vmdk), vmdk, "capacity at offset 0xc", "out of range");

        // 32 TiB in 512-byte grains: 2^27 directory entries (512 MiB), refused before allocating
        Files.write(vmdk, orig);
        patch(vmdk, 0x0c, le(16).putLong(0, 1L << 36).putLong(8, 1));
        assertBad(() -> open(vmdk), vmdk, "gdOffset at offset 0x38", "too big");

        Files.write(vmdk, orig);
        patch(vmdk, 0x14, le(8).putLong(0, 3));
        assertBad(() -> open(vmdk), vmdk, "grainSize at offset 0x14", "power of two");
    }

    @Test
    void cowdAndSeSparseHugeDirectoriesAreRefused() throws Exception {
        byte[] base = new byte[1 << 20];
        EsxiImages.vmfsFlat(src, "b", base, "vmfs", 1, false);
        var grains = new TreeMap<Long, EsxiImages.Grain>(Map.of(1L, EsxiImages.Grain.DATA));
        EsxiImages.cowdDelta(src, "c", new EsxiImages.Delta(2048, 1, base, grains), "b.vmdk", 1, 2);
        Path cowd = src.resolve("c-delta.vmdk");
        patch(cowd, 0x18, le(4).putInt(0, -1));
        assertBad(() -> open(src.resolve("c.vmdk")), cowd, "numGDEntries at offset 0x18");

        EsxiImages.seSparseDelta(src, "s", new EsxiImages.Delta(2048, 8, base, grains), "b.vmdk", 1, 3);
        Path se = src.resolve("s-sesparse.vmdk");
        patch(se, 0x88, le(8).putLong(0, 1L << 40));
        assertBad(() -> open(src.resolve("s.vmdk")), se, "grainDirSize at offset 0x88");
    }

    @Test
    void extentPathOutsideTheFolderIsRefused() throws Exception {
        Path desc = src.resolve("evil.vmdk");
        for (String name : List.of("../../etc/shadow", "/etc/shadow")) {
            Files.writeString(desc, """
                    # Disk DescriptorFile
                    version=1
                    CID=fffffffe
                    parentCID=ffffffff
                    createType="monolithicFlat"
                    RW 2048 FLAT "%s" 0
                    """.formatted(name));
            assertBad(() -> open(desc), desc, "extent file", "line 6", "outside the allowed folders");
            assertBad(() -> VmdkDescriptor.read(desc).extentPaths(org.jv2v.image.PathGuard.folderOf(desc)), desc,
                    "outside the allowed folders");
        }
        Files.writeString(desc, """
                # Disk DescriptorFile
                version=1
                CID=fffffffe
                parentCID=ffffffff
                parentFileNameHint="../../etc/passwd"
                createType="monolithicFlat"
                RW 2048 ZERO
                """);
        assertBad(() -> open(desc), desc, "parentFileNameHint", "line 5", "outside the allowed folders");
    }

    @Test
    void parentLoopIsAnErrorNotAHang() throws Exception {
        String t = """
                # Disk DescriptorFile
                version=1
                CID=%s
                parentCID=%s
                parentFileNameHint="%s"
                createType="monolithicFlat"
                RW 2048 ZERO
                """;
        Path a = src.resolve("a.vmdk");
        Path b = src.resolve("b.vmdk");
        Files.writeString(a, t.formatted("0000000a", "0000000b", "b.vmdk"));
        Files.writeString(b, t.formatted("0000000b", "0000000a", "a.vmdk"));
        assertBad(() -> open(a), b, "backing file loop");
        assertBad(() -> VmdkDescriptor.chain(a, org.jv2v.image.OpenContext.of(org.jv2v.image.PathGuard.folderOf(a))),
                b, "backing file loop");
        Path self = src.resolve("self.vmdk");
        Files.writeString(self, t.formatted("0000000c", "0000000c", "self.vmdk"));
        assertBad(() -> open(self), self, "backing file loop");
    }

    @Test
    void truncatedFilesAreNamed() throws Exception {
        Path vmdk = sparseWithData("trunc", "monolithicSparse");
        long gte = readInt(vmdk, gteOffset(vmdk, 17)) * 512;
        try (FileChannel ch = FileChannel.open(vmdk, StandardOpenOption.WRITE)) {
            ch.truncate(gte + 1000);
        }
        assertBad(() -> readAll(vmdk), vmdk, "grain table entry 17", "past the end of the file");

        try (FileChannel ch = FileChannel.open(vmdk, StandardOpenOption.WRITE)) {
            ch.truncate(4096);
        }
        assertBad(() -> open(vmdk), vmdk, "at offset 0x");

        Path flat = sparseWithData("flat", "monolithicFlat");
        try (FileChannel ch = FileChannel.open(src.resolve("flat-flat.vmdk"), StandardOpenOption.WRITE)) {
            ch.truncate(1 << 20);
        }
        assertBad(() -> open(flat), flat, ":8:", "extent file 'flat-flat.vmdk' has 1048576 bytes");

        Path stream = EsxiImages.streamOptimized(src.resolve("s.vmdk"), new byte[1 << 20]);
        try (FileChannel ch = FileChannel.open(stream, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 512);
        }
        assertBad(() -> open(stream), stream, "footer marker at offset 0x");
    }

    @Test
    void zeroLengthAndCorruptCompressedGrains() throws Exception {
        Path vmdk = sparseWithData("zlen", "streamOptimized");
        byte[] orig = Files.readAllBytes(vmdk);
        long marker = readInt(vmdk, gteOffset(vmdk, 17)) * 512;
        patch(vmdk, marker + 8, le(4).putInt(0, 0));
        assertBad(() -> readAll(vmdk), vmdk, "grain marker size at offset 0x" + Long.toHexString(marker + 8),
                "compressed size 0");

        Files.write(vmdk, orig);
        patch(vmdk, marker + 12, ByteBuffer.wrap(new byte[]{1, 2, 3, 4, 5, 6, 7, 8}));
        assertBad(() -> readAll(vmdk), vmdk, "compressed grain at offset 0x" + Long.toHexString(marker),
                "not valid zlib data");
    }

    @Test
    void oversizedDescriptorIsRefused() throws Exception {
        Path desc = src.resolve("big.vmdk");
        StringBuilder sb = new StringBuilder("# Disk DescriptorFile\nversion=1\n");
        while (sb.length() <= VmdkDescriptor.MAX_BYTES) {
            sb.append("# padding padding padding padding padding padding padding padding\n");
        }
        Files.writeString(desc, sb);
        assertBad(() -> new VmdkFormat().open(desc, org.jv2v.image.OpenContext.of(
                org.jv2v.image.PathGuard.folderOf(desc))), desc, "more than the 1048576");
        assertThat(VmdkQemuTest.probe(new VmdkFormat(), desc)).isZero();
    }

    @Test
    void capacityNotMatchingTheExtentLine() throws Exception {
        Path vmdk = sparseWithData("split", "twoGbMaxExtentSparse");
        Files.writeString(vmdk, Files.readString(vmdk).replace("RW 8192 SPARSE", "RW 4096 SPARSE"));
        assertBad(() -> open(vmdk), vmdk, ":8:", "extent of 4096 sectors", "is 8192 sectors");
    }

    @Test
    void parentChangedAfterSnapshotIsRefusedLikeQemu() throws Exception {
        Path base = src.resolve("base.vmdk");
        qemuImg("create", "-f", "vmdk", base.toString(), "1M");
        Path top = src.resolve("top.vmdk");
        qemuImg("create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", top.toString());
        qemuIo(base, "vmdk", "write -P 1 0 4k");     // qemu gives the modified base a new CID
        assertThat(VmdkDescriptor.read(top).parentCid()).isNotEqualTo(VmdkDescriptor.read(base).cid());
        assertBad(() -> open(top), top, "parentCID", "does not match CID");
        Run.Result r = Run.run(List.of("qemu-img", "convert", "-O", "raw", top.toString(),
                dir.resolve("out.raw").toString()));
        assertThat(r.exitCode()).as("qemu-img refuses it too").isNotZero();
    }

    @Test
    void malformedDescriptorsNameTheLine() throws Exception {
        Path desc = src.resolve("bad.vmdk");
        String head = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n";
        Files.writeString(desc, head + "createType=\"monolithicFlat\"\nRW twelve FLAT \"x\" 0\n");
        assertBad(() -> VmdkDescriptor.read(desc), desc, ":6:", "malformed extent line");
        Files.writeString(desc, head + "createType=\"vmfsRDM\"\nRW 2048 VMFSRDM \"x-rdm.vmdk\"\n");
        assertBad(() -> open(desc), desc, ":5:", "physical device");
        Files.writeString(desc, head + "createType=\"vmfs\"\nRW 2048 VMFSRDM \"x-rdm.vmdk\"\n");
        assertBad(() -> open(desc), desc, ":6:", "raw device mapping");
        Files.writeString(desc, head + "createType=\"vmfs\"\nRW 2048 BOGUS \"x.vmdk\"\n");
        assertBad(() -> VmdkDescriptor.read(desc), desc, ":6:", "unknown extent type");
        Files.writeString(desc, "# Disk DescriptorFile\nversion=1\nCID=nothex\nparentCID=ffffffff\n");
        assertBad(() -> VmdkDescriptor.read(desc), desc, ":3:", "CID");
        Files.writeString(desc, head + "createType=\"vmfs\"\nRW 2048 VMFS \"missing-flat.vmdk\"\n");
        assertBad(() -> open(desc), desc, ":6:", "not found");
        Files.writeString(desc, head + "createType=\"vmfs\"\nRW 2048 ZERO\nencryption.keySafe = \"vmware:key/list/...\"\n");
        assertBad(() -> open(desc), desc, ":7:", "encrypted");
    }
}
