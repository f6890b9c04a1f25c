package org.jv2v.image.vhdx;

import org.jv2v.image.ExtentType;
import org.jv2v.image.OpenedImage;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.DeviceChecks;
import org.jv2v.testing.FileBytes;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A VHDX left with a pending log (as after a crash of the writer): jv2v replays it into its read
 * view and leaves the file alone. The oracle is qemu: `qemu-img check -r all` replays the log into
 * a copy (qemu refuses to open such a file read-only), which qemu-img then converts.
 */
class VhdxLogTest {
    @TempDir
    Path dir;

    static final long M = 1 << 20;

    @BeforeEach
    void tools() {
        Tools.require("qemu-img", "qemu-io");
    }

    static byte[] page(int pattern) {
        byte[] p = new byte[4096];
        Arrays.fill(p, (byte) pattern);
        p[0] = 'L'; // leading and trailing bytes travel in the descriptor, not the data sector
        p[4095] = 'T';
        return p;
    }

    /**
     * A qemu-made disk plus a log that allocates block 4 in a new 1 MiB at the end of the file
     * (a BAT page update and data pages), and zeroes 4 KiB of block 1; a second entry rewrites
     * one of those pages, and an older, stale sequence elsewhere in the log must be ignored.
     */
    static Path imageWithLog(Path folder) throws Exception {
        Path img = folder.resolve("crashed.vhdx");
        Tools.run("qemu-img", "create", "-q", "-f", "vhdx", "-o", "block_size=1M", img.toString(), "8M");
        Tools.run("qemu-io", "-f", "vhdx", "-c", "write -P 0x5a 1M 64k", "-c", "write -P 0x66 2M 1M", img.toString());
        long end = (Files.size(img) + M - 1) / M * M;
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(1), end + M - 1); // room for the new block, as a writer would extend first
        }
        long newBlock = end;
        long batAt = VhdxTestFiles.regionOffset(img, VhdxTestFiles.BAT_REGION);
        byte[] batPage = FileBytes.read(img, batAt, 4096);
        VhdxTestFiles.le(batPage).putLong(8 * 4, newBlock | 6); // block 4: FULLY_PRESENT at newBlock
        long block1 = VhdxTestFiles.batEntry(img, 1, 4096) & ~0xfffffL;
        long block2 = VhdxTestFiles.batEntry(img, 2, 4096) & ~0xfffffL;
        long fileEnd = end + M;

        var first = new VhdxTestFiles.LogEntry(0, 10, 0, fileEnd, fileEnd, List.of(
                VhdxTestFiles.LogWrite.data(batAt, batPage),
                VhdxTestFiles.LogWrite.data(newBlock, page(0x77)),
                VhdxTestFiles.LogWrite.data(newBlock + 8192, page(0x78)),
                VhdxTestFiles.LogWrite.zero(block1, 4096)));
        int firstLength = VhdxTestFiles.logEntry(first, UUID.randomUUID()).length;
        var second = new VhdxTestFiles.LogEntry(firstLength, 11, 0, fileEnd, fileEnd, List.of(
                VhdxTestFiles.LogWrite.data(newBlock, page(0x79)),
                VhdxTestFiles.LogWrite.zero(newBlock + 8192, 4096)));
        var stale = new VhdxTestFiles.LogEntry(512 << 10, 3, 512 << 10, fileEnd, fileEnd, List.of(
                VhdxTestFiles.LogWrite.data(block2, page(0x99))));
        VhdxTestFiles.writeLog(img, UUID.randomUUID(), List.of(first, second, stale));
        return img;
    }

    @Test
    void pendingLogIsReplayedInMemoryLikeQemuReplaysIt() throws Exception {
        Path src = Files.createDirectory(dir.resolve("src"));
        Path img = imageWithLog(src);
        Map<String, String> before = Checksums.of(src);

        // qemu sees the log too: it will not open the file read-only until it is replayed
        Run.Result info = Run.run(List.of("qemu-img", "info", img.toString()));
        assertThat(info.exitCode()).isNotZero();
        assertThat(info.all()).contains("log");

        Path copy = dir.resolve("replayed.vhdx");
        Files.copy(img, copy, StandardCopyOption.COPY_ATTRIBUTES);
        Tools.run("qemu-img", "check", "-r", "all", copy.toString());
        Path raw = DeviceChecks.qemuRaw(copy, "vhdx", dir.resolve("replayed.raw"));

        try (OpenedImage image = VhdxFormatTest.open(img)) {
            DeviceChecks.assertSameBytes(image.device(), raw);
            DeviceChecks.assertStatusConsistent(image.device(), raw, DeviceChecks.qemuMap(copy, "vhdx"), false);
            assertThat(image.device().blockStatus(4 * M, M)).singleElement()
                    .satisfies(e -> assertThat(e.type()).isEqualTo(ExtentType.DATA));
            ByteBuffer b = ByteBuffer.allocate(3 * 4096);
            image.device().read(b, 4 * M);
            assertThat(b.get(0)).isEqualTo((byte) 'L');
            assertThat(b.get(1)).isEqualTo((byte) 0x79);        // the later entry wins
            assertThat(b.get(4095)).isEqualTo((byte) 'T');
            assertThat(b.get(8192 + 1)).isEqualTo((byte) 0);    // zeroed by the later entry
            ByteBuffer z = ByteBuffer.allocate(8192);
            image.device().read(z, M);
            assertThat(z.get(0)).isZero();                      // the zero descriptor
            assertThat(z.get(4096)).isEqualTo((byte) 0x5a);
            ByteBuffer s = ByteBuffer.allocate(16);
            image.device().read(s, 2 * M);
            assertThat(s.get(1)).isEqualTo((byte) 0x66);        // the stale sequence was not applied
        }
        assertThat(Checksums.of(src)).as("the source is not replayed on disk").isEqualTo(before);
    }

    /** A log written when the file was longer than it is now: the file was truncated since. */
    @Test
    void logExpectingALongerFileIsRefused() throws Exception {
        Path img = dir.resolve("disk.vhdx");
        Tools.run("qemu-img", "create", "-q", "-f", "vhdx", "-o", "block_size=1M", img.toString(), "4M");
        long size = Files.size(img);
        var entry = new VhdxTestFiles.LogEntry(0, 7, 0, size + 16 * M, size + 16 * M,
                List.of(VhdxTestFiles.LogWrite.zero(size, 4096)));
        VhdxTestFiles.writeLog(img, UUID.randomUUID(), List.of(entry));
        Map<String, String> before = Checksums.of(dir);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VhdxFormatTest.open(img))
                .isInstanceOf(org.jv2v.BadInputException.class)
                .hasMessageStartingWith(img + ": log entry flushed file offset at offset 0x")
                .hasMessageContaining("truncated");
        assertThat(Checksums.of(dir)).isEqualTo(before);
    }

    @Test
    void rangeSetsMergeAndSplit() {
        var ranges = new java.util.TreeMap<Long, Long>();
        VhdxLog.addRange(ranges, 0, 10);
        VhdxLog.addRange(ranges, 20, 30);
        VhdxLog.addRange(ranges, 10, 20);                    // touching both: one range
        assertThat(ranges).containsExactly(Map.entry(0L, 30L));
        VhdxLog.removeRange(ranges, 5, 8);                   // split
        assertThat(ranges).containsExactly(Map.entry(0L, 5L), Map.entry(8L, 30L));
        VhdxLog.removeRange(ranges, 0, 9);                   // drops one, trims the other
        assertThat(ranges).containsExactly(Map.entry(9L, 30L));
        VhdxLog.addRange(ranges, 40, 50);
        VhdxLog.removeRange(ranges, 25, 45);                 // trims across two
        assertThat(ranges).containsExactly(Map.entry(9L, 25L), Map.entry(45L, 50L));
    }

    /** A header naming a log whose entries are all invalid: nothing to replay (qemu agrees). */
    @Test
    void logGuidWithoutValidEntriesReadsTheFileAsIs() throws Exception {
        Path img = dir.resolve("disk.vhdx");
        Tools.run("qemu-img", "create", "-q", "-f", "vhdx", "-o", "block_size=1M", img.toString(), "4M");
        Tools.run("qemu-io", "-f", "vhdx", "-c", "write -P 0x5a 1M 64k", img.toString());
        Path raw = DeviceChecks.qemuRaw(img, "vhdx", dir.resolve("ref.raw"));
        VhdxTestFiles.updateHeader(img, b -> VhdxTestFiles.putGuid(b, 0x30, UUID.randomUUID()));
        try (OpenedImage image = VhdxFormatTest.open(img)) {
            DeviceChecks.assertSameBytes(image.device(), raw);
        }
        Path copy = dir.resolve("copy.vhdx");
        Files.copy(img, copy);
        assertThat(Files.mismatch(DeviceChecks.qemuRaw(copy, "vhdx", dir.resolve("q.raw")), raw)).isEqualTo(-1);
    }
}
