package org.jv2v.image.vhdx;

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
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Broken and malicious VHDX files, made by damaging images qemu-img wrote or built to the
 * specification: one line naming the file, the field and its offset; nothing sized by the bad
 * field; nothing opened outside the allowed folders.
 */
class VhdxBadInputTest {
    @TempDir
    Path dir;

    static final long M = 1 << 20;

    @BeforeEach
    void tools() {
        Tools.require("qemu-img", "qemu-io");
    }

    private Path disk(String name) throws Exception {
        Path img = dir.resolve(name);
        Tools.run("qemu-img", "create", "-q", "-f", "vhdx", "-o", "block_size=1M", img.toString(), "8M");
        Tools.run("qemu-io", "-f", "vhdx", "-c", "write -P 0x5a 1M 64k", "-c", "write -P 0x22 4M 64k", img.toString());
        return img;
    }

    private void assertRefused(Path img, String... fragments) throws Exception {
        assertRefusedNaming(img, img, fragments);
    }

    private void assertRefusedNaming(Path img, Path named, String... fragments) throws Exception {
        Map<String, String> before = Checksums.of(img.getParent());
        assertThatThrownBy(() -> {
            new VhdxFormat().open(img, OpenContext.of(PathGuard.folderOf(img))).close(); // opened: the test fails below
        }).isInstanceOf(BadInputException.class).satisfies(e -> {
            assertThat(e.getMessage()).doesNotContain("\n").startsWith(named + ": ");
            assertThat(e.getMessage()).contains(fragments);
        });
        assertThat(Checksums.of(img.getParent())).isEqualTo(before);
    }

    private static void poke(Path file, long offset, byte[] bytes) throws Exception {
        FileBytes.write(file, offset, bytes);
    }

    private static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static long metadataItem(Path img, String guid) throws Exception {
        long meta = VhdxTestFiles.regionOffset(img, VhdxTestFiles.METADATA_REGION);
        ByteBuffer t = VhdxTestFiles.le(FileBytes.read(img, meta, 64 * 1024));
        for (int i = 0; i < t.getShort(0x0a); i++) {
            if (VhdxTestFiles.getGuid(t, 0x20 + 32 * i).equals(UUID.fromString(guid))) {
                return meta + t.getInt(0x20 + 32 * i + 0x10);
            }
        }
        throw new IllegalStateException(guid);
    }

    @Test
    void notAVhdx() throws Exception {
        Path img = disk("d.vhdx");
        poke(img, 0, "vhdxfilz".getBytes());
        assertRefused(img, "file type identifier at offset 0x0");
    }

    @Test
    void bothHeadersDamaged() throws Exception {
        Path img = disk("d.vhdx");
        poke(img, 0x10000 + 0x100, new byte[] {1});
        poke(img, 0x20000 + 0x100, new byte[] {1});
        assertRefused(img, "header checksum at offset 0x10004", "CRC-32C stored 0x");
    }

    /** The second header serves when the first is damaged (what two headers are for). */
    @Test
    void oneDamagedHeaderIsSurvived() throws Exception {
        Path img = disk("d.vhdx");
        Path raw = DeviceChecks.qemuRaw(img, "vhdx", dir.resolve("ref.raw"));
        poke(img, VhdxTestFiles.currentHeader(img) + 0x100, new byte[] {1});
        try (OpenedImage image = VhdxFormatTest.open(img)) {
            DeviceChecks.assertSameBytes(image.device(), raw);
        }
    }

    @Test
    void bothRegionTablesDamaged() throws Exception {
        Path img = disk("d.vhdx");
        poke(img, 0x30000 + 0x200, new byte[] {1});
        poke(img, 0x40000 + 0x200, new byte[] {1});
        assertRefused(img, "region table checksum at offset 0x30004");
    }

    @Test
    void absurdRegionCount() throws Exception {
        Path img = disk("d.vhdx");
        VhdxTestFiles.editRegionTables(img, t -> t.putInt(8, 0x7fffffff));
        assertRefused(img, "region entry count at offset 0x30008", "2147483647");
    }

    @Test
    void regionPastTheEndOfTheFile() throws Exception {
        Path img = disk("d.vhdx");
        VhdxTestFiles.editRegionTables(img, t -> t.putLong(0x20, 1L << 40));
        assertRefused(img, "region entry 0 file offset at offset 0x30020");
    }

    @Test
    void absurdMetadataCount() throws Exception {
        Path img = disk("d.vhdx");
        long meta = VhdxTestFiles.regionOffset(img, VhdxTestFiles.METADATA_REGION);
        poke(img, meta + 0x0a, new byte[] {(byte) 0xff, (byte) 0xff});
        assertRefused(img, "metadata entry count at offset 0x" + Long.toHexString(meta + 0x0a), "65535");
    }

    @Test
    void unknownRequiredMetadataItem() throws Exception {
        Path img = disk("d.vhdx");
        long meta = VhdxTestFiles.regionOffset(img, VhdxTestFiles.METADATA_REGION);
        byte[] guid = new byte[16];
        VhdxTestFiles.putGuid(VhdxTestFiles.le(guid), 0, UUID.fromString("01234567-89ab-cdef-0123-456789abcdef"));
        poke(img, meta + 0x20, guid); // the first item keeps its required flag under a GUID nobody knows
        assertRefused(img, "metadata entry 0 at offset 0x" + Long.toHexString(meta + 0x20), "unknown required");
    }

    @Test
    void blockSizeOutOfRange() throws Exception {
        Path img = disk("d.vhdx");
        long fp = metadataItem(img, "caa16737-fa36-4d43-b3b6-33f0aa44e76b");
        poke(img, fp, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(512).array());
        assertRefused(img, "block size at offset 0x" + Long.toHexString(fp), "512");
    }

    /** 2^60 bytes in 1 MiB blocks would be a BAT of 2^40 entries: refused before reading any. */
    @Test
    void absurdVirtualSize() throws Exception {
        Path img = disk("d.vhdx");
        long vs = metadataItem(img, "2fa54224-cd1b-4876-b211-5dbed83bf4b8");
        poke(img, vs, le64(1L << 60));
        assertRefused(img, "virtual disk size at offset 0x" + Long.toHexString(vs));
        poke(img, vs, le64(1L << 40)); // 1 TiB: allowed, but the BAT region is far too small for it
        assertRefused(img, "BAT region length at offset 0x", "cannot hold");
    }

    @Test
    void batEntryPastTheEndOfTheFile() throws Exception {
        Path img = disk("d.vhdx");
        long entry = VhdxTestFiles.batEntryOffset(img, 3, 4096);
        poke(img, entry, le64((1L << 40) | 6));
        assertRefused(img, "BAT entry 3 at offset 0x" + Long.toHexString(entry), "not inside the file");
    }

    @Test
    void reservedBlockState() throws Exception {
        Path img = disk("d.vhdx");
        long entry = VhdxTestFiles.batEntryOffset(img, 2, 4096);
        poke(img, entry, le64(4));
        assertRefused(img, "BAT entry 2 at offset 0x", "reserved payload state 4");
        poke(img, entry, le64(VhdxTestFiles.batEntry(img, 1, 4096) & ~7L | 7));
        assertRefused(img, "BAT entry 2 at offset 0x", "partially present block in a disk without a parent");
    }

    @Test
    void truncatedFile() throws Exception {
        Path img = disk("d.vhdx");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - M / 2);
        }
        assertRefused(img, "BAT entry 4 at offset 0x", "truncated");
    }

    @Test
    void logTooLongToReplay() throws Exception {
        Path img = disk("d.vhdx");
        VhdxTestFiles.updateHeader(img, b -> {
            VhdxTestFiles.putGuid(b, 0x30, UUID.randomUUID());
            b.putInt(0x44, (int) (4000 * M));
        });
        assertRefused(img, "log length at offset 0x", "4194304000");
    }

    private Path child(Path parent, Path child, String relative) throws Exception {
        new VhdxTestFiles.DiffBuilder(parent, 8 * M).locator("relative_path", relative).write(0, 4096, 1).build(child);
        return child;
    }

    @Test
    void parentLoop() throws Exception {
        Path base = disk("base.vhdx");
        Path a = dir.resolve("a.vhdx");
        Path b = dir.resolve("b.vhdx");
        child(base, a, ".\\b.vhdx");
        child(a, b, ".\\a.vhdx");
        assertRefusedNaming(a, b, "parent locator at offset 0x", "backing file loop");
    }

    @Test
    void parentOutsideTheAllowedFolders() throws Exception {
        Path outside = Files.createDirectory(dir.resolve("outside"));
        Path base = outside.resolve("base.vhdx");
        Tools.run("qemu-img", "create", "-q", "-f", "vhdx", base.toString(), "8M");
        Path src = Files.createDirectory(dir.resolve("src"));
        Path c = child(base, src.resolve("child.vhdx"), "..\\outside\\base.vhdx");
        assertRefused(c, "parent locator relative_path (offset 0x", "outside the allowed folders");
    }

    @Test
    void parentModifiedSinceTheChildWasMade() throws Exception {
        Path base = disk("base.vhdx");
        Path c = dir.resolve("child.vhdx");
        new VhdxTestFiles.DiffBuilder(base, 8 * M).linkage(UUID.randomUUID()).locator("relative_path", "base.vhdx")
                .write(0, 4096, 1).build(c);
        assertRefused(c, "parent locator parent_linkage at offset 0x", "the parent was modified or replaced");
    }

    @Test
    void parentMissing() throws Exception {
        Path base = disk("base.vhdx");
        Path c = child(base, dir.resolve("child.vhdx"), ".\\gone.vhdx");
        assertRefused(c, "parent locator at offset 0x", "parent disk not found", "gone.vhdx");
    }
}
