package org.jv2v.fs.xfs;

import org.jv2v.fs.ByteRange;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The log's head, tail and clean/dirty state agree with {@code xfs_logprint -t} (and xfs_repair),
 * on fresh, reformatted, tampered, zeroed and garbage logs. A real kernel-made dirty log is in
 * {@link XfsKernelImageTest}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class XfsLogTest {
    @TempDir
    Path dir;

    private Path image(String... options) throws Exception {
        XfsTools.require();
        SourceTree t = new SourceTree(dir, 5);
        t.file("/hello", 0644, 0, 0, "hello\n".getBytes());
        return XfsTools.mkfs(dir, t, XfsTools.IMAGE_SIZE, List.of(options));
    }

    private static XfsLogState state(Path image) throws Exception {
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            return fs.logState();
        }
    }

    private static List<ByteRange> used(Path image) throws Exception {
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            return fs.usedRanges();
        }
    }

    private static void assertAgreesWithLogprint(Path image, boolean clean) throws Exception {
        XfsTools.LogPrint lp = XfsTools.logprint(image);
        XfsLogState s = state(image);
        assertThat(lp.clean()).as("xfs_logprint's verdict").isEqualTo(clean);
        assertThat(s.clean()).as(s.detail()).isEqualTo(clean);
        assertThat(s.headBlock()).as("head").isEqualTo(lp.head());
        assertThat(s.tailBlock()).as("tail").isEqualTo(lp.tail());
    }

    private static long logOffset(Path image) throws Exception {
        String sb = XfsTools.db(image, "sb 0", "p logstart");
        String out = XfsTools.db(image, "convert fsb " + XfsTools.field(sb, "logstart") + " byte");
        return Long.decode(out.trim().split("\\s+")[0]);
    }

    @Test
    void freshLogsAreClean() throws Exception {
        Path v5 = image();
        assertAgreesWithLogprint(v5, true);
        assertThat(used(v5)).hasSizeGreaterThan(1);
        assertAgreesWithLogprint(image("-m", "crc=0", "-l", "version=1"), true);
    }

    @Test
    void reformattedLogWithAnotherCycle() throws Exception {
        Path image = image();
        XfsTools.db(image, true, List.of("logformat -c 9"));
        assertAgreesWithLogprint(image, true);
    }

    @Test
    void unmountRecordWithoutItsFlagLeavesTheLogDirty() throws Exception {
        Path image = image();
        long log = logOffset(image);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(log);
            assertThat(f.readInt()).as("mkfs leaves a record header at the start of the log").isEqualTo(0xfeedbabe);
            f.seek(log + 512 + 9); // oh_flags of the unmount record's operation header
            int flags = f.read();
            assertThat(flags & 0x20).isNotZero();
            f.seek(log + 512 + 9);
            f.write(flags & ~0x20);
        }
        assertAgreesWithLogprint(image, false);
        assertThat(used(image)).as("a dirty log makes every block count as used")
                .containsExactly(new ByteRange(0, XfsTools.IMAGE_SIZE));
        Run.Result repair = Run.run(List.of("xfs_repair", "-n", image.toString()), null, Map.of(), 120);
        assertThat(repair.all()).contains("valuable metadata changes in a log");
    }

    @Test
    void zeroedLogIsClean() throws Exception {
        Path image = image();
        long log = logOffset(image);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(log);
            f.write(new byte[4 << 20]);
        }
        assertAgreesWithLogprint(image, true);
        assertThat(state(image).detail()).contains("zeroed");
    }

    @Test
    void garbageLogIsNotClean() throws Exception {
        Path image = image();
        long log = logOffset(image);
        String sb = XfsTools.db(image, "sb 0", "p logblocks");
        long bytes = Long.parseLong(XfsTools.field(sb, "logblocks")) * 4096;
        byte[] junk = new byte[(int) bytes];
        new Random(9).nextBytes(junk);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(log);
            f.write(junk);
        }
        Run.Result lp = Run.run(List.of("xfs_logprint", "-t", image.toString()), null, Map.of(), 120);
        assertThat(lp.all()).contains("failed to find head and tail");
        XfsLogState s = state(image);
        assertThat(s.clean()).isFalse();
        assertThat(s.detail()).contains("inconsistent");
    }
}
