package org.jv2v.image;

import org.jv2v.copy.Copier;
import org.jv2v.copy.CopyOptions;
import org.jv2v.copy.ProgressListener;
import org.jv2v.image.raw.RawFormat;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OverlayTest {
    private static final int MIB = 1 << 20;
    /** Not a multiple of the overlay's cluster: the last cluster is partial. */
    private static final long SIZE = 4L * MIB + 7 * 512;

    @TempDir
    Path dir;

    private Path base() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path img = src.resolve("base.raw");
        QemuImg.create(img, "raw", SIZE);
        QemuImg.io(img, "raw", List.of("write -P 0xa1 0 100k", "write -P 0xb2 1M 300k", "write -P 0xc3 3M 64k",
                "write -P 0xd4 4194304 3584"));
        return img;
    }

    private static OpenedImage open(Path img) throws IOException {
        return new RawFormat().open(img, OpenContext.of(PathGuard.folderOf(img)));
    }

    @Test
    void randomWritesMergeLikeQemuIoAndNeverReachTheBase() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path img = base();
        Path expectedFile = dir.resolve("expected.raw");
        Files.copy(img, expectedFile);
        Map<String, String> before = Checksums.of(img.getParent());
        byte[] model = Files.readAllBytes(img);
        Path tmp = Files.createDirectories(dir.resolve("tmp"));

        Random r = new Random(42);
        List<String> qemuOps = new ArrayList<>();
        try (OpenedImage opened = open(img); Overlay ov = Overlay.create(opened.device(), tmp)) {
            assertThat(ov.tempFileUnlinked()).isTrue();
            assertThat(Files.list(tmp).toList()).as("temp file unlinked at once").isEmpty();
            for (int i = 0; i < 120; i++) {
                long off = r.nextLong(SIZE);
                int maxLen = (int) Math.min(SIZE - off, r.nextInt(4) == 0 ? 300_000 : 5_000);
                int len = 1 + r.nextInt(Math.max(1, maxLen));
                if (off + len > SIZE) {
                    len = (int) (SIZE - off);
                }
                int kind = r.nextInt(10);
                if (kind < 6) {
                    int pattern = 1 + r.nextInt(255);
                    byte[] data = new byte[len];
                    Arrays.fill(data, (byte) pattern);
                    ov.write(ByteBuffer.wrap(data), off);
                    Arrays.fill(model, (int) off, (int) off + len, (byte) pattern);
                    qemuOps.add(String.format(Locale.ROOT, "write -P 0x%02x %d %d", pattern, off, len));
                } else if (kind < 8) {
                    ov.writeZeroes(off, len);
                    Arrays.fill(model, (int) off, (int) off + len, (byte) 0);
                    qemuOps.add("write -z " + off + " " + len);
                } else {
                    // zeros through write(): whole clusters of them become ZERO entries
                    ov.write(ByteBuffer.allocate(len), off);
                    Arrays.fill(model, (int) off, (int) off + len, (byte) 0);
                    qemuOps.add("write -P 0x00 " + off + " " + len);
                }
                if (i % 20 == 0) {
                    assertReadsMatch(ov, model, r);
                }
            }
            QemuImg.io(expectedFile, "raw", qemuOps);
            byte[] expected = Files.readAllBytes(expectedFile);
            assertThat(model).as("the in-memory model agrees with qemu-io").isEqualTo(expected);

            ByteBuffer all = ByteBuffer.allocate((int) SIZE);
            ov.read(all, 0);
            assertThat(all.array()).as("overlay's merged view").isEqualTo(expected);
            assertReadsMatch(ov, model, r);
            assertBlockStatusExact(ov, opened.device(), model);

            // the pipeline copies through the overlay: qemu-img compares the copy with qemu-io's file
            Path copy = dir.resolve("copy.raw");
            Copier.copy(ov, new RawFormat(), copy, CopyOptions.defaults().withChunkSize(MIB),
                    ProgressListener.NONE);
            assertThat(QemuImg.compare(copy, expectedFile).exitCode()).isZero();
            assertThat(ov.overlayBytes()).isPositive();
        }
        assertThat(Checksums.of(img.getParent())).as("base untouched").isEqualTo(before);
        assertThat(Files.list(tmp).toList()).as("no temp file left").isEmpty();
    }

    private static void assertReadsMatch(Overlay ov, byte[] model, Random r) throws IOException {
        for (int i = 0; i < 50; i++) {
            long off = r.nextLong(SIZE);
            int len = (int) Math.min(SIZE - off, 1 + r.nextInt(200_000));
            ByteBuffer b = ByteBuffer.allocate(len);
            ov.read(b, off);
            assertThat(b.array()).as("read %d +%d", off, len)
                    .isEqualTo(Arrays.copyOfRange(model, (int) off, (int) off + len));
        }
    }

    /** Non-DATA extents hold only zeros; untouched clusters report exactly the base's status. */
    private static void assertBlockStatusExact(Overlay ov, BlockDevice base, byte[] model) throws IOException {
        long pos = 0;
        int dataExtents = 0;
        while (pos < SIZE) {
            List<Extent> es = ov.blockStatus(pos, SIZE - pos);
            for (Extent e : es) {
                assertThat(e.offset()).isEqualTo(pos);
                if (e.type() != ExtentType.DATA) {
                    for (long i = e.offset(); i < e.end(); i++) {
                        assertThat(model[(int) i]).as("byte %d of a %s extent", i, e.type()).isZero();
                    }
                } else {
                    dataExtents++;
                }
                pos = e.end();
            }
        }
        assertThat(dataExtents).isPositive();
        // a fresh overlay is a pure pass-through of the base's status
        try (Overlay fresh = Overlay.create(base)) {
            assertThat(fresh.blockStatus(0, SIZE)).isEqualTo(base.blockStatus(0, SIZE));
        }
    }

    /**
     * Exact block status after writes: every cluster nothing was written to reports exactly what
     * the base reports for it (data, and the base's holes, are not blurred into the overlay's
     * clusters), zeroed whole clusters are ZERO (also when the zeros came through write), and a
     * byte written into a hole makes that cluster, and only it, DATA.
     */
    @Test
    void blockStatusIsTheBasesWhereNothingWasWrittenAndExactWhereItWas() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path img = base();
        long cl = Overlay.CLUSTER_SIZE;
        try (OpenedImage opened = open(img); Overlay ov = Overlay.create(opened.device(), dir)) {
            BlockDevice base = opened.device();
            ov.writeZeroes(cl, 2 * cl);                              // clusters 1-2: over the base's data
            ov.write(ByteBuffer.wrap(new byte[] {7}), 2L * MIB + 5);  // cluster 32: in a hole of the base
            ov.write(ByteBuffer.allocate((int) cl), 3L * MIB);        // cluster 48: zeros over data, through write
            List<Long> touched = List.of(1L, 2L, 32L, 48L);
            assertThat(ov.blockStatus(cl, 2 * cl)).containsExactly(new Extent(cl, 2 * cl, ExtentType.ZERO));
            assertThat(ov.blockStatus(32 * cl, cl)).containsExactly(new Extent(32 * cl, cl, ExtentType.DATA));
            assertThat(ov.blockStatus(48 * cl, cl)).containsExactly(new Extent(48 * cl, cl, ExtentType.ZERO));
            assertThat(base.blockStatus(32 * cl, cl)).as("the base has a hole there")
                    .noneMatch(e -> e.type() == ExtentType.DATA);
            int compared = 0;
            for (long c = 0; c * cl < SIZE; c++) {
                long len = Math.min(cl, SIZE - c * cl);
                if (!touched.contains(c)) {
                    assertThat(ov.blockStatus(c * cl, len)).as("cluster %d", c)
                            .isEqualTo(base.blockStatus(c * cl, len));
                    compared++;
                }
            }
            assertThat(compared).isEqualTo((int) ((SIZE + cl - 1) / cl) - touched.size());
            // and in one call across many clusters: the runs after the last written cluster are the base's
            assertThat(ov.blockStatus(49 * cl, SIZE - 49 * cl)).isEqualTo(base.blockStatus(49 * cl, SIZE - 49 * cl));
            assertThat(ov.blockStatus(3 * cl, 29 * cl)).isEqualTo(base.blockStatus(3 * cl, 29 * cl));
        }
    }

    @Test
    void partialClusterWritesKeepTheBaseBytesAroundThem() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path img = base();
        byte[] model = Files.readAllBytes(img);
        try (OpenedImage opened = open(img); Overlay ov = Overlay.create(opened.device(), dir)) {
            ov.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 50_000);
            model[50_000] = 1;
            model[50_001] = 2;
            model[50_002] = 3;
            // the last, partial cluster
            ov.write(ByteBuffer.wrap(new byte[] {9}), SIZE - 1);
            model[(int) SIZE - 1] = 9;
            ByteBuffer all = ByteBuffer.allocate((int) SIZE);
            ov.read(all, 0);
            assertThat(all.array()).isEqualTo(model);
            List<Extent> st = ov.blockStatus(0, Overlay.CLUSTER_SIZE);
            assertThat(st).containsExactly(new Extent(0, Overlay.CLUSTER_SIZE, ExtentType.DATA));
            assertThatThrownBy(() -> ov.write(ByteBuffer.allocate(2), SIZE - 1))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void readersRunWhileAWriterWritesElsewhere() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path img = base();
        byte[] baseBytes = Files.readAllBytes(img);
        try (OpenedImage opened = open(img); Overlay ov = Overlay.create(opened.device(), dir);
             ExecutorService pool = Executors.newFixedThreadPool(4)) {
            AtomicBoolean stop = new AtomicBoolean();
            // the writer owns [2 MiB, 3 MiB); readers check that the rest still reads as the base
            Future<?> writer = pool.submit(() -> {
                Random r = new Random(7);
                for (int i = 0; i < 400; i++) {
                    int off = 2 * MIB + r.nextInt(MIB - 70_000);
                    byte[] d = new byte[1 + r.nextInt(70_000)];
                    r.nextBytes(d);
                    ov.write(ByteBuffer.wrap(d), off);
                }
                stop.set(true);
                return null;
            });
            List<Future<?>> readers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int seed = t;
                readers.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    while (!stop.get()) {
                        int off = r.nextBoolean() ? r.nextInt(2 * MIB - 100_000) : 3 * MIB + r.nextInt(MIB - 100_000);
                        ByteBuffer b = ByteBuffer.allocate(1 + r.nextInt(100_000));
                        ov.read(b, off);
                        assertThat(b.array()).isEqualTo(Arrays.copyOfRange(baseBytes, off, off + b.capacity()));
                    }
                    return null;
                }));
            }
            writer.get();
            for (Future<?> f : readers) {
                f.get();
            }
        }
    }

    @Test
    void aClosedOverlayRefusesAccess() throws Exception {
        Path img = dir.resolve("small.raw");
        Files.write(img, new byte[128 * 1024]);
        OpenedImage opened = open(img);
        Overlay ov = Overlay.create(opened.device(), dir);
        ov.write(ByteBuffer.wrap(new byte[] {1}), 0);
        ov.close();
        assertThatThrownBy(() -> ov.read(ByteBuffer.allocate(1), 0)).hasMessageContaining("closed");
        // the base stays open: the overlay does not own it
        ByteBuffer b = ByteBuffer.allocate(1);
        opened.device().read(b, 0);
        assertThat(b.get(0)).isZero();
        opened.close();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("small.raw");
        }
    }
}
