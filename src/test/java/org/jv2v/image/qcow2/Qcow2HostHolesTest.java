package org.jv2v.image.qcow2;

import org.jv2v.copy.CopyOptions;
import org.jv2v.copy.CopyResult;
import org.jv2v.copy.Copier;
import org.jv2v.copy.ProgressListener;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * qcow2 sources whose file has holes under data clusters ({@code preallocation=metadata}, or a
 * hole punched into a plain image): block status says ZERO there exactly where {@code qemu-img
 * map} says "zero", so a copy reads only what was written, and the copy stays identical.
 */
class Qcow2HostHolesTest {
    private static final long MIB = 1 << 20;
    /** What the fixtures below write with non-zero or explicit zero bytes (not write -z). */
    private static final long WRITTEN = 3 * MIB + MIB + 4096 + MIB;

    @TempDir
    Path dir;

    @BeforeEach
    void tools() {
        Tools.require("qemu-img", "qemu-io");
    }

    private Path preallocated(String name, String options) throws Exception {
        Path src = Files.createDirectories(dir.resolve("src")).resolve(name);
        Qemu.img("create", "-q", "-f", "qcow2", "-o", options, src.toString(), "48M");
        Qemu.io(src, "write -P 0x5a 1M 3M", "write -P 0 10M 1M", "write -P 0x11 20M 4k", "write -z 30M 1M",
                "write -P 0x77 47M 1M");
        return src;
    }

    private static OpenedImage open(Path img) throws Exception {
        return Images.open(img, OpenContext.of(PathGuard.folderOf(img)));
    }

    private static long bytesOf(List<Extent> extents, ExtentType type) {
        return extents.stream().filter(e -> e.type() == type).mapToLong(Extent::length).sum();
    }

    @ParameterizedTest
    @CsvSource({"preallocation=metadata", "preallocation=metadata;extended_l2=on",
            "preallocation=metadata;cluster_size=2M", "preallocation=metadata;compat=0.10"})
    void holesUnderDataClustersAreZeroAsQemuSays(String options) throws Exception {
        Path src = preallocated("m.qcow2", options.replace(';', ','));
        Map<String, String> before = Checksums.of(src.getParent());
        Path raw = Qemu.toRaw(src);
        Files.move(raw, dir.resolve("expected.raw"));
        try (OpenedImage img = open(src)) {
            List<Extent> status = Qemu.status(img.device());
            assertThat(status).isEqualTo(Qemu.map(src));
            // every cluster is mapped, yet only what was written (in file system blocks) is data; with
            // 2 MiB clusters qemu writes the partial "write -z" as zeros (one more MiB of data)
            assertThat(bytesOf(status, ExtentType.DATA)).isBetween(WRITTEN - MIB, WRITTEN + MIB + 64 * 1024);
            Qemu.assertSameBytes(img.device(), dir.resolve("expected.raw"));
        }
        assertThat(Checksums.of(src.getParent())).isEqualTo(before);
    }

    @Test
    void aCopyReadsOnlyTheDataAndStaysIdentical() throws Exception {
        Path src = preallocated("m.qcow2", "preallocation=metadata");
        Map<String, String> before = Checksums.of(src.getParent());
        for (String format : List.of("raw", "qcow2")) {
            Path dst = dir.resolve("out." + format);
            CopyResult r;
            try (OpenedImage in = open(src)) {
                r = Copier.copy(in.device(), Images.writer(format), dst, CopyOptions.defaults().withVerify(true),
                        ProgressListener.NONE);
            }
            assertThat(r.verified()).isTrue();
            // before the host file's holes counted, all 48 MiB were read
            assertThat(r.bytesRead()).as("bytes read for %s", format).isLessThanOrEqualTo(WRITTEN + 64 * 1024);
            assertThat(QemuImg.compare(src, dst).exitCode()).as("qemu-img compare %s", format).isZero();
            if (format.equals("qcow2")) {
                Qemu.assertClean(dst);
            }
        }
        assertThat(Checksums.of(src.getParent())).isEqualTo(before);
    }

    /** fallocate reserves extents that read as zeros, but SEEK_DATA calls them data: only holes count, as for qemu. */
    @Test
    void fallocPreallocatedImagesAgreeWithQemu() throws Exception {
        Path src = preallocated("f.qcow2", "preallocation=falloc");
        Path raw = Qemu.toRaw(src);
        try (OpenedImage img = open(src)) {
            assertThat(Qemu.status(img.device())).isEqualTo(Qemu.map(src));
            Qemu.assertSameBytes(img.device(), raw);
        }
    }

    /**
     * qemu asks the file only when the image looks metadata-preallocated (many more clusters in use
     * than the file occupies: qcow2_detect_metadata_preallocation); jv2v always asks, so a hole in
     * an ordinary image is ZERO for jv2v and "data" for qemu. It reads as zeros either way.
     */
    @Test
    void aHolePunchedIntoAPlainImageReadsAsZero() throws Exception {
        Tools.require("fallocate");
        Path data = dir.resolve("data.raw");
        Files.write(data, Qemu.random(7, (int) (8 * MIB)));
        Path src = Files.createDirectories(dir.resolve("src")).resolve("plain.qcow2");
        Qemu.img("convert", "-O", "qcow2", data.toString(), src.toString());
        // qemu-img convert writes the clusters in guest order: one run, and where it lies in the file
        var map = new tools.jackson.databind.ObjectMapper().readTree(
                Qemu.img("map", "--output=json", src.toString()).stdout());
        assertThat(map.size()).isEqualTo(1);
        assertThat(map.get(0).get("length").asLong()).isEqualTo(8 * MIB);
        long host = map.get(0).get("offset").asLong();
        // punch 256 KiB out of the data of guest offset 3 MiB
        Tools.run("fallocate", "-p", "-o", Long.toString(host + 3 * MIB), "-l", Long.toString(256 * 1024),
                src.toString());
        Path raw = Qemu.toRaw(src);
        try (OpenedImage img = open(src)) {
            assertThat(Qemu.map(src)).containsExactly(new Extent(0, 8 * MIB, ExtentType.DATA));
            assertThat(Qemu.status(img.device())).containsExactly(new Extent(0, 3 * MIB, ExtentType.DATA),
                    new Extent(3 * MIB, 256 * 1024, ExtentType.ZERO),
                    new Extent(3 * MIB + 256 * 1024, 5 * MIB - 256 * 1024, ExtentType.DATA));
            Qemu.assertSameBytes(img.device(), raw);
        }
    }

    /**
     * A file cut into more pieces than one answer holds: block status stops short (callers loop) and
     * the whole still equals qemu's map. The data is written straight into the preallocated
     * clusters' host bytes, every other 4 KiB, as a guest file system scattered over them would.
     */
    @Test
    void manyHolesAreAnsweredInBoundedSteps() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src")).resolve("holey.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", src.toString(), "48M");
        var map = new tools.jackson.databind.ObjectMapper().readTree(
                Qemu.img("map", "--output=json", src.toString()).stdout());
        assertThat(map.size()).isEqualTo(1); // all clusters in one host run
        long host = map.get(0).get("offset").asLong();
        int pieces = Qcow2Device.STATUS_EXTENTS_PER_CALL; // data pieces: twice as many extents with the holes
        try (var ch = java.nio.channels.FileChannel.open(src, java.nio.file.StandardOpenOption.WRITE)) {
            byte[] block = Qemu.random(11, 4096);
            for (int i = 0; i < pieces; i++) {
                ch.write(java.nio.ByteBuffer.wrap(block), host + 8192L * i);
            }
        }
        // a zero cluster after the scattered data: the data run is cut short while a new kind of
        // run begins, and nothing after the cut may be described
        Qemu.io(src, "write -z 40M 64k");
        Path raw = Qemu.toRaw(src);
        try (OpenedImage img = open(src)) {
            List<Extent> first = img.device().blockStatus(0, img.device().size());
            assertThat(first.size()).isLessThanOrEqualTo(Qcow2Device.STATUS_EXTENTS_PER_CALL + 1);
            assertThat(first.getLast().end()).isLessThan(32 * MIB);
            org.jv2v.testing.DeviceChecks.allExtents(img.device()); // contiguous, no gap after a cut
            List<Extent> status = Qemu.status(img.device());
            assertThat(status).hasSize(2 * pieces).isEqualTo(Qemu.map(src)); // the zero cluster merges with the holes
            assertThat(bytesOf(status, ExtentType.DATA)).isEqualTo(4096L * pieces);
            Qemu.assertSameBytes(img.device(), raw);
        }
    }

    /** The file system is asked per run of host extents, not per cluster; compressed clusters not at all. */
    @Test
    void theFileIsAskedRarely() throws Exception {
        Path big = Files.createDirectories(dir.resolve("src")).resolve("big.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", big.toString(), "1G");
        Qemu.io(big, "write -P 0x5a 100M 1M", "write -P 0x5b 700M 64k");
        try (OpenedImage img = open(big)) {
            Qcow2Device dev = (Qcow2Device) img.device();
            List<Extent> status = Qemu.status(dev);
            assertThat(bytesOf(status, ExtentType.DATA)).isEqualTo(MIB + 64 * 1024);
            // 16384 data clusters, a handful of host extents: one window from the file's start covers all
            assertThat(dev.holes.counters()[0]).isEqualTo(1);
        }

        Path data = dir.resolve("data.raw");
        Files.write(data, Qemu.mixed(3, (int) (4 * MIB)));
        Path plain = dir.resolve("src").resolve("plain.qcow2");
        Qemu.img("convert", "-O", "qcow2", data.toString(), plain.toString());
        Path compressed = dir.resolve("src").resolve("compressed.qcow2");
        Qemu.img("convert", "-c", "-O", "qcow2", data.toString(), compressed.toString());
        try (OpenedImage p = open(plain); OpenedImage c = open(compressed)) {
            Qemu.status(p.device());
            Qemu.status(p.device());
            // a file without holes: the first window says so, no later lookup asks again
            assertThat(((Qcow2Device) p.device()).holes.counters()[0]).isEqualTo(1);
            assertThat(Qemu.status(c.device())).isEqualTo(Qemu.map(compressed))
                    .containsExactly(new Extent(0, 4 * MIB, ExtentType.DATA));
            assertThat(((Qcow2Device) c.device()).holes.counters()[0]).isZero();
        }
    }
}
