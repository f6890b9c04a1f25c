package org.jv2v.copy;

import org.jv2v.Jv2vException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.CreateOptions;
import org.jv2v.image.Extent;
import org.jv2v.image.ImageWriter;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.image.Preallocation;
import org.jv2v.image.raw.RawFormat;
import org.jv2v.image.raw.SparseFile;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CopierTest {
    static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    /**
     * 32 MiB, made by qemu-img and qemu-io: 4.5 MiB of non-zero data, 2 MiB of explicitly written
     * (allocated) zeros, holes elsewhere.
     */
    private Path sparseSource() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src")).resolve("disk.raw");
        QemuImg.create(src, "raw", 32L * MIB);
        QemuImg.io(src, "raw", List.of("write -P 0x11 0 512k", "write -P 0x22 3M 3M", "write -P 0x00 8M 2M",
                "write -P 0x33 20M 1M", "write -P 0x44 33550336 4096"));
        return src;
    }

    private static final long NON_ZERO = 512 * 1024 + 3 * MIB + MIB + 4096;

    private static OpenedImage open(Path img) throws IOException {
        return new RawFormat().open(img, OpenContext.of(PathGuard.folderOf(img)));
    }

    private static CopyOptions small() {
        return CopyOptions.defaults().withChunkSize(MIB).withWorkers(3);
    }

    @Test
    void aSparseSourceCopiesIdenticallyWithoutItsZeros() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = sparseSource();
        Map<String, String> before = Checksums.of(src.getParent());
        Path dst = dir.resolve("out.raw");
        List<CopyProgress> seen = new ArrayList<>();
        CopyResult r;
        try (OpenedImage in = open(src)) {
            r = Copier.copy(in.device(), new RawFormat(), dst, small().withVerify(true), p -> {
                synchronized (seen) {
                    seen.add(p);
                }
            });
        }
        assertThat(QemuImg.compare(src, dst).exitCode()).isZero();
        assertThat(Checksums.of(src.getParent())).isEqualTo(before);
        assertThat(r.verified()).isTrue();
        assertThat(r.bytesWritten()).isEqualTo(NON_ZERO);
        assertThat(r.bytesRead()).as("holes are not read").isLessThan(32L * MIB - 16 * MIB);
        assertThat(r.zeroBytes()).isEqualTo(32L * MIB - NON_ZERO);
        // the explicitly written zeros did not become allocated blocks in the copy
        assertThat(SparseFile.allocatedBytes(dst)).isLessThanOrEqualTo(NON_ZERO);
        assertThat(SparseFile.allocatedBytes(src)).isGreaterThan(NON_ZERO + MIB);
        long dataInMap = QemuImg.map(dst, "raw").stream().filter(QemuImg.MapEntry::data)
                .mapToLong(QemuImg.MapEntry::length).sum();
        assertThat(dataInMap).isEqualTo(NON_ZERO);
        assertThat(Files.exists(Copier.partFile(dst))).isFalse();
        assertThat(Files.exists(Copier.journalFile(dst))).isFalse();
        assertThat(seen.getLast().done()).isEqualTo(32L * MIB);
        for (int i = 1; i < seen.size(); i++) {
            assertThat(seen.get(i).done()).isGreaterThanOrEqualTo(seen.get(i - 1).done());
        }
    }

    @Test
    void unusedRangesAreNeitherReadNorCopied() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = sparseSource();
        Path expected = dir.resolve("expected.raw");
        Files.copy(src, expected);
        // no filesystem uses [3.5 MiB, 5 MiB) or the last 4 KiB block
        QemuImg.io(expected, "raw", List.of("write -z 3670016 1572864", "write -z 33550336 4096"));
        RangeSet unused = RangeSet.builder().add(3670016, 1572864).add(33550336, 4096).build();
        Path dst = dir.resolve("out.raw");
        CopyResult r;
        try (OpenedImage in = open(src)) {
            r = Copier.copy(in.device(), new RawFormat(), dst, small().withUnused(unused).withVerify(true),
                    ProgressListener.NONE);
        }
        assertThat(QemuImg.compare(expected, dst).exitCode()).isZero();
        assertThat(QemuImg.compare(src, dst).exitCode()).as("the unused data really was left out").isNotZero();
        assertThat(r.unusedBytes()).isEqualTo(1572864 + 4096);
        assertThat(r.bytesWritten()).isEqualTo(NON_ZERO - 1572864 - 4096);
    }

    @Test
    void preallocatedTargetsAreFullyAllocatedAndIdentical() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = sparseSource();
        Path dst = dir.resolve("full.raw");
        try (OpenedImage in = open(src)) {
            Copier.copy(in.device(), new RawFormat(), dst, small().withPreallocation(Preallocation.FULL),
                    ProgressListener.NONE);
        }
        assertThat(QemuImg.compare(src, dst).exitCode()).isZero();
        assertThat(QemuImg.info(dst).get("actual-size").asLong()).isGreaterThanOrEqualTo(32L * MIB);
    }

    @Test
    void verifyCatchesACorruptedTarget() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = sparseSource();
        Path dst = dir.resolve("bad.raw");
        try (OpenedImage in = open(src)) {
            assertThatThrownBy(() -> Copier.copy(in.device(), new CorruptingWriter(3), dst, small().withVerify(true),
                    ProgressListener.NONE))
                    .isInstanceOf(Jv2vException.class).hasMessageContaining("verification failed")
                    .hasMessageContaining(dst.toString());
        }
        assertThat(Files.exists(dst)).isFalse();
        assertThat(Files.exists(Copier.partFile(dst))).isFalse();
        assertThat(Files.exists(Copier.journalFile(dst))).isFalse();
        // the same corruption without --verify goes unnoticed: verify is what caught it
        try (OpenedImage in = open(src)) {
            Copier.copy(in.device(), new CorruptingWriter(3), dst, small(), ProgressListener.NONE);
        }
        assertThat(QemuImg.compare(src, dst).exitCode()).isNotZero();
    }

    @Test
    void aFailedCopyLeavesNoTargetBehind() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = sparseSource();
        Path dst = dir.resolve("never.raw");
        try (OpenedImage in = open(src)) {
            BlockDevice failing = new FaultySource(in.device(), 2, 0);
            assertThatThrownBy(() -> Copier.copy(failing, new RawFormat(), dst, small(), ProgressListener.NONE))
                    .isInstanceOf(IOException.class).hasMessageContaining("injected read failure");
        }
        assertThat(Files.exists(dst)).isFalse();
        assertThat(Files.exists(Copier.partFile(dst))).as("nothing checkpointed: no part file kept").isFalse();
    }

    @Test
    void aFailedCopyResumesWithoutRecopyingWhatWasJournaled() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = sparseSource();
        Path dst = dir.resolve("resumed.raw");
        CopyOptions opts = CopyOptions.defaults().withChunkSize(MIB).withWorkers(1)
                .withCheckpointInterval(Duration.ofMillis(20)).withSourceId("disk-1");
        try (OpenedImage in = open(src)) {
            // slow reads let checkpoints happen; the 4th data read fails
            BlockDevice failing = new FaultySource(in.device(), 4, 60);
            assertThatThrownBy(() -> Copier.copy(failing, new RawFormat(), dst, opts, ProgressListener.NONE))
                    .hasMessageContaining("injected read failure");
        }
        assertThat(Files.exists(dst)).isFalse();
        assertThat(Files.exists(Copier.partFile(dst))).isTrue();
        String journal = Files.readString(Copier.journalFile(dst));
        long journaled = journaledChunks(journal) * MIB;
        assertThat(journaled).isPositive();

        CopyResult r;
        try (OpenedImage in = open(src)) {
            r = Copier.copy(in.device(), new RawFormat(), dst, opts.withVerify(true), ProgressListener.NONE);
        }
        assertThat(QemuImg.compare(src, dst).exitCode()).isZero();
        assertThat(r.resumedBytes()).isEqualTo(journaled);
        assertThat(r.verified()).isTrue();
        // the first chunks (holding the 0x11 data) were journaled: this run did not read them again
        try (OpenedImage in = open(src)) {
            long dataAll = dataBytes(in.device(), 0, 32L * MIB);
            long dataJournaled = 0;
            for (long[] c : journaledRanges(journal)) {
                dataJournaled += dataBytes(in.device(), c[0] * MIB, c[1] * MIB);
            }
            assertThat(dataJournaled).isPositive();
            assertThat(r.bytesRead()).isEqualTo(dataAll - dataJournaled);
        }
    }

    @Test
    void aJournalForAnotherSourceIsNotResumed() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = sparseSource();
        Path other = dir.resolve("src").resolve("other.raw");
        QemuImg.create(other, "raw", 32L * MIB);
        QemuImg.io(other, "raw", List.of("write -P 0x77 0 2M"));
        Path dst = dir.resolve("x.raw");
        CopyOptions opts = CopyOptions.defaults().withChunkSize(MIB).withWorkers(1)
                .withCheckpointInterval(Duration.ofMillis(20));
        try (OpenedImage in = open(src)) {
            assertThatThrownBy(() -> Copier.copy(new FaultySource(in.device(), 4, 60), new RawFormat(), dst,
                    opts.withSourceId("first"), ProgressListener.NONE)).hasMessageContaining("injected");
        }
        assertThat(Files.exists(Copier.journalFile(dst))).isTrue();
        CopyResult r;
        try (OpenedImage in = open(other)) {
            r = Copier.copy(in.device(), new RawFormat(), dst, opts.withSourceId("second"), ProgressListener.NONE);
        }
        assertThat(r.resumedBytes()).isZero();
        assertThat(QemuImg.compare(other, dst).exitCode()).isZero();
    }

    @Test
    void anEmptyDiskMakesAnEmptyImage() throws Exception {
        Path src = dir.resolve("empty.raw");
        Files.createFile(src);
        Path dst = dir.resolve("empty-copy.raw");
        try (OpenedImage in = open(src)) {
            CopyResult r = Copier.copy(in.device(), new RawFormat(), dst, small().withVerify(true),
                    ProgressListener.NONE);
            assertThat(r.virtualSize()).isZero();
        }
        assertThat(Files.size(dst)).isZero();
    }

    static long journaledChunks(String journal) {
        return journaledRanges(journal).stream().mapToLong(c -> c[1] - c[0]).sum();
    }

    /** {@code [firstChunk, endChunk)} pairs from a journal's "done" lines. */
    static List<long[]> journaledRanges(String journal) {
        List<long[]> out = new ArrayList<>();
        for (String line : journal.split("\n")) {
            if (line.startsWith("done ")) {
                String[] f = line.split(" ");
                long first = Long.parseLong(f[1]);
                out.add(new long[] {first, first + Long.parseLong(f[2])});
            }
        }
        return out;
    }

    private static long dataBytes(BlockDevice dev, long from, long to) throws IOException {
        long sum = 0;
        long pos = from;
        while (pos < to) {
            for (Extent e : dev.blockStatus(pos, to - pos)) {
                if (!e.type().readsAsZero()) {
                    sum += Math.min(e.end(), to) - Math.max(e.offset(), pos);
                }
                pos = e.end();
            }
        }
        return sum;
    }

    /** A real raw source whose {@code failAt}-th read throws, each read delayed by {@code delayMs}. */
    static final class FaultySource implements BlockDevice {
        private final BlockDevice real;
        private final int failAt;
        private final long delayMs;
        private final AtomicInteger reads = new AtomicInteger();

        FaultySource(BlockDevice real, int failAt, long delayMs) {
            this.real = real;
            this.failAt = failAt;
            this.delayMs = delayMs;
        }

        @Override
        public long size() {
            return real.size();
        }

        @Override
        public void read(ByteBuffer dst, long offset) throws IOException {
            try {
                Thread.sleep(delayMs);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            if (reads.incrementAndGet() == failAt) {
                throw new IOException(describe() + ": injected read failure at offset " + offset);
            }
            real.read(dst, offset);
        }

        @Override
        public List<Extent> blockStatus(long offset, long length) throws IOException {
            return real.blockStatus(offset, length);
        }

        @Override
        public String describe() {
            return "faulty " + real.describe();
        }

        @Override
        public void close() throws IOException {
            real.close();
        }
    }

    /** The real raw writer, except that its {@code n}-th write has one byte flipped: a bad disk or a bug. */
    static final class CorruptingWriter implements ImageWriter {
        private final int n;
        private final ImageWriter delegate;

        /** A raw writer that flips one bit of its {@code n}th write. */
        CorruptingWriter(int n) {
            this(n, new RawFormat());
        }

        /** {@code delegate}, flipping one bit of the data of its {@code n}th write. */
        CorruptingWriter(int n, ImageWriter delegate) {
            this.n = n;
            this.delegate = delegate;
        }

        @Override
        public String name() {
            return delegate.name();
        }

        @Override
        public BlockDevice create(Path file, CreateOptions options) throws IOException {
            return wrap(delegate.create(file, options));
        }

        @Override
        public BlockDevice reopen(Path file, CreateOptions options) throws IOException {
            return wrap(delegate.reopen(file, options));
        }

        private BlockDevice wrap(BlockDevice dev) {
            AtomicInteger writes = new AtomicInteger();
            return new BlockDevice() {
                @Override
                public long size() {
                    return dev.size();
                }

                @Override
                public void read(ByteBuffer dst, long offset) throws IOException {
                    dev.read(dst, offset);
                }

                @Override
                public List<Extent> blockStatus(long offset, long length) throws IOException {
                    return dev.blockStatus(offset, length);
                }

                @Override
                public String describe() {
                    return dev.describe();
                }

                @Override
                public boolean isWritable() {
                    return true;
                }

                @Override
                public void write(ByteBuffer src, long offset) throws IOException {
                    if (writes.incrementAndGet() == n) {
                        ByteBuffer copy = ByteBuffer.allocate(src.remaining()).put(src.duplicate()).flip();
                        copy.put(copy.limit() / 2, (byte) (copy.get(copy.limit() / 2) ^ 0x01));
                        dev.write(copy, offset);
                        src.position(src.limit());
                        return;
                    }
                    dev.write(src, offset);
                }

                @Override
                public void writeZeroes(long offset, long length) throws IOException {
                    dev.writeZeroes(offset, length);
                }

                @Override
                public void flush() throws IOException {
                    dev.flush();
                }

                @Override
                public void close() throws IOException {
                    dev.close();
                }
            };
        }
    }
}
