package org.jv2v.image.qcow2;

import org.jv2v.BadInputException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.CreateOptions;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.image.Preallocation;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Writes images through the qcow2 writer and proves them with qemu-img: {@code check} clean after
 * every flush and after close, {@code compare} identical to the expected raw bytes, {@code map}
 * agreeing with the writer's own block status.
 */
class Qcow2WriterTest {
    private static final Qcow2WriteDevice.Budget TINY = new Qcow2WriteDevice.Budget(0, 0);

    @TempDir
    Path dir;

    @BeforeEach
    void tools() {
        Tools.require("qemu-img");
    }

    /** A writer and, beside it, the bytes it should hold. */
    private static final class Mirror {
        final BlockDevice dev;
        final byte[] expected;

        Mirror(BlockDevice dev) {
            this.dev = dev;
            this.expected = new byte[Math.toIntExact(dev.size())];
        }

        void write(long off, byte[] data) throws IOException {
            dev.write(ByteBuffer.wrap(data), off);
            System.arraycopy(data, 0, expected, (int) off, data.length);
        }

        void zero(long off, int len) throws IOException {
            dev.writeZeroes(off, len);
            java.util.Arrays.fill(expected, (int) off, (int) off + len, (byte) 0);
        }

        Path expectedRaw(Path dir) throws IOException {
            Path raw = Files.createTempFile(dir, "expected", ".raw");
            Files.write(raw, expected);
            return raw;
        }

        /** The device reads back what was written, and calls DATA every non-zero byte. */
        void verifyLive() throws IOException {
            ByteBuffer all = ByteBuffer.allocate(expected.length);
            dev.read(all, 0);
            assertThat(all.flip().mismatch(ByteBuffer.wrap(expected))).as("read back").isEqualTo(-1);
            for (Extent e : Qemu.status(dev)) {
                if (e.type() != ExtentType.DATA) {
                    for (long i = e.offset(); i < e.end(); i++) {
                        if (expected[(int) i] != 0) {
                            throw new AssertionError("byte " + i + " is not zero but lies in " + e);
                        }
                    }
                }
            }
        }
    }

    private Qcow2WriteDevice create(Path img, long size, boolean compress) throws IOException {
        return Qcow2WriteDevice.create(img, new CreateOptions(size, Preallocation.OFF, compress), 16,
                Qcow2WriteDevice.Budget.DEFAULT);
    }

    /** check clean, compare identical, and jv2v's status (live and read back) equals qemu-img map. */
    private void verifyWithQemu(Path img, Mirror m) throws Exception {
        Qemu.assertClean(img);
        Path raw = m.expectedRaw(dir);
        Qemu.assertIdentical(img, raw);
        List<Extent> map = Qemu.map(img);
        if (m.dev != null && isOpen(m.dev)) {
            assertThat(Qemu.status(m.dev)).as("live block status").isEqualTo(map);
        }
        try (OpenedImage o = Images.open(img, OpenContext.of(PathGuard.folderOf(img)))) {
            Qemu.assertSameBytes(o.device(), raw);
            assertThat(Qemu.status(o.device())).isEqualTo(map);
        }
        Files.delete(raw);
    }

    private static boolean isOpen(BlockDevice dev) {
        try {
            dev.blockStatus(0, 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void randomOps(Mirror m, long seed, int count) throws IOException {
        randomOps(m, seed, count, 0, m.expected.length);
    }

    /** Random writes of data, zeros as data, and zero ranges, within {@code [from, to)}. */
    private static void randomOps(Mirror m, long seed, int count, int from, int to) throws IOException {
        Random rnd = new Random(seed);
        for (int k = 0; k < count; k++) {
            int off = from + rnd.nextInt(to - from);
            int len = 1 + rnd.nextInt(Math.min(to - off, 300_000));
            switch (rnd.nextInt(5)) {
                case 0 -> m.zero(off, len);
                case 1 -> m.write(off, new byte[len]); // zeros as data
                case 2 -> m.write(off, Qemu.random(rnd.nextLong(), len));
                default -> m.write(off, Qemu.mixed(rnd.nextLong(), len));
            }
        }
    }

    @Test
    void randomExtentsZerosAndUnalignedWrites() throws Exception {
        Path img = dir.resolve("random.qcow2");
        Mirror m = new Mirror(create(img, (7 << 20) + 12345, false));
        randomOps(m, 42, 60);
        m.write(0, Qemu.mixed(1, 100)); // first bytes
        m.write(m.expected.length - 77, Qemu.mixed(2, 77)); // last bytes, in a partial cluster
        m.verifyLive();
        m.dev.close();
        verifyWithQemu(img, m);
    }

    @Test
    void wholeDiskInOneWrite() throws Exception {
        Path img = dir.resolve("whole.qcow2");
        Mirror m = new Mirror(create(img, 3 << 20, false));
        m.write(0, Qemu.mixed(3, 3 << 20));
        m.dev.close();
        verifyWithQemu(img, m);
        assertThat(Qemu.map(img)).singleElement().satisfies(e -> assertThat(e.type()).isEqualTo(ExtentType.DATA));
    }

    @Test
    void zerosAreNotStoredAsData() throws Exception {
        Path img = dir.resolve("zeros.qcow2");
        Mirror m = new Mirror(create(img, 4 << 20, false));
        m.write(0, new byte[4 << 20]);
        m.zero(0, 4 << 20);
        m.dev.flush();
        assertThat(Files.size(img)).as("no data cluster allocated").isLessThanOrEqualTo(4 * 65536);
        m.write(1 << 20, Qemu.mixed(4, 1 << 20));
        m.zero((1 << 20) + 65536, 131072); // two whole clusters: zero clusters, not data
        m.write(3 << 20, new byte[65536]); // zero data over a hole: stays a hole
        m.verifyLive();
        m.dev.flush();
        verifyWithQemu(img, m);
        assertThat(Qemu.status(m.dev)).extracting(Extent::type).containsExactly(ExtentType.UNALLOCATED,
                ExtentType.DATA, ExtentType.ZERO, ExtentType.DATA, ExtentType.UNALLOCATED);
        m.dev.close();
    }

    @Test
    void concurrentWritersSharingClusters() throws Exception {
        for (boolean compress : new boolean[] {false, true}) {
            Path img = dir.resolve("concurrent-" + compress + ".qcow2");
            int size = 12 << 20;
            Mirror m = new Mirror(create(img, size, compress));
            // 40 KiB pieces: neighbours written by different threads share 64 KiB clusters
            int piece = 40 * 1024;
            byte[] data = Qemu.mixed(5, size);
            for (int i = 0; i < data.length; i += 3 * piece) {
                java.util.Arrays.fill(data, i, Math.min(size, i + piece), (byte) 0); // some zero pieces
            }
            System.arraycopy(data, 0, m.expected, 0, size);
            try (ExecutorService pool = Executors.newFixedThreadPool(6)) {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 6; t++) {
                    int first = t;
                    done.add(pool.submit(() -> {
                        for (int p = first; (long) p * piece < size; p += 6) {
                            int off = p * piece;
                            int len = Math.min(piece, size - off);
                            m.dev.write(ByteBuffer.wrap(data, off, len), off);
                            if (p % 17 == 0) {
                                m.dev.flush(); // flushes while other threads write
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            }
            m.verifyLive();
            m.dev.close();
            verifyWithQemu(img, m);
        }
    }

    @Test
    void validAfterEveryFlushAndStillWritable() throws Exception {
        Path img = dir.resolve("flush.qcow2");
        Mirror m = new Mirror(create(img, 5 << 20, false));
        Random rnd = new Random(6);
        for (int round = 0; round < 3; round++) {
            randomOps(m, rnd.nextLong(), 10);
            m.dev.flush();
            verifyWithQemu(img, m); // the writer is still open
        }
        m.dev.close();
        verifyWithQemu(img, m);
    }

    @Test
    void compressesWhatShrinksAndStoresTheRestPlain() throws Exception {
        Path img = dir.resolve("compressed.qcow2");
        Mirror m = new Mirror(create(img, 6 << 20, true));
        m.write(0, Qemu.mixed(7, 2 << 20));
        m.write(2 << 20, Qemu.random(8, 1 << 20)); // incompressible: stored plain
        byte[] repeats = new byte[1 << 20]; // matches 8 KiB back: further than qemu's 4 KiB window
        byte[] block = Qemu.random(9, 8192);
        for (int i = 0; i < repeats.length; i += block.length) {
            System.arraycopy(block, 0, repeats, i, block.length);
        }
        m.write(3 << 20, repeats);
        m.write((6 << 20) - 1000, Qemu.mixed(10, 1000)); // partial last cluster: stored plain
        m.dev.close();
        verifyWithQemu(img, m);
        assertThat(Files.size(img)).as("compressed").isLessThan((2 << 20) + (2 << 20));
        String json = Qemu.img("map", "--output=json", img.toString()).stdout();
        // compressed clusters have no host offset in qemu's map, plain ones do
        assertThat(json).contains("\"start\": 0, \"length\": 2097152, \"depth\": 0, \"present\": true, "
                + "\"zero\": false, \"data\": true}");
        assertThat(json).containsPattern("\"start\": 2097152, \"length\": 1048576, .*\"offset\"");
    }

    @Test
    void overwritingCompressedClustersKeepsRefcountsRight() throws Exception {
        Path img = dir.resolve("recompress.qcow2");
        Mirror m = new Mirror(create(img, 4 << 20, true));
        m.write(0, Qemu.mixed(11, 4 << 20));
        m.dev.flush();
        Qemu.assertClean(img);
        m.write(65536 + 100, Qemu.mixed(12, 5000)); // partial: decompressed, merged, stored plain
        m.zero(3 * 65536, 2 * 65536); // whole clusters: freed
        m.write(6 * 65536, Qemu.mixed(13, 65536)); // whole cluster: compressed again elsewhere
        m.zero(10 * 65536 + 7, 100); // partial zero of a compressed cluster
        randomOps(m, 14, 20);
        m.verifyLive();
        m.dev.flush();
        verifyWithQemu(img, m);
        m.dev.close();
        verifyWithQemu(img, m);
    }

    @ParameterizedTest
    @EnumSource(Preallocation.class)
    void preallocatesAsQemuImgDoes(Preallocation mode) throws Exception {
        Path img = dir.resolve("prealloc.qcow2");
        long size = 3 << 20;
        Mirror m = new Mirror(Qcow2WriteDevice.create(img, new CreateOptions(size, mode, false), 16,
                Qcow2WriteDevice.Budget.DEFAULT));
        m.write(100_000, Qemu.mixed(15, 200_000));
        m.zero(1 << 20, 65536);
        m.dev.close();
        verifyWithQemu(img, m);
        Path theirs = dir.resolve("theirs.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "preallocation=" + mode.name().toLowerCase(), theirs.toString(),
                Long.toString(size));
        long ours = allocatedBytes(img);
        long qemu = allocatedBytes(theirs);
        if (mode == Preallocation.OFF || mode == Preallocation.METADATA) {
            assertThat(ours).as("sparse").isLessThan(size);
        } else {
            assertThat(ours).as("space reserved").isGreaterThanOrEqualTo(size);
        }
        if (mode != Preallocation.OFF) {
            assertThat(Files.size(img)).as("file size like qemu-img's").isEqualTo(Files.size(theirs));
            assertThat(ours).as("allocation like qemu-img's (%d)", qemu).isBetween(qemu - (1 << 20),
                    qemu + (1 << 20));
        }
    }

    private static long allocatedBytes(Path file) throws Exception {
        Run.Result r = Tools.run("stat", "-c", "%b %B", file.toString());
        String[] f = r.stdout().trim().split(" ");
        return Long.parseLong(f[0]) * Long.parseLong(f[1]);
    }

    @Test
    void smallClustersGrowTheRefcountTable() throws Exception {
        Path img = dir.resolve("small.qcow2");
        // 512-byte clusters: a refcount block covers 128 KiB, a one-cluster table 8 MiB of file
        Mirror m = new Mirror(Qcow2WriteDevice.create(img, CreateOptions.sparse(10 << 20), 9, TINY));
        m.write(0, Qemu.random(16, 10 << 20));
        m.dev.flush();
        verifyWithQemu(img, m);
        randomOps(m, 17, 30);
        m.dev.close();
        verifyWithQemu(img, m);
        assertThat(Patch.u32(img, 0x38)).as("refcount table clusters").isGreaterThan(1);
    }

    @Test
    void tablesWrittenBackUnderATinyMemoryBudget() throws Exception {
        Path img = dir.resolve("tiny.qcow2");
        // 4 KiB clusters: an L2 table maps 2 MiB; the budget keeps 2 tables and 2 refcount blocks
        Mirror m = new Mirror(Qcow2WriteDevice.create(img, new CreateOptions(24 << 20, Preallocation.OFF, true), 12,
                TINY));
        randomOps(m, 18, 80);
        m.verifyLive();
        m.dev.flush();
        verifyWithQemu(img, m);
        randomOps(m, 19, 40);
        m.dev.close();
        verifyWithQemu(img, m);
    }

    @Test
    void resumesAfterBeingAbandonedMidWay() throws Exception {
        Path img = dir.resolve("resume.qcow2");
        CreateOptions opts = new CreateOptions(16 << 20, Preallocation.OFF, false);
        Qcow2WriteDevice dev = Qcow2WriteDevice.create(img, opts, 12, TINY);
        Mirror m = new Mirror(dev);
        m.write(0, Qemu.mixed(20, 6 << 20));
        m.zero(1 << 20, 65536);
        dev.flush();
        byte[] flushed = m.expected.clone();
        // more writes after the flushed part, spread enough to write tables back, then the process "dies"
        randomOps(m, 21, 40, 6 << 20, 16 << 20);
        dev.abandon();
        assertThat(Patch.u64(img, 0x48) & Qcow2Header.INCOMPAT_DIRTY).as("marked dirty on disk").isNotZero();

        BlockDevice again = new Qcow2Format().reopen(img, opts);
        Qemu.assertClean(img);
        // everything flushed before the interruption is still there
        ByteBuffer head = ByteBuffer.allocate(6 << 20);
        again.read(head, 0);
        assertThat(head.flip().mismatch(ByteBuffer.wrap(flushed, 0, 6 << 20))).isEqualTo(-1);
        // the copier writes again what came after the flush, then goes on
        Mirror resumed = new Mirror(again);
        System.arraycopy(m.expected, 0, resumed.expected, 0, m.expected.length);
        resumed.write(6 << 20, java.util.Arrays.copyOfRange(m.expected, 6 << 20, 16 << 20));
        resumed.write(0, java.util.Arrays.copyOfRange(m.expected, 0, 6 << 20));
        again.close();
        verifyWithQemu(img, resumed);
    }

    @Test
    void resumesAfterTheWritingProcessIsKilled() throws Exception {
        Path img = dir.resolve("killed.qcow2");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                KilledWriter.class.getName(), img.toString()).redirectErrorStream(true).start();
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()))) {
            List<String> lines = new ArrayList<>();
            for (String line; (line = out.readLine()) != null && !line.equals("dirty"); ) {
                lines.add(line);
            }
            assertThat(lines).as("writer output").containsExactly("flushed", "flushed", "flushed");
        } finally {
            p.destroyForcibly(); // SIGKILL, while it writes the rounds after
            p.waitFor();
        }
        assertThat(Patch.u64(img, 0x48) & Qcow2Header.INCOMPAT_DIRTY).as("killed with tables written back")
                .isNotZero();
        CreateOptions opts = new CreateOptions(KilledWriter.SIZE, Preallocation.OFF, false);
        BlockDevice dev = new Qcow2Format().reopen(img, opts);
        Qemu.assertClean(img);
        Mirror m = new Mirror(dev);
        // the first rounds were flushed: they read back intact
        byte[] round0 = KilledWriter.round(0);
        ByteBuffer b = ByteBuffer.allocate(round0.length);
        dev.read(b, 0);
        assertThat(b.flip().mismatch(ByteBuffer.wrap(round0))).isEqualTo(-1);
        for (int r = 0; r < KilledWriter.ROUNDS; r++) {
            m.write((long) r * KilledWriter.ROUND_BYTES, KilledWriter.round(r));
        }
        dev.close();
        verifyWithQemu(img, m);
    }

    /** The writer goes on with images qemu-img made, compressing with the image's own compression type. */
    @ParameterizedTest
    @ValueSource(strings = {"zlib", "zstd"})
    void continuesImagesQemuImgMade(String type) throws Exception {
        Path img = dir.resolve("qemu-made.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "compression_type=" + type, img.toString(), "2M");
        Tools.require("qemu-io");
        Qemu.io(img, "write -P 0x31 0 100k", "write -z 512k 64k");
        Mirror m = new Mirror(new Qcow2Format().reopen(img, new CreateOptions(2 << 20, Preallocation.OFF, true)));
        java.util.Arrays.fill(m.expected, 0, 100 * 1024, (byte) 0x31);
        m.write(50_000, Qemu.mixed(22, 300_000));
        m.write(1 << 20, Qemu.mixed(23, 512 << 10));
        m.dev.close();
        verifyWithQemu(img, m);
        assertThat(Qemu.img("check", img.toString()).stdout()).doesNotContain(" 0.00% compressed");
    }

    /**
     * Random damage to the metadata of an image the writer made: resuming it either fails with a
     * clear error, or gives an image that {@code qemu-img check} finds clean once closed.
     */
    @Test
    void resumingDamagedImagesFailsCleanlyOrRepairs() throws Exception {
        Path good = dir.resolve("good.qcow2");
        CreateOptions opts = new CreateOptions(3 << 20, Preallocation.OFF, true);
        Mirror m = new Mirror(Qcow2WriteDevice.create(good, opts, 16, Qcow2WriteDevice.Budget.DEFAULT));
        randomOps(m, 30, 20);
        m.dev.close();
        byte[] original = Files.readAllBytes(good);
        long l1 = Patch.u64(good, 0x28);
        long l2 = Patch.firstL2(good);
        long refTable = Patch.u64(good, 0x30);
        Random rnd = new Random(Long.getLong("fuzz.seed", 31));
        Path img = dir.resolve("damaged.qcow2");
        int resumed = 0;
        for (int round = 0; round < Integer.getInteger("fuzz.rounds", 40); round++) {
            byte[] b = original.clone();
            long at = switch (rnd.nextInt(4)) {
                case 0 -> rnd.nextInt(0x70);
                case 1 -> l1 + rnd.nextInt(8);
                case 2 -> refTable + rnd.nextInt(8);
                default -> l2 + rnd.nextInt(8 * 48);
            };
            b[(int) at] = (byte) (b[(int) at] ^ (1 << rnd.nextInt(8)));
            Files.write(img, b);
            try {
                BlockDevice dev = new Qcow2Format().reopen(img, opts);
                dev.write(ByteBuffer.wrap(Qemu.mixed(round, 100_000)), 1 << 20);
                dev.close();
            } catch (BadInputException e) {
                assertThat(e.getMessage()).doesNotContain("\n").contains(img.toString());
                continue;
            } catch (IOException e) {
                assertThat(e.getMessage()).contains(img.toString()); // e.g. a refcount table grown too large
                continue;
            }
            resumed++;
            Qemu.assertClean(img);
        }
        assertThat(resumed).as("images resumed").isPositive();
    }

    @Test
    void refusesToResumeWhatItCannot() throws Exception {
        Path v2 = dir.resolve("v2.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "compat=0.10", v2.toString(), "1M");
        assertThatThrownBy(() -> new Qcow2Format().reopen(v2, CreateOptions.sparse(1 << 20)))
                .isInstanceOf(BadInputException.class).hasMessageContaining("version 2");
        Path img = dir.resolve("ours.qcow2");
        new Qcow2Format().create(img, CreateOptions.sparse(1 << 20)).close();
        assertThatThrownBy(() -> new Qcow2Format().reopen(img, CreateOptions.sparse(2 << 20)))
                .isInstanceOf(BadInputException.class).hasMessageContaining("size at offset 0x18");
    }

    @Test
    void rejectsAccessOutsideTheDiskAndAfterClose() throws Exception {
        Path img = dir.resolve("bounds.qcow2");
        BlockDevice dev = new Qcow2Format().create(img, CreateOptions.sparse(1 << 20));
        assertThat(dev.isWritable()).isTrue();
        assertThatThrownBy(() -> dev.write(ByteBuffer.allocate(10), (1 << 20) - 5))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> dev.writeZeroes(-1, 5)).isInstanceOf(IllegalArgumentException.class);
        dev.close();
        dev.close();
        assertThatThrownBy(() -> dev.write(ByteBuffer.allocate(10), 0)).isInstanceOf(IOException.class);
        Qemu.assertClean(img);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 65535, 65536, 65537})
    void oddVirtualSizes(long size) throws Exception {
        Path img = dir.resolve("odd.qcow2");
        Mirror m = new Mirror(create(img, size, false));
        if (size > 0) {
            m.write(size - 1, new byte[] {7});
        }
        m.dev.close();
        Qemu.assertClean(img);
        long rounded = (size + 511) / 512 * 512; // whole sectors, as qemu-img create
        assertThat(m.dev.size()).isEqualTo(rounded);
        assertThat(Qemu.img("info", img.toString()).stdout()).contains("(" + rounded + " bytes)");
        if (size > 0) {
            verifyWithQemu(img, m);
        }
    }

    /** A fixed pattern written single-threaded gives a byte-identical file: its layout is the golden file. */
    @Test
    void layoutMatchesTheGoldenFile() throws Exception {
        Path img = dir.resolve("golden.qcow2");
        BlockDevice dev = create(img, 1 << 20, false);
        dev.write(ByteBuffer.wrap(Qemu.filled(0x11, 70_000)), 0);
        dev.writeZeroes(65536, 65536);
        dev.write(ByteBuffer.wrap(Qemu.filled(0x22, 10)), 500_000);
        dev.close();
        String layout = Qemu.img("map", "--output=json", img.toString()).stdout()
                + Qemu.img("check", "--output=json", img.toString()).stdout().replace(img.toString(), "IMAGE")
                + "size " + Files.size(img) + "\nsha256 " + org.jv2v.testing.Checksums.sha256(img) + "\n";
        Golden.assertMatches("qcow2/writer-layout.txt", layout);
    }
}
