package org.jv2v.image.raw;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.CreateOptions;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.image.Preallocation;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
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

class RawFormatTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private static OpenContext ctx(Path file) {
        return OpenContext.of(PathGuard.folderOf(file));
    }

    /** A sparse raw image made by qemu-img, with data written by qemu-io (one block of explicit zeros too). */
    private Path qemuSparseImage() throws Exception {
        Path img = dir.resolve("src.raw");
        QemuImg.create(img, "raw", 16 * MIB);
        QemuImg.io(img, "raw", List.of("write -P 0x11 0 64k", "write -P 0x22 1M 1M", "write -P 0x00 4M 256k",
                "write -P 0x33 5M 12345", "write -P 0x44 16775000 2216"));
        return img;
    }

    @Test
    void probesEverythingAsRawWithTheLowestScore() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path img = qemuSparseImage();
        assertThat(new RawFormat().probe(ByteBuffer.allocate(0), img, 0)).isEqualTo(1);
        assertThat(Images.probe(img).name()).isEqualTo("raw");
        assertThat(Images.formats().getLast().name()).isEqualTo("raw");
    }

    @Test
    void readsTheBytesAndHolesQemuImgReports() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path img = qemuSparseImage();
        var before = Checksums.of(dir);
        byte[] file = Files.readAllBytes(img);
        try (OpenedImage opened = new RawFormat().open(img, ctx(img))) {
            BlockDevice dev = opened.device();
            assertThat(opened.format()).isEqualTo("raw");
            assertThat(dev.size()).isEqualTo(16 * MIB);
            assertThat(dev.isWritable()).isFalse();
            ByteBuffer all = ByteBuffer.allocate((int) dev.size());
            dev.read(all, 0);
            assertThat(all.array()).isEqualTo(file);

            // our DATA extents are exactly qemu-img map's data extents (both come from SEEK_DATA)
            List<long[]> ours = dataRanges(dev);
            List<long[]> theirs = new ArrayList<>();
            for (QemuImg.MapEntry e : QemuImg.map(img, "raw")) {
                if (e.data()) {
                    theirs.add(new long[] {e.start(), e.end()});
                }
            }
            assertThat(ours).usingRecursiveComparison().isEqualTo(merge(theirs));
            // and every byte outside them reads as zero
            for (Extent e : allExtents(dev)) {
                if (e.type() != ExtentType.DATA) {
                    for (long i = e.offset(); i < e.end(); i++) {
                        assertThat(file[(int) i]).as("byte %d in a hole", i).isZero();
                    }
                }
            }
            assertThatThrownBy(() -> dev.write(ByteBuffer.allocate(1), 0)).hasMessageContaining("read-only");
            assertThatThrownBy(() -> dev.read(ByteBuffer.allocate(2), dev.size() - 1))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(Checksums.of(dir)).isEqualTo(before);
    }

    @Test
    void aFileTruncatedWhileOpenIsAnErrorNamingIt() throws Exception {
        Path img = dir.resolve("t.raw");
        Files.write(img, new byte[8192]);
        try (OpenedImage opened = new RawFormat().open(img, ctx(img))) {
            try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
                f.setLength(100);
            }
            assertThatThrownBy(() -> opened.device().read(ByteBuffer.allocate(4096), 4096))
                    .isInstanceOf(IOException.class).hasMessageContaining(img.toString()).hasMessageContaining("4096");
        }
    }

    @Test
    void writesSparselyAndQemuImgAgrees() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path ours = dir.resolve("ours.raw");
        Path theirs = dir.resolve("theirs.raw");
        QemuImg.create(theirs, "raw", 8 * MIB);
        QemuImg.io(theirs, "raw", List.of("write -P 0x5a 1M 64k", "write -P 0x01 3M 100", "write -P 0x7f 8386560 1024"));
        try (BlockDevice dev = new RawFormat().create(ours, CreateOptions.sparse(8 * MIB))) {
            assertThat(dev.isWritable()).isTrue();
            // one write holding zeros, data, zeros: the zeros must become holes, not written blocks
            ByteBuffer b = ByteBuffer.allocate((int) (2 * MIB));
            for (int i = (int) MIB; i < MIB + 65536; i++) {
                b.put(i, (byte) 0x5a);
            }
            dev.write(b, 0);
            dev.write(ByteBuffer.wrap(filled(100, 0x01)), 3 * MIB);
            dev.write(ByteBuffer.wrap(filled(1024, 0x7f)), 8386560);
            // a block written then zeroed again reads as zero
            dev.write(ByteBuffer.wrap(filled(8192, 0x66)), 6 * MIB);
            dev.writeZeroes(6 * MIB, 8192);
            dev.flush();
        }
        assertThat(QemuImg.compare(ours, theirs).exitCode()).isZero();
        List<long[]> data = new ArrayList<>();
        for (QemuImg.MapEntry e : QemuImg.map(ours, "raw")) {
            if (e.data()) {
                data.add(new long[] {e.start(), e.end()});
            }
        }
        // holes everywhere but the three written blocks (rounded out to 4 KiB file blocks)
        assertThat(data).usingRecursiveComparison().isEqualTo(List.of(new long[] {MIB, MIB + 65536},
                new long[] {3 * MIB, 3 * MIB + 4096}, new long[] {8 * MIB - 4096, 8 * MIB}));
        assertThat(SparseFile.allocatedBytes(ours)).isLessThanOrEqualTo(65536 + 2 * 4096 + 4096);
    }

    @Test
    void preallocationModesAllocateWhatTheySay() throws Exception {
        Tools.require("qemu-img");
        long size = 4 * MIB;
        for (Preallocation p : Preallocation.values()) {
            Path f = dir.resolve("p-" + p + ".raw");
            try (BlockDevice dev = new RawFormat().create(f, new CreateOptions(size, p, false))) {
                dev.write(ByteBuffer.wrap(filled(4096, 0x99)), MIB);
                dev.writeZeroes(2 * MIB, MIB);
            }
            long actual = QemuImg.info(f).get("actual-size").asLong();
            assertThat(SparseFile.allocatedBytes(f)).as("allocation agrees with qemu-img info, %s", p).isEqualTo(actual);
            if (p == Preallocation.FULL || p == Preallocation.FALLOC) {
                assertThat(actual).as("%s allocates everything", p).isGreaterThanOrEqualTo(size);
            } else {
                assertThat(actual).as("%s stays sparse", p).isLessThanOrEqualTo(8192);
            }
            byte[] bytes = Files.readAllBytes(f);
            assertThat(bytes).hasSize((int) size);
            assertThat(bytes[(int) MIB]).isEqualTo((byte) 0x99);
            assertThat(bytes[(int) MIB - 1]).isZero();
        }
    }

    @Test
    void concurrentPositionalWritesLandWhereAsked() throws Exception {
        Path f = dir.resolve("c.raw");
        long size = 16 * MIB;
        byte[] model = new byte[(int) size];
        try (BlockDevice dev = new RawFormat().create(f, CreateOptions.sparse(size));
             ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int slot = t;
                futures.add(pool.submit(() -> {
                    Random r = new Random(slot);
                    // each thread owns every 8th 64 KiB slot; writes are unaligned inside it
                    for (int n = 0; n < 40; n++) {
                        long base = (long) (r.nextInt((int) (size / 65536 / 8)) * 8 + slot) * 65536;
                        int off = r.nextInt(60000);
                        int len = 1 + r.nextInt(65536 - off);
                        byte[] data = new byte[len];
                        if (r.nextBoolean()) {
                            r.nextBytes(data);
                        }
                        synchronized (model) {
                            System.arraycopy(data, 0, model, (int) base + off, len);
                        }
                        dev.write(ByteBuffer.wrap(data), base + off);
                    }
                    return null;
                }));
            }
            for (Future<?> fu : futures) {
                fu.get();
            }
        }
        assertThat(Files.readAllBytes(f)).isEqualTo(model);
    }

    @Test
    void reopenContinuesAnImageOfTheRightSizeOnly() throws Exception {
        Path f = dir.resolve("r.raw");
        try (BlockDevice dev = new RawFormat().create(f, CreateOptions.sparse(MIB))) {
            dev.write(ByteBuffer.wrap(filled(10, 1)), 0);
        }
        try (BlockDevice dev = new RawFormat().reopen(f, CreateOptions.sparse(MIB))) {
            dev.write(ByteBuffer.wrap(filled(10, 2)), 100);
        }
        byte[] b = Files.readAllBytes(f);
        assertThat(b[0]).isEqualTo((byte) 1);
        assertThat(b[100]).isEqualTo((byte) 2);
        assertThatThrownBy(() -> new RawFormat().reopen(f, CreateOptions.sparse(2 * MIB)))
                .hasMessageContaining(f.toString()).hasMessageContaining("1048576");
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    static List<Extent> allExtents(BlockDevice dev) throws IOException {
        List<Extent> out = new ArrayList<>();
        long pos = 0;
        while (pos < dev.size()) {
            List<Extent> es = dev.blockStatus(pos, dev.size() - pos);
            assertThat(es).isNotEmpty();
            assertThat(es.getFirst().offset()).isEqualTo(pos);
            for (Extent e : es) {
                assertThat(e.offset()).isEqualTo(pos);
                out.add(e);
                pos = e.end();
            }
        }
        return out;
    }

    private static List<long[]> dataRanges(BlockDevice dev) throws IOException {
        List<long[]> out = new ArrayList<>();
        for (Extent e : allExtents(dev)) {
            if (e.type() == ExtentType.DATA) {
                out.add(new long[] {e.offset(), e.end()});
            }
        }
        return merge(out);
    }

    private static List<long[]> merge(List<long[]> ranges) {
        List<long[]> out = new ArrayList<>();
        for (long[] r : ranges) {
            if (!out.isEmpty() && out.getLast()[1] == r[0]) {
                out.getLast()[1] = r[1];
            } else {
                out.add(r.clone());
            }
        }
        return out;
    }
}
