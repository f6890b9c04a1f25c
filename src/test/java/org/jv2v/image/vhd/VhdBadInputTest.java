package org.jv2v.image.vhd;

import org.jv2v.BadInputException;
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

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Broken and malicious VHDs, made by damaging images qemu-img wrote: each gives one line naming
 * the file, the field and its offset, allocates nothing sized by the bad field, and opens nothing
 * outside the allowed folders.
 */
class VhdBadInputTest {
    @TempDir
    Path dir;

    @BeforeEach
    void tools() {
        Tools.require("qemu-img", "qemu-io");
    }

    private Path dynamic(String name) throws Exception {
        Path img = dir.resolve(name);
        Tools.run("qemu-img", "create", "-q", "-f", "vpc", img.toString(), "6M");
        Tools.run("qemu-io", "-f", "vpc", "-c", "write -P 0x5a 1M 64k", "-c", "write -P 0x22 4M 64k", img.toString());
        return img;
    }

    /** Opening fails with one line naming the file and each fragment; the file is untouched. */
    private void assertRefused(Path img, String... fragments) throws Exception {
        assertRefusedNaming(img, img, fragments);
    }

    /** As above, the message naming {@code named} (the file holding the bad field). */
    private void assertRefusedNaming(Path img, Path named, String... fragments) throws Exception {
        Map<String, String> before = Checksums.of(img.getParent());
        assertThatThrownBy(() -> {
            new VhdFormat().open(img, OpenContext.of(PathGuard.folderOf(img))).close(); // opened: the test fails below
        }).isInstanceOf(BadInputException.class)
                .satisfies(e -> {
                    assertThat(e.getMessage()).doesNotContain("\n").startsWith(named + ": ");
                    assertThat(e.getMessage()).contains(fragments);
                });
        assertThat(Checksums.of(img.getParent())).isEqualTo(before);
    }

    private static void poke(Path file, long offset, byte[] bytes) throws Exception {
        FileBytes.write(file, offset, bytes);
    }

    @Test
    void badFooterChecksumOfAFixedDisk() throws Exception {
        Path img = dir.resolve("fixed.vhd");
        Tools.run("qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", img.toString(), "1M");
        long footer = Files.size(img) - 512;
        poke(img, footer + 0x100, new byte[] {1});
        assertRefused(img, "footer checksum at offset 0x" + Long.toHexString(footer + 0x40), "stored 0x");
    }

    @Test
    void badChecksumInBothFootersOfADynamicDisk() throws Exception {
        Path img = dynamic("dyn.vhd");
        poke(img, Files.size(img) - 512 + 0x100, new byte[] {1});
        poke(img, 0x100, new byte[] {1});
        assertRefused(img, "footer checksum");
    }

    /** The specification keeps a copy of the footer at offset 0 for exactly this case. */
    @Test
    void damagedEndFooterFallsBackToTheCopy() throws Exception {
        Path img = dynamic("dyn.vhd");
        Path raw = DeviceChecks.qemuRaw(img, "vpc", dir.resolve("ref.raw"));
        poke(img, Files.size(img) - 512 + 0x100, new byte[] {1});
        try (OpenedImage image = new VhdFormat().open(img, OpenContext.of(PathGuard.folderOf(img)))) {
            DeviceChecks.assertSameBytes(image.device(), raw);
        }
    }

    @Test
    void badDynamicHeaderChecksum() throws Exception {
        Path img = dynamic("dyn.vhd");
        poke(img, 512 + 0x300, new byte[] {1});
        assertRefused(img, "dynamic header checksum at offset 0x224");
    }

    @Test
    void batEntryPastTheEndOfTheFile() throws Exception {
        Path img = dynamic("dyn.vhd");
        long bat = VhdTestFiles.batOffset(img);
        poke(img, bat + 4, ByteBuffer.allocate(4).putInt(0x00ffff00).array());
        assertRefused(img, "BAT entry 1 at offset 0x" + Long.toHexString(bat + 4), "past the data end");
    }

    @Test
    void blockSizeNotAPowerOfTwo() throws Exception {
        Path img = dynamic("dyn.vhd");
        VhdTestFiles.editDynamicHeader(img, h -> h.putInt(0x20, 3 << 20));
        assertRefused(img, "block size at offset 0x220", "3145728");
    }

    @Test
    void tableTooSmallForTheDisk() throws Exception {
        Path img = dynamic("dyn.vhd");
        VhdTestFiles.editDynamicHeader(img, h -> h.putInt(0x1c, 1));
        assertRefused(img, "max table entries at offset 0x21c");
    }

    /** A 1 PiB disk in 512-byte blocks would need a BAT of 2^41 entries: refused before allocating it. */
    @Test
    void absurdSizeIsRefusedBeforeAllocating() throws Exception {
        Path img = dynamic("dyn.vhd");
        VhdTestFiles.editFooter(img, f -> f.put(0x1c, "win ".getBytes()).putLong(0x30, 1L << 50));
        assertRefused(img, "current size at offset 0x", "exceeds");
        VhdTestFiles.editFooter(img, f -> f.putLong(0x30, 1L << 40));
        VhdTestFiles.editDynamicHeader(img, h -> h.putInt(0x20, 512).putInt(0x1c, -1));
        assertRefused(img, "max table entries at offset 0x21c", "more than the limit");
    }

    @Test
    void truncatedDynamicDisk() throws Exception {
        Path img = dynamic("dyn.vhd");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - (1 << 20));
        }
        assertRefused(img, "BAT entry 2 at offset 0x", "truncated");
    }

    @Test
    void truncatedFixedDiskHasNoFooter() throws Exception {
        Path img = dir.resolve("fixed.vhd");
        Tools.run("qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", img.toString(), "1M");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 4096);
        }
        assertRefused(img, "footer cookie at offset 0x", "not a VHD");
    }

    @Test
    void unknownDiskType() throws Exception {
        Path img = dynamic("dyn.vhd");
        VhdTestFiles.editFooter(img, f -> f.putInt(0x3c, 5));
        assertRefused(img, "disk type at offset 0x", "unsupported VHD disk type 5");
    }

    @Test
    void parentLocatorLengthAbsurd() throws Exception {
        Path base = dynamic("base.vhd");
        Path child = dir.resolve("child.vhd");
        new VhdTestFiles.DiffBuilder(base).locators(".\\base.vhd", null, null).write(0, 4096, 1).build(child);
        VhdTestFiles.editDynamicHeader(child, h -> h.putInt(0x240 + 8, 0x7fffffff));
        assertRefused(child, "parent locator 0 (W2ru) data length at offset 0x448");
    }

    @Test
    void parentThatPointsBackIsALoop() throws Exception {
        Path base = dynamic("base.vhd");
        Path a = dir.resolve("a.vhd");
        Path b = dir.resolve("b.vhd");
        new VhdTestFiles.DiffBuilder(base).locators(".\\b.vhd", null, null).write(0, 4096, 1).build(a);
        new VhdTestFiles.DiffBuilder(a).locators(".\\a.vhd", null, null).write(0, 4096, 2).build(b);
        assertRefusedNaming(a, b, "parent locator 0 (W2ru) at offset 0x", "backing file loop");
        Path self = dir.resolve("self.vhd");
        new VhdTestFiles.DiffBuilder(base).locators(".\\self.vhd", null, null).write(0, 4096, 1).build(self);
        assertRefused(self, "parent locator 0 (W2ru) at offset 0x", "backing file loop");
    }

    @Test
    void parentOutsideTheAllowedFolders() throws Exception {
        Path outside = Files.createDirectory(dir.resolve("outside"));
        Path base = outside.resolve("base.vhd");
        Tools.run("qemu-img", "create", "-q", "-f", "vpc", base.toString(), "6M");
        Path src = Files.createDirectory(dir.resolve("src"));
        Path child = src.resolve("child.vhd");
        new VhdTestFiles.DiffBuilder(base).locators("..\\outside\\base.vhd", null, null).write(0, 4096, 1).build(child);
        assertRefused(child, "parent locator 0 (W2ru)", "outside the allowed folders");
        // an absolute path is only ever looked up by its file name beside the child
        Path child2 = src.resolve("child2.vhd");
        new VhdTestFiles.DiffBuilder(base).locators(null, "C:\\..\\..\\etc\\shadow", null).write(0, 4096, 1)
                .build(child2);
        assertRefused(child2, "parent disk not found", "C:\\..\\..\\etc\\shadow");
    }

    @Test
    void parentWithAnotherUniqueId() throws Exception {
        Path base = dynamic("base.vhd");
        Path child = dir.resolve("child.vhd");
        new VhdTestFiles.DiffBuilder(base).parentId(new byte[16]).locators(".\\base.vhd", null, null)
                .write(0, 4096, 1).build(child);
        assertRefused(child, "parent unique id at offset 0x228", "00000000000000000000000000000000");
    }
}
