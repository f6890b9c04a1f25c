package org.jv2v.image.vhd;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.DeviceChecks;
import org.jv2v.testing.FileBytes;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** VHD images made by qemu-img and written by qemu-io read exactly as qemu-img reads them. */
class VhdFormatTest {
    @TempDir
    Path dir;

    @BeforeEach
    void tools() {
        Tools.require("qemu-img", "qemu-io");
    }

    static OpenedImage open(Path file) throws Exception {
        return Images.open(file, OpenContext.of(PathGuard.folderOf(file)));
    }

    /** Writes data, zeros and a last-sector write with qemu-io. */
    static void fill(Path img, String fmt) throws Exception {
        Tools.run("qemu-io", "-f", fmt, "-c", "write -P 0x5a 3M 128k", "-c", "write -z 5M 64k",
                "-c", "write -P 0x33 7M 4k", "-c", "write -P 0x11 1536k 1k", img.toString());
    }

    /**
     * Reads {@code img} with jv2v and checks it against qemu-img convert and qemu-img map. A dynamic
     * disk's map is checked one way only: qemu does not ask the file for holes inside blocks (it
     * does for a fixed disk), jv2v does, so jv2v may say ZERO where qemu says data; those ranges
     * are checked to read as zeros instead.
     */
    static List<Extent> checkAgainstQemu(Path img, Path dir, String subformat) throws Exception {
        Map<String, String> before = Checksums.of(img.getParent());
        Path raw = DeviceChecks.qemuRaw(img, "vpc", dir.resolve(img.getFileName() + ".raw"));
        List<Extent> extents;
        try (OpenedImage image = open(img)) {
            assertThat(image.format()).isEqualTo("vhd");
            assertThat(image.subformat()).isEqualTo(subformat);
            assertThat(image.device().size()).isEqualTo(DeviceChecks.qemuVirtualSize(img, "vpc"));
            DeviceChecks.assertSameBytes(image.device(), raw);
            extents = DeviceChecks.assertStatusConsistent(image.device(), raw, DeviceChecks.qemuMap(img, "vpc"),
                    subformat.equals("fixed"));
        }
        java.nio.file.Files.delete(raw);
        assertThat(Checksums.of(img.getParent())).as("source untouched").isEqualTo(before);
        return extents;
    }

    @ParameterizedTest
    @ValueSource(strings = {"dynamic", "fixed"})
    void createdByQemuImg(String subformat) throws Exception {
        Path src = java.nio.file.Files.createDirectory(dir.resolve("src"));
        Path img = src.resolve("disk.vhd");
        Tools.run("qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=" + subformat, img.toString(), "9M");
        fill(img, "vpc");
        List<Extent> extents = checkAgainstQemu(img, dir, subformat);
        // Only what the writes stored is data (in file system blocks): qemu allocates a dynamic
        // block by extending the file, and creates a fixed disk sparse; the rest are holes.
        // (The 64 KiB "write -z" is written as zeros: vpc has no way to store zeros.)
        long written = (128 + 64 + 4 + 1) << 10;
        assertThat(DeviceChecks.bytesOf(extents, ExtentType.DATA)).isBetween(written, written + (64 << 10));
        if (subformat.equals("dynamic")) {
            // 2 MiB blocks: the writes allocate blocks 0 (1.5M), 1 (3M), 2 (5M) and 3 (7M), the rest is not
            assertThat(DeviceChecks.bytesOf(extents, ExtentType.UNALLOCATED)).isEqualTo(extents.getLast().end() - (4L << 21));
            assertThat(extents.getLast().type()).isEqualTo(ExtentType.UNALLOCATED);
        } else {
            assertThat(DeviceChecks.bytesOf(extents, ExtentType.UNALLOCATED)).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dynamic", "fixed"})
    void convertedByQemuImg(String subformat) throws Exception {
        Path raw = dir.resolve("in.raw");
        Tools.run("qemu-img", "create", "-q", "-f", "raw", raw.toString(), "6M");
        Tools.run("qemu-io", "-f", "raw", "-c", "write -P 0xa1 0 64k", "-c", "write -P 0xb2 2M 1M",
                "-c", "write -P 0xc3 6143k 1k", raw.toString());
        Path src = java.nio.file.Files.createDirectory(dir.resolve("src"));
        Path img = src.resolve("conv.vhd");
        Tools.run("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=" + subformat, raw.toString(),
                img.toString());
        checkAgainstQemu(img, dir, subformat);
    }

    /**
     * A sector whose bitmap bit is clear holds no data in a dynamic disk: it reads as zeros
     * (specification and libvhdi), whatever the block holds there. qemu ignores bitmaps (it sets
     * every bit when it allocates a block), so here it reads the stale bytes instead.
     */
    @Test
    void clearBitmapBitsReadAsZerosInADynamicDisk() throws Exception {
        DeviceChecks.requireLibvhdi();
        Path img = dir.resolve("bitmap.vhd");
        Tools.run("qemu-img", "create", "-q", "-f", "vpc", img.toString(), "6M");
        Tools.run("qemu-io", "-f", "vpc", "-c", "write -P 0x5a 2M 64k", img.toString());
        long bat = VhdTestFiles.batOffset(img);
        long bitmap = (java.nio.ByteBuffer.wrap(FileBytes.read(img, bat + 4, 4)).getInt() & 0xffffffffL) * 512;
        FileBytes.write(img, bitmap, new byte[] {0, 0x0f}); // sectors 0-11 of block 1 not present (bits are MSB first)
        Path libvhdi = DeviceChecks.libvhdiRaw(List.of(img), dir.resolve("libvhdi.raw"));
        try (OpenedImage image = open(img)) {
            DeviceChecks.assertSameBytes(image.device(), libvhdi);
            assertThat(image.device().blockStatus(2 << 20, 6 << 10)).singleElement()
                    .extracting(Extent::type).isEqualTo(ExtentType.UNALLOCATED);
            assertThat(image.device().blockStatus((2 << 20) + (6 << 10), 4096).getFirst().type())
                    .isEqualTo(ExtentType.DATA);
        }
        Path qemu = DeviceChecks.qemuRaw(img, "vpc", dir.resolve("qemu.raw"));
        assertThat(java.nio.file.Files.mismatch(qemu, libvhdi)).isEqualTo(2L << 20);
    }

    @Test
    void fixedDiskIsProbedByItsFooterAtTheEnd() throws Exception {
        Path img = dir.resolve("fixed.vhd");
        Tools.run("qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", img.toString(), "2M");
        assertThat(Images.probe(img).name()).isEqualTo("vhd");
        Path dyn = dir.resolve("dyn.vhd");
        Tools.run("qemu-img", "create", "-q", "-f", "vpc", dyn.toString(), "2M");
        assertThat(Images.probe(dyn).name()).isEqualTo("vhd");
    }

    /**
     * The virtual size depends on the creator: the geometry for Virtual PC and old qemu, the
     * current size for Hyper-V, Disk2vhd, XenServer, XenConverter and qemu's force_size images;
     * and the current size when the geometry is the maximum one. jv2v must match qemu-img info.
     */
    @ParameterizedTest
    @ValueSource(strings = {"vpc ", "qemu", "qem2", "win ", "d2v ", "CTXS", "tap\0", "qemu-maxchs"})
    void virtualSizeByCreator(String creator) throws Exception {
        Path img = dir.resolve("sized.vhd");
        Tools.run("qemu-img", "create", "-q", "-f", "vpc", img.toString(), "10000k");
        boolean maxChs = creator.equals("qemu-maxchs");
        String app = maxChs ? "qemu" : creator;
        java.nio.ByteBuffer footer = java.nio.ByteBuffer.wrap(FileBytes.read(img, 0, 512));
        long geometry = 512L * (footer.getShort(0x38) & 0xffff) * (footer.get(0x3a) & 0xff) * (footer.get(0x3b) & 0xff);
        long current = geometry - 7 * 512; // a current size that differs from the geometry
        VhdTestFiles.editFooter(img, f -> {
            f.put(0x1c, app.getBytes(StandardCharsets.ISO_8859_1));
            f.putLong(0x30, current);
            if (maxChs) {
                f.putShort(0x38, (short) 65535).put(0x3a, (byte) 16).put(0x3b, (byte) 255);
            }
        });
        long qemu = DeviceChecks.qemuVirtualSize(img, "vpc");
        try (OpenedImage image = open(img)) {
            assertThat(image.device().size()).isEqualTo(qemu);
            boolean byGeometry = app.equals("vpc ") || (app.equals("qemu") && !maxChs);
            assertThat(image.device().size()).isEqualTo(byGeometry ? geometry : current);
        }
    }

    /**
     * Azure writes "wa\0\0": qemu 10 reads the current size (as jv2v does), qemu 7.2 still used
     * the geometry for creators it did not know.
     */
    @Test
    void azureCreatorUsesCurrentSize() throws Exception {
        Path img = dir.resolve("azure.vhd");
        Tools.run("qemu-img", "create", "-q", "-f", "vpc", "-o", "force_size=on", img.toString(), "10000k");
        VhdTestFiles.editFooter(img, f -> f.put(0x1c, new byte[] {'w', 'a', 0, 0}));
        try (OpenedImage image = open(img)) {
            assertThat(image.device().size()).isEqualTo(10000 * 1024L);
        }
        String version = Tools.run("qemu-img", "--version").stdout();
        int major = Integer.parseInt(version.replaceAll("(?s).*version (\\d+)\\..*", "$1"));
        if (major >= 10) {
            assertThat(DeviceChecks.qemuVirtualSize(img, "vpc")).isEqualTo(10000 * 1024L);
        }
    }
}
