package org.jv2v.image.vmdk;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.vmdk.EsxiImages.Delta;
import org.jv2v.image.vmdk.EsxiImages.Grain;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jv2v.image.vmdk.VmdkOracle.open;
import static org.jv2v.image.vmdk.VmdkOracle.qemuImg;

/**
 * The layouts ESXi and OVF Tool write and qemu-img cannot make, built to their specification by
 * {@link EsxiImages}: jv2v must read what the model holds, and what qemu-img reads from the same files.
 */
class VmdkEsxiTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;
    Path src;
    Path work;

    @BeforeEach
    void setUp() throws IOException {
        Tools.require("qemu-img");
        src = Files.createDirectories(dir.resolve("src"));
        work = Files.createDirectories(dir.resolve("work"));
    }

    /** Random bytes with zero and compressible stretches, like a real disk. */
    static byte[] disk(int size, long seed) {
        byte[] b = new byte[size];
        Random r = new Random(seed);
        r.nextBytes(b);
        Arrays.fill(b, size / 4, size / 4 + 300_000, (byte) 0);
        for (int i = size / 2; i < size / 2 + 200_000; i++) {
            b[i] = (byte) (i % 7 == 0 ? 'x' : 'a' + i % 13);
        }
        return b;
    }

    /** Checks jv2v against qemu-img and both against the model's bytes; qemu-img check finds no error. */
    private void assertReads(Path image, byte[] expected) throws Exception {
        assertThat(org.jv2v.testing.Run.checked(List.of("qemu-img", "check", image.toString())).stdout())
                .contains("No errors were found");
        Path model = work.resolve(image.getFileName() + ".model.raw");
        Files.write(model, expected);
        try (OpenedImage img = open(image)) {
            VmdkOracle.assertSameBytes(img.device(), model);
            // every extent was read: each layer's data file is open, and only for reading
            assertThat(org.jv2v.testing.OpenFiles.assertReadOnly(src)).hasSizeGreaterThanOrEqualTo(img.chain().size());
        }
        VmdkOracle.assertSameBytesAsQemu(image, work);
        Files.delete(model);
    }

    /**
     * Issue 3: the layout converts with {@code jv2v image convert} to raw and to qcow2; qemu-img
     * compare (reading the source itself) finds each copy identical, qemu-img check the qcow2 clean.
     */
    private void assertConverts(Path image) throws Exception {
        for (String out : List.of("raw", "qcow2")) {
            Path dst = work.resolve("converted." + out);
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            int code = org.jv2v.cli.Main.run(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()),
                    new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8),
                    "image", "convert", "--verify", "-O", out, image.toString(), dst.toString());
            assertThat(code).as(image + " -> " + out + ": " + err).isZero();
            org.jv2v.testing.Run.Result cmp = org.jv2v.testing.Run.run(List.of("qemu-img", "compare", "-f", "vmdk",
                    "-F", out, image.toString(), dst.toString()));
            assertThat(cmp.exitCode()).as(image + " -> " + out + ": " + cmp.all()).isZero();
            if (out.equals("qcow2")) {
                assertThat(org.jv2v.testing.Run.checked(List.of("qemu-img", "check", dst.toString())).stdout())
                        .contains("No errors were found");
            }
            Files.delete(dst);
        }
    }

    @Test
    void vmfsFlatAndThin() throws Exception {
        byte[] data = disk(4 * MIB, 1);
        Path vmfs = EsxiImages.vmfsFlat(src, "esx", data, "vmfs", 0x1a2b3c4dL, false);
        Path thinDir = Files.createDirectories(src.resolve("thin"));
        Path thin = EsxiImages.vmfsFlat(thinDir, "thin", data, "vmfsThin", 0x11111111L, true);
        Map<String, String> before = Checksums.of(src);
        assertReads(vmfs, data);
        assertConverts(vmfs);

        // thin: same descriptor but createType vmfsThin (qemu refuses the name: compare with its vmfs twin)
        Path twin = work.resolve("thin.vmdk");
        Files.copy(thinDir.resolve("thin-flat.vmdk"), work.resolve("thin-flat.vmdk"));
        Files.writeString(twin, Files.readString(thin).replace("vmfsThin", "vmfs"));
        Path ref = work.resolve("thin.raw");
        qemuImg("convert", "-f", "vmdk", "-O", "raw", twin.toString(), ref.toString());
        try (OpenedImage img = open(thin)) {
            assertThat(img.subformat()).isEqualTo("vmfsThin");
            VmdkOracle.assertSameBytes(img.device(), ref);
        }
        assertConverts(twin); // a flat file with holes: found by SEEK_DATA, skipped, still identical
        VmdkDescriptor d = VmdkDescriptor.read(vmfs);
        assertThat(d.cid()).isEqualTo(0x1a2b3c4dL);
        assertThat(d.extents().getFirst().kind()).isEqualTo(VmdkDescriptor.ExtentKind.VMFS);
        assertThat(d.adapterType()).contains("lsilogic");
        assertThat(d.geometry()).contains(new VmdkDescriptor.Geometry(16, 255, 63));
        assertThat(d.ddb()).containsEntry("virtualHWVersion", "14");
        assertThat(Checksums.of(src)).isEqualTo(before);
    }

    @Test
    void vmfsSparseDeltaOverFlatBase() throws Exception {
        byte[] base = disk(3 * MIB, 2);
        EsxiImages.vmfsFlat(src, "vm", base, "vmfs", 0x0000abcdL, false);
        byte[] mine = disk(3 * MIB, 3);
        TreeMap<Long, Grain> grains = new TreeMap<>();
        // 512-byte grains as ESX writes them: scattered single sectors, a run, the last sector,
        // and one grain beyond the first table (4096 grains = 2 MiB)
        for (long g : new long[]{0, 1, 7, 100, 4095, 4096, 4097, 6143}) {
            grains.put(g, Grain.DATA);
        }
        for (long g = 2000; g < 2300; g++) {
            grains.put(g, Grain.DATA);
        }
        Delta delta = new Delta(3 * MIB / 512, 1, mine, grains);
        Path top = EsxiImages.cowdDelta(src, "vm-000001", delta, "vm.vmdk", 0x0000abcdL, 0x00001234L);
        Map<String, String> before = Checksums.of(src);

        assertReads(top, delta.over(base));
        VmdkOracle.assertStatusAsQemu(top);
        assertConverts(top);
        try (OpenedImage img = open(top)) {
            assertThat(img.subformat()).isEqualTo("vmfsSparse");
            assertThat(img.chain()).hasSize(2);
            assertThat(img.backing().orElseThrow().subformat()).isEqualTo("vmfs");
            org.jv2v.testing.DeviceChecks.assertInfoShowsTheChain(top, "vmdk", List.of("vmfsSparse", "vmfs"),
                    List.of(top, src.resolve("vm.vmdk")));
            assertThat(img.files()).extracting(p -> p.getFileName().toString())
                    .containsExactly("vm-000001.vmdk", "vm-000001-delta.vmdk");
        }
        assertThat(Checksums.of(src)).isEqualTo(before);
    }

    @Test
    void seSparseChainOverFlatBase() throws Exception {
        int size = 20 * MIB;       // more than one 16 MiB grain table
        byte[] base = disk(size, 4);
        EsxiImages.vmfsFlat(src, "vm", base, "vmfs", 0x00000001L, false);
        TreeMap<Long, Grain> g1 = new TreeMap<>();
        for (long g = 10; g < 40; g++) {
            g1.put(g, Grain.DATA);
        }
        g1.put(100L, Grain.ZERO);
        g1.put(101L, Grain.UNMAPPED);
        g1.put(4095L, Grain.DATA);
        g1.put(4096L, Grain.DATA);          // second grain table
        g1.put(5119L, Grain.DATA);          // the last grain
        Delta d1 = new Delta(size / 512, 8, disk(size, 5), g1);
        EsxiImages.seSparseDelta(src, "vm-000001", d1, "vm.vmdk", 0x00000001L, 0x00000002L);
        TreeMap<Long, Grain> g2 = new TreeMap<>();
        g2.put(12L, Grain.ZERO);
        g2.put(13L, Grain.DATA);
        g2.put(200L, Grain.DATA);
        g2.put(4096L, Grain.UNMAPPED);
        Delta d2 = new Delta(size / 512, 8, disk(size, 6), g2);
        Path top = EsxiImages.seSparseDelta(src, "vm-000002", d2, "vm-000001.vmdk", 0x00000002L, 0x00000003L);
        Map<String, String> before = Checksums.of(src);

        assertReads(top, d2.over(d1.over(base)));
        VmdkOracle.assertStatusAsQemu(top);
        assertConverts(top);
        try (OpenedImage img = open(top)) {
            assertThat(img.chain()).extracting(OpenedImage::subformat).containsExactly("seSparse", "seSparse", "vmfs");
            org.jv2v.testing.DeviceChecks.assertInfoShowsTheChain(top, "vmdk", List.of("seSparse", "seSparse", "vmfs"),
                    List.of(top, src.resolve("vm-000001.vmdk"), src.resolve("vm.vmdk")));
            List<Extent> s = VmdkOracle.status(img.device());
            assertThat(s).contains(new Extent(12 * 4096, 4096, ExtentType.ZERO),
                    new Extent(100 * 4096, 2 * 4096, ExtentType.ZERO));
        }
        assertThat(Checksums.of(src)).isEqualTo(before);
    }

    @Test
    void streamOptimizedWithFooterAsOvfToolWritesIt() throws Exception {
        byte[] data = disk(5 * MIB + 3 * 512, 7);     // the last grain is cut short
        Arrays.fill(data, 3 * MIB, 4 * MIB + 4096, (byte) 0);
        Path ova = EsxiImages.streamOptimized(src.resolve("disk1.vmdk"), data);
        Map<String, String> before = Checksums.of(src);
        assertReads(ova, data);
        VmdkOracle.assertStatusAsQemu(ova);
        assertConverts(ova);
        try (OpenedImage img = open(ova)) {
            assertThat(img.subformat()).isEqualTo("streamOptimized");
            List<Extent> s = VmdkOracle.status(img.device());
            assertThat(s).contains(new Extent(3 * MIB, MIB, ExtentType.UNALLOCATED));
        }
        assertThat(VmdkDescriptor.read(ova).embedded()).isTrue();
        assertThat(Checksums.of(src)).isEqualTo(before);
    }

    @Test
    void hostedSparseWithUnusualGrainAndTableSizes() throws Exception {
        byte[] data = disk(3 * MIB + 2048, 10);     // capacity not a multiple of the grain
        java.util.Set<Long> grains = new java.util.TreeSet<>();
        for (long g = 0; g < data.length / 4096 + 1; g += 3) {
            grains.add(g);                           // every third 4 KiB grain, the last one cut short
        }
        grains.add((long) (data.length - 1) / 4096);
        Path vmdk = EsxiImages.hostedSparse(src.resolve("odd.vmdk"), data, 8, 32, grains);
        byte[] expected = new byte[data.length];
        for (long g : grains) {
            int at = (int) (g * 4096);
            System.arraycopy(data, at, expected, at, Math.min(4096, data.length - at));
        }
        assertReads(vmdk, expected);
        VmdkOracle.assertStatusAsQemu(vmdk);
        assertConverts(vmdk);
    }

    @Test
    void parentHintWithDatastorePathFallsBackToTheFolder() throws Exception {
        byte[] base = disk(MIB, 8);
        EsxiImages.vmfsFlat(src, "vm", base, "vmfs", 0x00000005L, false);
        TreeMap<Long, Grain> grains = new TreeMap<>(Map.of(3L, Grain.DATA));
        Delta d = new Delta(MIB / 512, 1, disk(MIB, 9), grains);
        Path top = EsxiImages.cowdDelta(src, "vm-000001", d, "/vmfs/volumes/datastore1/vm/vm.vmdk", 5, 6);
        try (OpenedImage img = open(top)) {
            assertThat(img.backing().orElseThrow().file().getFileName().toString()).isEqualTo("vm.vmdk");
            Path model = work.resolve("m.raw");
            Files.write(model, d.over(base));
            VmdkOracle.assertSameBytes(img.device(), model);
        }
    }
}
