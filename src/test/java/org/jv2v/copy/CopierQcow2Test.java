package org.jv2v.copy;

import org.jv2v.image.ImageWriter;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.image.raw.RawFormat;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The copier writing qcow2 (the qcow2 writer's own tests cover the format; these cover the copy). */
class CopierQcow2Test {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private ImageWriter qcow2;

    @BeforeEach
    void needsTheQcow2Writer() {
        boolean present = Images.formats().stream().anyMatch(f -> f.name().equals("qcow2") && f instanceof ImageWriter);
        if (!present) {
            System.err.println("NOTICE: skipping: no qcow2 writer registered in Images in this build");
        }
        Assumptions.assumeTrue(present, "no qcow2 writer in this build");
        qcow2 = Images.writer("qcow2");
    }

    private Path source() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src")).resolve("disk.raw");
        QemuImg.create(src, "raw", 24 * MIB);
        QemuImg.io(src, "raw", List.of("write -P 0x31 0 3M", "write -P 0x00 5M 1M", "write -P 0x32 9M 100k",
                "write -P 0x33 20M 4M"));
        return src;
    }

    private static OpenedImage open(Path img) throws Exception {
        return new RawFormat().open(img, OpenContext.of(PathGuard.folderOf(img)));
    }

    private static void assertGood(Path src, Path qcow) throws Exception {
        Tools.run("qemu-img", "check", "-q", qcow.toString());
        assertThat(QemuImg.compare(src, qcow).exitCode()).isZero();
    }

    @Test
    void plainAndCompressedCopiesAreValidAndIdentical() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = source();
        for (boolean compress : new boolean[] {false, true}) {
            Path dst = dir.resolve("out-" + compress + ".qcow2");
            CopyResult r;
            try (OpenedImage in = open(src)) {
                r = Copier.copy(in.device(), qcow2, dst, CopyOptions.defaults().withChunkSize((int) MIB)
                        .withCompress(compress).withVerify(true), ProgressListener.NONE);
            }
            assertGood(src, dst);
            assertThat(r.verified()).isTrue();
            assertThat(QemuImg.info(dst).get("format").asString()).isEqualTo("qcow2");
            // the megabyte of written zeros and the holes take no clusters
            long data = QemuImg.map(dst, "qcow2").stream().filter(QemuImg.MapEntry::data)
                    .mapToLong(QemuImg.MapEntry::length).sum();
            assertThat(data).isLessThanOrEqualTo(3 * MIB + 128 * 1024 + 4 * MIB);
        }
    }

    /** --verify reopens the qcow2 copy with the qcow2 reader: a bit flipped in one data write is caught. */
    @Test
    void verifyCatchesACorruptedQcow2Copy() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = source();
        Path dst = dir.resolve("bad.qcow2");
        CopyOptions opts = CopyOptions.defaults().withChunkSize((int) MIB);
        try (OpenedImage in = open(src)) {
            assertThatThrownBy(() -> Copier.copy(in.device(), new CopierTest.CorruptingWriter(3, qcow2), dst,
                    opts.withVerify(true), ProgressListener.NONE))
                    .hasMessageContaining("verification failed").hasMessageContaining(dst.toString());
        }
        assertThat(Files.exists(dst)).isFalse();
        assertThat(Files.exists(Copier.partFile(dst))).isFalse();
        assertThat(Files.exists(Copier.journalFile(dst))).isFalse();
        // without --verify the same corruption goes through: a valid qcow2 with the wrong bytes
        try (OpenedImage in = open(src)) {
            Copier.copy(in.device(), new CopierTest.CorruptingWriter(3, qcow2), dst, opts, ProgressListener.NONE);
        }
        Tools.run("qemu-img", "check", "-q", dst.toString());
        assertThat(QemuImg.compare(src, dst).exitCode()).isNotZero();
    }

    /** A raw copy interrupted, then the same DST asked as qcow2: not resumed (the journal is the raw copy's), started over. */
    @Test
    void anInterruptedRawCopyIsNotResumedAsQcow2() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = source();
        Path dst = dir.resolve("changed.img");
        CopyOptions opts = CopyOptions.defaults().withChunkSize((int) MIB).withWorkers(1)
                .withCheckpointInterval(Duration.ofMillis(20)).withSourceId("q");
        try (OpenedImage in = open(src)) {
            assertThatThrownBy(() -> Copier.copy(new CopierTest.FaultySource(in.device(), 6, 60), new RawFormat(), dst,
                    opts, ProgressListener.NONE)).hasMessageContaining("injected");
        }
        assertThat(CopierTest.journaledChunks(Files.readString(Copier.journalFile(dst)))).isPositive();
        CopyResult r;
        try (OpenedImage in = open(src)) {
            r = Copier.copy(in.device(), qcow2, dst, opts.withVerify(true), ProgressListener.NONE);
        }
        assertThat(r.resumedBytes()).isZero();
        assertThat(QemuImg.info(dst).get("format").asString()).isEqualTo("qcow2");
        assertGood(src, dst);
    }

    @Test
    void anInterruptedQcow2CopyResumes() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = source();
        Path dst = dir.resolve("resumed.qcow2");
        CopyOptions opts = CopyOptions.defaults().withChunkSize((int) MIB).withWorkers(1)
                .withCheckpointInterval(Duration.ofMillis(20)).withSourceId("q");
        try (OpenedImage in = open(src)) {
            assertThatThrownBy(() -> Copier.copy(new CopierTest.FaultySource(in.device(), 6, 60), qcow2, dst, opts,
                    ProgressListener.NONE)).hasMessageContaining("injected");
        }
        assertThat(Files.exists(dst)).isFalse();
        long journaled = CopierTest.journaledChunks(Files.readString(Copier.journalFile(dst))) * MIB;
        assertThat(journaled).isPositive();
        CopyResult r;
        try (OpenedImage in = open(src)) {
            r = Copier.copy(in.device(), qcow2, dst, opts.withVerify(true), ProgressListener.NONE);
        }
        assertThat(r.resumedBytes()).isEqualTo(journaled);
        assertGood(src, dst);
    }
}
