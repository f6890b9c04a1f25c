package org.jv2v.cli;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jv2v.cli.ImageCommandTest.jv2v;

/**
 * The output options of {@code jv2v image convert} as a user gives them (issue 3's writers: qcow2
 * "optional compression; preallocation modes", raw sparse or preallocated; the writers' own tests
 * call the Java API): each result is compared with the source by qemu-img compare, the qcow2 checked
 * by qemu-img check, and the allocation measured against what qemu-img makes with the same option.
 */
class ImageConvertOptionsTest {
    private static final long MIB = 1 << 20;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    /** 16 MiB: 3 MiB of text (compressible), 1 MiB of written zeros, holes. */
    private Path source() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src")).resolve("disk.raw");
        QemuImg.create(src, "raw", 16 * MIB);
        StringBuilder text = new StringBuilder();
        while (text.length() < 3 * MIB) {
            text.append("block ").append(text.length()).append(" of a disk that compresses well\n");
        }
        try (var ch = java.nio.channels.FileChannel.open(src, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(text.substring(0, (int) (3 * MIB)).getBytes()), 2 * MIB);
            ch.write(java.nio.ByteBuffer.allocate((int) MIB), 8 * MIB);
        }
        return src;
    }

    private static long allocated(Path f) throws Exception {
        String[] s = Tools.run("stat", "-c", "%b %B", f.toString()).stdout().trim().split(" ");
        return Long.parseLong(s[0]) * Long.parseLong(s[1]);
    }

    private static void assertIdentical(Path src, Path dst, String format) throws Exception {
        Run.Result cmp = Run.run(List.of("qemu-img", "compare", "-f", "raw", "-F", format, src.toString(),
                dst.toString()));
        assertThat(cmp.exitCode()).as(cmp.all()).isZero();
        if (format.equals("qcow2")) {
            Run.Result check = Run.run(List.of("qemu-img", "check", dst.toString()));
            assertThat(check.exitCode()).as(check.all()).isZero();
        }
    }

    @Test
    void dashCCompressesTheQcow2Clusters() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = source();
        Path plain = dir.resolve("plain.qcow2");
        Path packed = dir.resolve("packed.qcow2");
        assertThat(jv2v("image", "convert", "-O", "qcow2", src.toString(), plain.toString()).code()).isZero();
        ImageCommandTest.Out o = jv2v("image", "convert", "-c", "-O", "qcow2", src.toString(), packed.toString());
        assertThat(o.code()).as(o.stderr()).isZero();
        assertIdentical(src, plain, "qcow2");
        assertIdentical(src, packed, "qcow2");
        JsonNode check = JSON.readTree(Tools.run("qemu-img", "check", "--output=json", packed.toString()).stdout());
        assertThat(check.get("compressed-clusters").asLong()).as("3 MiB of text in 64 KiB clusters").isEqualTo(48);
        JsonNode plainCheck = JSON.readTree(Tools.run("qemu-img", "check", "--output=json", plain.toString()).stdout());
        assertThat(plainCheck.path("compressed-clusters").asLong(0)).as("qemu-img omits a zero count").isZero();
        assertThat(Files.size(packed)).isLessThan(Files.size(plain) / 4);
        // -c with a raw target is refused, as qemu-img refuses it, and nothing is written
        Path raw = dir.resolve("c.raw");
        ImageCommandTest.Out r = jv2v("image", "convert", "-c", "-O", "raw", src.toString(), raw.toString());
        assertThat(r.code()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.stderr()).isEqualTo("jv2v: error: -c: raw images cannot be compressed (use -O qcow2)\n");
        assertThat(dir.resolve("c.raw")).doesNotExist();
        assertThat(dir.resolve("c.raw.part")).doesNotExist();
    }

    @ParameterizedTest(name = "-O {0} -o preallocation={1}")
    @CsvSource({"qcow2, off", "qcow2, metadata", "qcow2, falloc", "qcow2, full", "raw, off", "raw, falloc",
            "raw, full"})
    void preallocationAllocatesAsQemuImgDoes(String format, String mode) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = source();
        Map<String, String> before = Checksums.of(src.getParent());
        Path dst = dir.resolve("out." + format);
        ImageCommandTest.Out o = jv2v("image", "convert", "-O", format, "-o", "preallocation=" + mode, src.toString(),
                dst.toString());
        assertThat(o.code()).as(o.stderr()).isZero();
        assertIdentical(src, dst, format);
        Path theirs = dir.resolve("theirs." + format);
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", format, "-o", "preallocation=" + mode,
                src.toString(), theirs.toString());
        long ours = allocated(dst);
        long qemu = allocated(theirs);
        if (mode.equals("falloc") || mode.equals("full")) {
            assertThat(ours).as("every byte reserved").isGreaterThanOrEqualTo(16 * MIB);
        } else {
            assertThat(ours).as("sparse: the 3 MiB of text and metadata").isLessThan(8 * MIB);
        }
        assertThat(ours).as("allocation like qemu-img's (%d)", qemu).isBetween(qemu - 2 * MIB, qemu + 2 * MIB);
        if (format.equals("qcow2") && !mode.equals("off")) {
            assertThat(Files.size(dst)).as("file size like qemu-img's").isBetween(Files.size(theirs) - 2 * MIB,
                    Files.size(theirs) + 2 * MIB);
        }
        assertThat(Checksums.of(src.getParent())).isEqualTo(before);
    }

    /** -f names the source's format instead of probing: a qcow2 read as raw is copied as its bytes. */
    @Test
    void dashFOverridesTheProbe() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src")).resolve("disk.qcow2");
        QemuImg.create(src, "qcow2", 4 * MIB);
        QemuImg.io(src, "qcow2", List.of("write -P 0x61 1M 64k"));
        Path dst = dir.resolve("bytes.raw");
        ImageCommandTest.Out o = jv2v("image", "convert", "-f", "raw", "-O", "raw", src.toString(), dst.toString());
        assertThat(o.code()).as(o.stderr()).isZero();
        assertThat(Files.mismatch(src, dst)).as("the qcow2 file's own bytes").isEqualTo(-1);
        ImageCommandTest.Out wrong = jv2v("image", "convert", "-f", "vmdk", src.toString(), dir.resolve("x.raw")
                .toString());
        assertThat(wrong.code()).isEqualTo(Main.EXIT_ERROR);
        assertThat(wrong.stderr()).hasLineCount(1).startsWith("jv2v: error: ").contains(src.toString())
                .doesNotContain("\tat ");
    }

    /** A backing file in a sibling folder is refused unless --allow-dir names that folder. */
    @Test
    void allowDirLetsABackingFileLiveElsewhere() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path baseDir = Files.createDirectories(dir.resolve("base"));
        Path base = baseDir.resolve("base.raw");
        QemuImg.create(base, "raw", 4 * MIB);
        QemuImg.io(base, "raw", List.of("write -P 0x11 0 1M"));
        Path topDir = Files.createDirectories(dir.resolve("top"));
        Path top = topDir.resolve("top.qcow2");
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "../base/base.raw", "-F", "raw", top.toString());
        QemuImg.io(top, "qcow2", List.of("write -P 0x22 2M 64k"));
        Path dst = dir.resolve("out.raw");
        ImageCommandTest.Out refused = jv2v("image", "convert", top.toString(), dst.toString());
        assertThat(refused.code()).isEqualTo(Main.EXIT_ERROR);
        assertThat(refused.stderr()).hasLineCount(1).contains("../base/base.raw").contains("outside");
        assertThat(Files.exists(dst)).isFalse();
        ImageCommandTest.Out ok = jv2v("image", "convert", "--allow-dir", baseDir.toString(), top.toString(),
                dst.toString());
        assertThat(ok.code()).as(ok.stderr()).isZero();
        Run.Result cmp = Run.run(List.of("qemu-img", "compare", "-f", "qcow2", "-F", "raw", top.toString(),
                dst.toString()));
        assertThat(cmp.exitCode()).as(cmp.all()).isZero();
    }
}
