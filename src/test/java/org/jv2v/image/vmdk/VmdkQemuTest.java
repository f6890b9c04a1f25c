package org.jv2v.image.vmdk;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.Images;
import org.jv2v.image.OpenedImage;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jv2v.image.vmdk.VmdkOracle.assertSameBytesAsQemu;
import static org.jv2v.image.vmdk.VmdkOracle.assertStatusAsQemu;
import static org.jv2v.image.vmdk.VmdkOracle.open;
import static org.jv2v.image.vmdk.VmdkOracle.qemuImg;
import static org.jv2v.image.vmdk.VmdkOracle.qemuIo;

/** Every layout qemu-img can make, with data written by qemu-io, read back as qemu-img reads it. */
class VmdkQemuTest {
    @TempDir
    Path dir;
    Path src;
    Path work;

    @BeforeEach
    void setUp() throws IOException {
        Tools.require("qemu-img", "qemu-io");
        src = Files.createDirectories(dir.resolve("src"));
        work = Files.createDirectories(dir.resolve("work"));
    }

    /**
     * A raw disk of 6 MiB + 1.5 KiB (the last grain is cut short) holding patterns that start and
     * end inside grains, a zero-filled range, and data in the last sectors.
     */
    private Path patternedRaw() throws Exception {
        Path raw = work.resolve("pattern.raw");
        qemuImg("create", "-f", "raw", raw.toString(), String.valueOf((6L << 20) + 1536));
        qemuIo(raw, "raw",
                "write -P 0xab 1M 64k",
                "write -P 0x11 1536k 100k",
                "write -P 0x00 2M 64k",
                "write -P 0x5a 3000k 7k",
                "write -P 0xc3 4M 1M",
                "write -P 0x77 " + ((6L << 20) + 512) + " 1024",
                "write -P 0x01 0 512");
        return raw;
    }

    @ParameterizedTest
    @ValueSource(strings = {"monolithicSparse", "twoGbMaxExtentSparse", "monolithicFlat", "twoGbMaxExtentFlat",
            "streamOptimized"})
    void readsWhatQemuReads(String subformat) throws Exception {
        Path raw = patternedRaw();
        Path vmdk = src.resolve("disk.vmdk");
        qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=" + subformat, raw.toString(), vmdk.toString());
        Map<String, String> before = Checksums.of(src);

        assertSameBytesAsQemu(vmdk, work);
        // flat extents: the holes qemu-img convert left in the -flat file are ZERO for both
        assertStatusAsQemu(vmdk);
        try (OpenedImage img = Images.open(vmdk, org.jv2v.image.OpenContext.of(
                org.jv2v.image.PathGuard.folderOf(vmdk)))) {
            assertThat(img.format()).isEqualTo("vmdk");
            assertThat(img.subformat()).isEqualTo(subformat);
            assertThat(img.backing()).isEmpty();
            assertThat(img.files()).allMatch(Files::exists).contains(vmdk);
        }
        VmdkDescriptor d = VmdkDescriptor.read(vmdk);
        assertThat(d.createType()).isEqualTo(subformat);
        assertThat(d.virtualSize()).isEqualTo(Files.size(raw));
        assertThat(d.parentCid()).isEqualTo(VmdkDescriptor.NO_PARENT);
        assertThat(d.adapterType()).contains("ide");
        assertThat(Checksums.of(src)).as("source files unchanged").isEqualTo(before);
    }

    @Test
    void concurrentRandomReadsOfCompressedGrainsAgree() throws Exception {
        Path raw = patternedRaw();
        Path vmdk = src.resolve("s.vmdk");
        qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw.toString(), vmdk.toString());
        byte[] expected = Files.readAllBytes(raw);
        try (OpenedImage img = open(vmdk)) {
            var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long seed = t;
                done.add(pool.submit(() -> {
                    java.util.Random r = new java.util.Random(seed);
                    for (int i = 0; i < 300; i++) {
                        int len = 1 + r.nextInt(i % 3 == 0 ? 3 << 20 : 70_000);
                        int off = r.nextInt(expected.length - len + 1);
                        java.nio.ByteBuffer b = (i % 2 == 0) ? java.nio.ByteBuffer.allocateDirect(len)
                                : java.nio.ByteBuffer.allocate(len);
                        img.device().read(b, off);
                        b.flip();
                        assertThat(b).as("read at " + off + " +" + len)
                                .isEqualTo(java.nio.ByteBuffer.wrap(expected, off, len));
                    }
                    return null;
                }));
            }
            for (var f : done) {
                f.get();
            }
            pool.shutdown();
        }
    }

    @Test
    void zeroedGrainsReadAsZeroAndReportZero() throws Exception {
        Path vmdk = src.resolve("z.vmdk");
        qemuImg("create", "-f", "vmdk", "-o", "zeroed_grain=on", vmdk.toString(), "4M");
        qemuIo(vmdk, "vmdk", "write -P 0xee 0 2M", "write -z 512k 128k", "write -z 3M 64k", "write -P 0x42 3200k 4k");
        assertSameBytesAsQemu(vmdk, work);
        assertStatusAsQemu(vmdk);
        try (OpenedImage img = open(vmdk)) {
            List<Extent> s = VmdkOracle.status(img.device());
            assertThat(s).contains(new Extent(512 << 10, 128 << 10, ExtentType.ZERO));
        }
    }

    @Test
    void hostedSnapshotChainMergesLayers() throws Exception {
        Path base = src.resolve("base.vmdk");
        Path mid = src.resolve("mid.vmdk");
        Path top = src.resolve("top.vmdk");
        qemuImg("create", "-f", "vmdk", "-o", "zeroed_grain=on", base.toString(), "5M");
        qemuIo(base, "vmdk", "write -P 0xb0 0 3M", "write -P 0xb1 4M 512k");
        qemuImg("create", "-f", "vmdk", "-o", "zeroed_grain=on", "-b", "base.vmdk", "-F", "vmdk", mid.toString());
        qemuIo(mid, "vmdk", "write -P 0xc0 1M 100k", "write -z 2M 128k", "write -P 0xc1 3500k 4k");
        qemuImg("create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", "-b", "mid.vmdk", "-F", "vmdk",
                top.toString());
        qemuIo(top, "vmdk", "write -P 0xd0 1050k 8k", "write -P 0xd1 4600k 64k");
        Map<String, String> before = Checksums.of(src);

        assertSameBytesAsQemu(top, work);
        assertStatusAsQemu(top);
        assertSameBytesAsQemu(mid, work);
        try (OpenedImage img = open(top)) {
            assertThat(img.chain()).extracting(OpenedImage::file).containsExactly(top, mid, base);
            assertThat(img.subformat()).isEqualTo("twoGbMaxExtentSparse");
        }
        VmdkDescriptor d = VmdkDescriptor.read(top);
        assertThat(d.parentFileNameHint()).contains("mid.vmdk");
        assertThat(d.parentCid()).isEqualTo(VmdkDescriptor.read(mid).cid());
        assertThat(d.parentPath(org.jv2v.image.PathGuard.folderOf(top))).contains(mid.toAbsolutePath());
        assertThat(VmdkDescriptor.chain(top, org.jv2v.image.OpenContext.of(org.jv2v.image.PathGuard.folderOf(top))))
                .extracting(x -> x.file().getFileName().toString())
                .containsExactly("top.vmdk", "mid.vmdk", "base.vmdk");
        assertThat(Checksums.of(src)).isEqualTo(before);
    }

    @Test
    void largeSplitDiskMapsExtentsInOrder() throws Exception {
        // 2 GiB + 3 MiB: two sparse pieces; data across the 2 GiB boundary and in the second piece
        Path vmdk = src.resolve("big.vmdk");
        qemuImg("create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", vmdk.toString(),
                String.valueOf((2L << 30) + (3L << 20)));
        qemuIo(vmdk, "vmdk", "write -P 0x21 0 64k", "write -P 0x22 " + ((2L << 30) - 32768) + " 64k",
                "write -P 0x23 " + ((2L << 30) + (2L << 20)) + " 1M");
        VmdkDescriptor d = VmdkDescriptor.read(vmdk);
        assertThat(d.extents()).hasSize(2);
        assertSameBytesAsQemu(vmdk, work);
        assertStatusAsQemu(vmdk);
    }

    @Test
    void multiExtentDescriptorMixesFlatAndSparse() throws Exception {
        Path flatRaw = src.resolve("pieces-flat.bin");
        qemuImg("create", "-f", "raw", flatRaw.toString(), "3M");
        qemuIo(flatRaw, "raw", "write -P 0x31 0 1M", "write -P 0x32 1M 1M", "write -P 0x33 2M 1M");
        Path sparse = src.resolve("piece-s.vmdk");
        qemuImg("create", "-f", "vmdk", sparse.toString(), "2M");
        qemuIo(sparse, "vmdk", "write -P 0x34 64k 64k");
        Path desc = src.resolve("multi.vmdk");
        Files.writeString(desc, """
                # Disk DescriptorFile
                version=1
                CID=12345678
                parentCID=ffffffff
                createType="monolithicFlat"

                # Extent description
                RW 2048 FLAT "pieces-flat.bin" 2048
                RW 4096 SPARSE "piece-s.vmdk"
                RDONLY 1024 FLAT "pieces-flat.bin" 0

                # The Disk Data Base
                #DDB
                ddb.adapterType = "lsilogic"
                ddb.geometry.cylinders = "3"
                ddb.geometry.heads = "16"
                ddb.geometry.sectors = "63"
                """);
        Path same = src.resolve("multi-rw.vmdk");
        Files.writeString(same, Files.readString(desc).replace("RDONLY", "RW"));   // qemu skips RDONLY lines
        Path ref = work.resolve("ref.raw");
        qemuImg("convert", "-f", "vmdk", "-O", "raw", same.toString(), ref.toString());
        try (OpenedImage img = open(desc)) {
            VmdkOracle.assertSameBytes(img.device(), ref);
            assertThat(img.files()).containsExactly(desc, flatRaw.toAbsolutePath().normalize(), sparse);
        }
        VmdkDescriptor d = VmdkDescriptor.read(desc);
        assertThat(d.geometry()).contains(new VmdkDescriptor.Geometry(3, 16, 63));
        assertThat(d.adapterType()).contains("lsilogic");
        assertThat(d.extents()).extracting(VmdkDescriptor.ExtentLine::kind).containsExactly(
                VmdkDescriptor.ExtentKind.FLAT, VmdkDescriptor.ExtentKind.SPARSE, VmdkDescriptor.ExtentKind.FLAT);
        assertThat(d.virtualSize()).isEqualTo(7L * 512 * 1024);
    }

    @Test
    void zeroExtentReadsZerosLikeAFlatExtentOfZeros() throws Exception {
        Path data = src.resolve("d-flat.vmdk");
        qemuImg("create", "-f", "raw", data.toString(), "2M");
        qemuIo(data, "raw", "write -P 0x44 0 2M");
        Path zeros = work.resolve("zeros.bin");
        qemuImg("create", "-f", "raw", zeros.toString(), "1M");
        String template = """
                # Disk DescriptorFile
                version=1
                CID=fffffffe
                parentCID=ffffffff
                createType="monolithicFlat"
                RW 2048 FLAT "%s" 0
                %s
                RW 2048 FLAT "%s" 0
                """;
        Path withZero = src.resolve("z.vmdk");
        Files.writeString(withZero, template.formatted("d-flat.vmdk", "RW 2048 ZERO", "d-flat.vmdk"));
        Path twin = work.resolve("twin.vmdk");
        Files.copy(data, work.resolve("d-flat.vmdk"));
        Files.writeString(twin, template.formatted("d-flat.vmdk", "RW 2048 FLAT \"zeros.bin\" 0", "d-flat.vmdk"));
        Path ref = work.resolve("ref.raw");
        qemuImg("convert", "-f", "vmdk", "-O", "raw", twin.toString(), ref.toString());
        try (OpenedImage img = open(withZero)) {
            VmdkOracle.assertSameBytes(img.device(), ref);
            assertThat(VmdkOracle.status(img.device())).containsExactly(
                    new Extent(0, 1 << 20, ExtentType.DATA), new Extent(1 << 20, 1 << 20, ExtentType.ZERO),
                    new Extent(2 << 20, 1 << 20, ExtentType.DATA));
        }
    }

    @Test
    void readsTheDiskOfAnOvaInPlace() throws Exception {
        Tools.require("tar");
        Path raw = patternedRaw();
        Path pack = Files.createDirectories(work.resolve("pack"));
        Path disk = pack.resolve("disk1.vmdk");
        qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw.toString(), disk.toString());
        Files.writeString(pack.resolve("vm.ovf"), "<?xml version=\"1.0\"?><Envelope/>\n");
        Path ova = src.resolve("vm.ova");
        Tools.run("tar", "-C", pack.toString(), "-cf", ova.toString(), "vm.ovf", "disk1.vmdk");
        long offset = -1;
        long length = -1;
        try (var tar = new org.apache.commons.compress.archivers.tar.TarFile(ova)) {
            for (var e : tar.getEntries()) {
                if (e.getName().equals("disk1.vmdk")) {
                    offset = e.getDataOffset();
                    length = e.getSize();
                }
            }
        }
        assertThat(offset).isPositive();
        Map<String, String> before = Checksums.of(src);
        Path ref = work.resolve("ref.raw");
        qemuImg("convert", "-f", "vmdk", "-O", "raw", disk.toString(), ref.toString());
        try (OpenedImage img = new VmdkFormat().openMember(ova, offset, length, "disk1.vmdk")) {
            assertThat(img.subformat()).isEqualTo("streamOptimized");
            VmdkOracle.assertSameBytes(img.device(), ref);
        }
        // a member cut short names the archive, the member and an absolute offset
        try (OpenedImage img = new VmdkFormat().openMember(ova, offset, length / 2, "disk1.vmdk")) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 << 20);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
                for (long off = 0; off < img.device().size(); off += b.capacity()) {
                    img.device().read(b.clear().limit((int) Math.min(b.capacity(), img.device().size() - off)), off);
                }
            })
                    .isInstanceOf(org.jv2v.BadInputException.class)
                    .hasMessageStartingWith(ova + ": disk1.vmdk: ").hasMessageContaining("at offset 0x");
        }
        assertThat(Checksums.of(src)).isEqualTo(before);
    }

    @Test
    void probesByContentNotByName() throws Exception {
        Path sparse = src.resolve("a.img");
        qemuImg("create", "-f", "vmdk", sparse.toString(), "1M");
        Path desc = src.resolve("b.txt");
        qemuImg("create", "-f", "vmdk", "-o", "subformat=monolithicFlat", desc.toString(), "1M");
        Path notVmdk = src.resolve("c.vmdk");
        Files.write(notVmdk, new byte[4096]);
        VmdkFormat f = new VmdkFormat();
        assertThat(probe(f, sparse)).isEqualTo(100);
        assertThat(probe(f, desc)).isEqualTo(100);
        assertThat(probe(f, notVmdk)).isZero();
        assertThat(probe(f, src.resolve("b-flat.txt"))).isZero();
        assertThat(Images.probe(sparse).name()).isEqualTo("vmdk");
        assertThat(Images.probe(desc).name()).isEqualTo("vmdk");
    }

    static int probe(VmdkFormat f, Path file) throws IOException {
        byte[] head = Files.readAllBytes(file);
        int n = Math.min(head.length, 65536);
        return f.probe(java.nio.ByteBuffer.wrap(head, 0, n).slice(), file, Files.size(file));
    }
}
