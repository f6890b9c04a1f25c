package org.jv2v.copy;

import org.jv2v.pipeline.DiskTransfer;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Corpus;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The pipeline's disk copies go through this engine: whole conversions, checked by qemu-img. */
class EngineDiskTransferTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void theEngineIsWhatThePipelineFinds() {
        assertThat(DiskTransfer.installed()).isInstanceOf(EngineDiskTransfer.class);
        assertThat(DiskTransfer.installed().available()).isTrue();
    }

    @Test
    void diskInputsOfTwoFormatsAreCopiedIdentically() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path raw = src.resolve("boot.img");
        QemuImg.create(raw, "raw", 16 * MIB);
        QemuImg.io(raw, "raw", List.of("write -P 0x55 0 1M", "write -P 0x66 9M 512k"));
        Path vmdk = src.resolve("data.vmdk");
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicSparse",
                raw.toString(), vmdk.toString());
        var before = Checksums.of(src);
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.run("-i", "disk", raw.toString(), vmdk.toString(), "-o", "local", "-os",
                out.toString());
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(Checksums.of(src)).isEqualTo(before);
        assertThat(QemuImg.compare(raw, out.resolve("boot-sda")).exitCode()).isZero();
        assertThat(QemuImg.compare(vmdk, out.resolve("boot-sdb")).exitCode()).isZero();
        try (var files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .as("no .part or journal left").noneMatch(n -> n.contains(".part"));
        }
    }

    @Test
    void anOvaDiskIsReadInPlaceFromTheTar() throws Exception {
        Tools.require("qemu-img", "qemu-io", "tar");
        Path corpus = Corpus.require("virt-v2v");
        Path d = Files.createDirectories(dir.resolve("ova"));
        Files.copy(corpus.resolve("test-i-ova-checksums.ovf"), d.resolve("test.ovf"));
        Path raw = dir.resolve("content.raw");
        QemuImg.create(raw, "raw", 4 * MIB);
        QemuImg.io(raw, "raw", List.of("write -P 0x77 64k 1M", "write -P 0x78 3M 4k"));
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                raw.toString(), d.resolve("disk.vmdk").toString());
        Path ova = dir.resolve("test.ova");
        Run.Result t = Run.run(List.of("tar", "-cf", ova.toString(), "test.ovf", "disk.vmdk"), d, Map.of(), 60);
        assertThat(t.exitCode()).as(t.all()).isZero();
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.run("-i", "ova", ova.toString(), "-o", "local", "-os", out.toString());
        assertThat(r.exitCode()).as(r.all()).isZero();
        Path disk;
        try (var files = Files.list(out)) {
            disk = files.filter(p -> p.getFileName().toString().endsWith("-sda")).findFirst().orElseThrow();
        }
        assertThat(QemuImg.compare(raw, disk).exitCode()).isZero();
    }
}
