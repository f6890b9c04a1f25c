package org.jv2v.image.qcow2;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.testing.Checksums;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reads images that qemu-img and qemu-io made at test time, and checks every byte against
 * {@code qemu-img convert -O raw} and the block status against {@code qemu-img map}.
 */
class Qcow2ReaderTest {
    @TempDir
    Path dir;

    @BeforeEach
    void tools() {
        org.jv2v.testing.Tools.require("qemu-img", "qemu-io");
    }

    /** Opens {@code image}, compares bytes and status with qemu's, and checks no source file changed. */
    private OpenedImage verify(Path image) throws Exception {
        return verify(image, true);
    }

    /**
     * As {@link #verify(Path)}; with {@code exactZeroKinds} false, the status is checked for
     * soundness instead of equality (for backing files of other formats, whose readers may call a
     * hole either kind, and which find holes in the file inside VHD and VHDX blocks where qemu does
     * not look): DATA only where qemu-img map says data, every other range reads as zeros.
     */
    private OpenedImage verify(Path image, boolean exactZeroKinds) throws Exception {
        Path raw = Qemu.toRaw(image);
        Path sources = Files.createDirectories(dir.resolve("sources-snapshot-marker")).getParent();
        Map<String, String> before = Checksums.of(sources);
        before.keySet().removeIf(k -> k.endsWith(".expected.raw"));
        try (OpenedImage img = Images.open(image, OpenContext.of(PathGuard.folderOf(image)))) {
            assertThat(img.format()).isEqualTo("qcow2");
            Qemu.assertSameBytes(img.device(), raw);
            if (exactZeroKinds) {
                assertThat(Qemu.status(img.device())).isEqualTo(Qemu.map(image));
            } else {
                org.jv2v.testing.DeviceChecks.assertStatusConsistent(img.device(), raw,
                        org.jv2v.testing.DeviceChecks.qemuMap(image, "qcow2"), false);
            }
            Files.delete(raw);
            Map<String, String> after = Checksums.of(sources);
            after.keySet().removeIf(k -> k.endsWith(".expected.raw"));
            assertThat(after).as("source files untouched").isEqualTo(before);
            return img;
        }
    }

    /** DATA extents and the zero-reading ones between them, merged. */
    private static List<org.jv2v.image.Extent> dataOnly(List<org.jv2v.image.Extent> extents) {
        List<org.jv2v.image.Extent> out = new ArrayList<>();
        for (var e : extents) {
            Extent.append(out, e.offset(), e.length(), e.type() == ExtentType.DATA ? ExtentType.DATA
                    : ExtentType.ZERO);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.10", "1.1"})
    void readsWritesZerosAndHolesOfBothVersions(String compat) throws Exception {
        Path img = dir.resolve("v" + compat + ".qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "compat=" + compat, img.toString(), "5M");
        Qemu.io(img, "write -P 0x11 0 64k", "write -P 0x22 100k 3k", "write -P 0x33 1M 1M",
                "write -z 1536k 128k", "write -P 0x44 4095k 1k", "write -P 0x55 5119k 1k");
        OpenedImage opened = verify(img);
        assertThat(opened.subformat()).isEqualTo(compat.equals("1.1") ? "v3" : "v2");
    }

    @Test
    void zeroClustersAreZeroInBlockStatus() throws Exception {
        Path img = dir.resolve("zero.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", img.toString(), "2M");
        Qemu.io(img, "write -P 0x77 0 1M", "write -z 256k 256k", "write -z 1536k 64k");
        verify(img);
        try (OpenedImage o = Images.open(img, OpenContext.of(PathGuard.folderOf(img)))) {
            assertThat(Qemu.status(o.device())).extracting(e -> e.type()).containsExactly(ExtentType.DATA,
                    ExtentType.ZERO, ExtentType.DATA, ExtentType.UNALLOCATED, ExtentType.ZERO,
                    ExtentType.UNALLOCATED);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"512", "4k", "2M"})
    void readsOtherClusterSizes(String clusterSize) throws Exception {
        Path img = dir.resolve("cs" + clusterSize + ".qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "cluster_size=" + clusterSize, img.toString(), "6M");
        Qemu.io(img, "write -P 0x61 0 10k", "write -P 0x62 2047k 3k", "write -z 3M 512k", "write -P 0x63 5M 700k");
        verify(img);
    }

    @ParameterizedTest
    @ValueSource(strings = {"zlib", "zstd"})
    void readsCompressedClusters(String type) throws Exception {
        Path src = dir.resolve("src.raw");
        try (var ch = java.nio.channels.FileChannel.open(src, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(Qemu.mixed(1, 3 << 20)), 0);
            ch.write(ByteBuffer.wrap(Qemu.random(2, 200 << 10)), 4 << 20); // does not compress
            ch.write(ByteBuffer.wrap(Qemu.mixed(3, 100_000)), (6 << 20) - 100_000); // ends the disk
        }
        Path img = dir.resolve(type + ".qcow2");
        Qemu.img("convert", "-c", "-O", "qcow2", "-o", "compression_type=" + type, src.toString(), img.toString());
        verify(img);
        assertThat(Qemu.img("info", img.toString()).stdout()).contains("compression type: " + type);
        // Rewrite part of a compressed cluster, as a guest would: qemu decompresses and stores it plain.
        Qemu.io(img, "write -P 0x99 70k 1k");
        verify(img);
    }

    @Test
    void readsSubclustersOfExtendedL2Entries() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", base.toString(), "4M");
        Qemu.io(base, "write -P 0x0b 0 4M");
        Path img = dir.resolve("ext.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=64k", "-b", base.getFileName()
                .toString(), "-F", "qcow2", img.toString(), "4M");
        // 64 KiB clusters have 2 KiB subclusters: allocate, zero and leave some of each cluster.
        Qemu.io(img, "write -P 0x01 2k 2k", "write -P 0x02 10k 6k", "write -z 20k 4k", "write -P 0x03 1M 64k",
                "write -z 2M 96k", "write -P 0x04 3M 1k");
        verify(img);
        assertThat(Qemu.img("info", img.toString()).stdout()).contains("extended l2: true");
    }

    @Test
    void readsBackingChainsWhoseLayersDiffer() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "compat=0.10", base.toString(), "3M");
        Qemu.io(base, "write -P 0xb0 0 3M");
        Path mid = dir.resolve("mid.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", "-b", "base.qcow2", "-F", "qcow2",
                mid.toString(), "4M");
        Qemu.io(mid, "write -P 0xa1 64k 64k", "write -z 512k 100k", "write -P 0xa2 3M 8k");
        Path top = dir.resolve("top.qcow2");
        // larger than its backing file: beyond 4M the chain reads zeros
        Qemu.img("create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", top.toString(), "6M");
        Qemu.io(top, "write -P 0xc1 96k 32k", "write -z 1M 64k", "write -P 0xc2 5M 4k");
        OpenedImage opened = verify(top);
        assertThat(opened.chain()).extracting(OpenedImage::file).containsExactly(top, mid, base);
    }

    @Test
    void readsBackingFileWithoutFormatByProbing() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", base.toString(), "1M");
        Qemu.io(base, "write -P 0x5a 0 512k");
        Path top = dir.resolve("top.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top.toString(), "1M");
        // drop the backing format (its extension becomes an unknown one): jv2v must probe the file's content
        Patch.retypeExtension(top, HeaderExtensions.BACKING_FORMAT, 0x7e570000);
        assertThat(Qemu.img("info", top.toString()).stdout()).doesNotContain("backing file format");
        Qemu.io(top, "write -P 0x6b 64k 64k");
        Path raw = dir.resolve("expected.raw");
        Qemu.img("convert", "-f", "qcow2", "-O", "raw", top.toString(), raw.toString());
        try (OpenedImage img = Images.open(top, OpenContext.of(PathGuard.folderOf(top)))) {
            Qemu.assertSameBytes(img.device(), raw);
            assertThat(img.backing()).isPresent();
        }
    }

    @Test
    void readsRawBackingFiles() throws Exception {
        Assumptions.assumeTrue(Images.formats().stream().anyMatch(f -> f.name().equals("raw")),
                "the raw format is not registered in this build");
        Path base = dir.resolve("base.raw");
        Files.write(base, Qemu.mixed(9, 1 << 20));
        Path top = dir.resolve("top.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", top.toString(), "2M");
        Qemu.io(top, "write -P 0x6b 64k 64k", "write -z 128k 64k");
        verify(top);
    }

    /** backing_fmt names qemu's format ("vpc", "vhdx", "vmdk"); the backing file is opened as that format. */
    @ParameterizedTest
    @ValueSource(strings = {"vpc", "vhdx", "vmdk"})
    void readsBackingFilesOfOtherFormats(String format) throws Exception {
        Path base = dir.resolve("base." + format);
        Qemu.img("create", "-q", "-f", format, base.toString(), "4M");
        org.jv2v.testing.Tools.run("qemu-io", "-f", format, "-c", "write -P 0x3c 0 3M", base.toString());
        long baseSize = Long.parseLong(Qemu.img("info", "--output=json", base.toString()).stdout()
                .replaceAll("(?s).*\"virtual-size\": (\\d+).*", "$1"));
        Path top = dir.resolve("top.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-b", base.getFileName().toString(), "-F", format, top.toString(),
                Long.toString(baseSize + (1 << 20)));
        Qemu.io(top, "write -P 0x4d 64k 64k", "write -z 1M 64k");
        OpenedImage opened = verify(top, false);
        if (format.equals("vmdk")) {
            // qemu and jv2v both take a sparse VMDK's grains as they are: the same data, exactly
            try (OpenedImage img = Images.open(top, OpenContext.of(PathGuard.folderOf(top)))) {
                assertThat(dataOnly(Qemu.status(img.device()))).isEqualTo(dataOnly(Qemu.map(top)));
            }
        }
        assertThat(opened.backing().orElseThrow().format()).isEqualTo(format.equals("vpc") ? "vhd" : format);
    }

    @Test
    void readsMetadataPreallocatedImages() throws Exception {
        Path img = dir.resolve("prealloc.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", img.toString(), "3M");
        Qemu.io(img, "write -P 0x42 1M 4k");
        verify(img);
    }

    @Test
    void readsFromManyThreadsAtOnce() throws Exception {
        Path src = dir.resolve("src.raw");
        Files.write(src, Qemu.mixed(5, 4 << 20));
        Path img = dir.resolve("c.qcow2");
        Qemu.img("convert", "-c", "-O", "qcow2", src.toString(), img.toString());
        byte[] expected = Files.readAllBytes(src);
        try (OpenedImage o = Images.open(img, OpenContext.of(PathGuard.folderOf(img)));
             ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int seed = t;
                results.add(pool.submit(() -> {
                    java.util.Random rnd = new java.util.Random(seed);
                    for (int k = 0; k < 200; k++) {
                        int off = rnd.nextInt(expected.length - 1);
                        int len = 1 + rnd.nextInt(Math.min(200_000, expected.length - off));
                        ByteBuffer b = ByteBuffer.allocate(len);
                        o.device().read(b, off);
                        if (b.flip().mismatch(ByteBuffer.wrap(expected, off, len)) >= 0) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) {
                assertThat(f.get()).isTrue();
            }
        }
    }

    @Test
    void probesByContentNotName() throws Exception {
        Path img = dir.resolve("disk.img");
        Qemu.img("create", "-q", "-f", "qcow2", img.toString(), "1M");
        assertThat(Images.probe(img).name()).isEqualTo("qcow2");
        Qcow2Format f = new Qcow2Format();
        ByteBuffer head = ByteBuffer.wrap(Files.readAllBytes(img));
        assertThat(f.probe(head, img, Files.size(img))).isEqualTo(100);
        ByteBuffer notQcow = ByteBuffer.allocate(512);
        assertThat(f.probe(notQcow, img, 512)).isZero();
    }

    @Test
    void readsPartsOfAnyAlignment() throws Exception {
        Path img = dir.resolve("a.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", img.toString(), "1M");
        Qemu.io(img, "write -P 0x10 1000 5000", "write -P 0x20 9000 100");
        byte[] expected = new byte[1 << 20];
        java.util.Arrays.fill(expected, 1000, 6000, (byte) 0x10);
        java.util.Arrays.fill(expected, 9000, 9100, (byte) 0x20);
        try (OpenedImage o = Images.open(img, OpenContext.of(PathGuard.folderOf(img)))) {
            for (int off : new int[] {0, 1, 999, 4095, 4096, 8999}) {
                for (int len : new int[] {0, 1, 3, 4096, 9000}) {
                    ByteBuffer b = ByteBuffer.allocate(len + 7).position(7);
                    o.device().read(b, off);
                    assertThat(b.position()).isEqualTo(len + 7);
                    assertThat(b.flip().position(7).mismatch(ByteBuffer.wrap(expected, off, len))).isEqualTo(-1);
                }
            }
            assertThat(o.device().blockStatus(5000, 100)).singleElement()
                    .satisfies(e -> assertThat(e.offset()).isEqualTo(5000));
        }
    }
}
