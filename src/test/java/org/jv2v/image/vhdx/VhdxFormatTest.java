package org.jv2v.image.vhdx;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.DeviceChecks;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** VHDX images made by qemu-img and written by qemu-io read exactly as qemu-img reads them. */
class VhdxFormatTest {
    @TempDir
    Path dir;

    @BeforeEach
    void tools() {
        Tools.require("qemu-img", "qemu-io");
    }

    static OpenedImage open(Path file) throws Exception {
        return Images.open(file, OpenContext.of(PathGuard.folderOf(file)));
    }

    /**
     * Reads {@code img} with jv2v and checks it against qemu-img convert (bytes) and qemu-img map
     * (qemu's VHDX driver reports no block status, so its map says "data" everywhere: jv2v's finer
     * answer is checked for soundness against the bytes instead).
     */
    static List<Extent> checkAgainstQemu(Path img, Path dir, String subformat) throws Exception {
        Map<String, String> before = Checksums.of(img.getParent());
        Path raw = DeviceChecks.qemuRaw(img, "vhdx", dir.resolve(img.getFileName() + ".raw"));
        List<Extent> extents;
        try (OpenedImage image = open(img)) {
            assertThat(image.format()).isEqualTo("vhdx");
            assertThat(image.subformat()).isEqualTo(subformat);
            assertThat(image.device().size()).isEqualTo(DeviceChecks.qemuVirtualSize(img, "vhdx"));
            DeviceChecks.assertSameBytes(image.device(), raw);
            extents = DeviceChecks.assertStatusConsistent(image.device(), raw, DeviceChecks.qemuMap(img, "vhdx"),
                    false);
        }
        Files.delete(raw);
        assertThat(Checksums.of(img.getParent())).as("source untouched").isEqualTo(before);
        return extents;
    }

    static boolean isData(List<Extent> extents, long offset, long length) {
        return extents.stream().anyMatch(e -> e.type() == ExtentType.DATA && e.offset() <= offset
                && e.end() >= offset + length);
    }

    @ParameterizedTest
    @CsvSource({"dynamic, 1M", "dynamic, 8M", "fixed, 1M", "fixed, 32M", "dynamic, 0"})
    void createdByQemuImg(String subformat, String blockSize) throws Exception {
        Path src = Files.createDirectory(dir.resolve("src"));
        Path img = src.resolve("disk.vhdx");
        Tools.run("qemu-img", "create", "-q", "-f", "vhdx", "-o", "subformat=" + subformat + ",block_size="
                + blockSize, img.toString(), "40M");
        Tools.run("qemu-io", "-f", "vhdx", "-c", "write -P 0x5a 3M 128k", "-c", "write -z 5M 64k",
                "-c", "write -z 12M 8M", "-c", "write -P 0x33 17M 4k", "-c", "write -P 0x11 40959k 1k",
                img.toString());
        List<Extent> extents = checkAgainstQemu(img, dir, subformat);
        assertThat(isData(extents, 3 << 20, 128 << 10)).isTrue();
        assertThat(isData(extents, 17 << 20, 4 << 10)).isTrue();
        assertThat(isData(extents, (40L << 20) - 1024, 1024)).isTrue();
        if (!blockSize.equals("32M")) { // with 32 MiB blocks the writes touch both blocks of the disk
            assertThat(DeviceChecks.bytesOf(extents, ExtentType.DATA)).as("sparse").isLessThan(40L << 20);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dynamic", "fixed"})
    void convertedByQemuImg(String subformat) throws Exception {
        Path raw = dir.resolve("in.raw");
        Tools.run("qemu-img", "create", "-q", "-f", "raw", raw.toString(), "9M");
        Tools.run("qemu-io", "-f", "raw", "-c", "write -P 0xa1 0 64k", "-c", "write -P 0xb2 2M 1M",
                "-c", "write -P 0xc3 9215k 1k", raw.toString());
        Path src = Files.createDirectory(dir.resolve("src"));
        Path img = src.resolve("conv.vhdx");
        Tools.run("qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=" + subformat, raw.toString(),
                img.toString());
        checkAgainstQemu(img, dir, subformat);
    }

    /**
     * 100 GiB in 1 MiB blocks: block status answers in bounded steps (callers loop), and finds
     * exactly the two 4 KiB writes (qemu extends the file for each new block; the rest of the two
     * blocks are holes in the file).
     */
    @Test
    void largeSparseDiskStatusInBoundedSteps() throws Exception {
        Path img = dir.resolve("big.vhdx");
        Tools.run("qemu-img", "create", "-q", "-f", "vhdx", "-o", "block_size=1M", img.toString(), "100G");
        Tools.run("qemu-io", "-f", "vhdx", "-c", "write -P 0x5a 50G 4k", "-c", "write -P 0x5b 102399M 4k",
                img.toString());
        try (OpenedImage image = open(img)) {
            long size = image.device().size();
            assertThat(image.device().blockStatus(0, size).getLast().end()).isLessThan(size);
            List<Extent> all = DeviceChecks.allExtents(image.device());
            assertThat(all.stream().filter(e -> e.type() == ExtentType.DATA).map(e -> List.of(e.offset(), e.length())))
                    .containsExactly(List.of(50L << 30, 4096L), List.of(size - (1 << 20), 4096L));
        }
    }

    @Test
    void probedByItsSignature() throws Exception {
        Path img = dir.resolve("disk.img");
        Tools.run("qemu-img", "create", "-q", "-f", "vhdx", img.toString(), "4M");
        assertThat(Images.probe(img).name()).isEqualTo("vhdx");
    }
}
