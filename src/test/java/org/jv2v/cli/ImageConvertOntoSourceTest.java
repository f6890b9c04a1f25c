package org.jv2v.cli;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jv2v.cli.ImageCommandTest.jv2v;

/**
 * image convert must not write over its own source: DST renamed into place would replace the
 * source file (or its backing file). qemu-img refuses through its image locks; jv2v refuses in one
 * line before anything is written, and the source's folder is unchanged.
 */
class ImageConvertOntoSourceTest {
    @TempDir
    Path dir;

    @Test
    void theSourceAndItsBackingFileAreNeverTargets() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path base = src.resolve("base.raw");
        QemuImg.create(base, "raw", 4L << 20);
        QemuImg.io(base, "raw", List.of("write -P 0x41 0 1M"));
        Path top = src.resolve("top.qcow2");
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", top.toString());
        QemuImg.io(top, "qcow2", List.of("write -P 0x55 0 64k"));
        Map<String, String> before = Checksums.of(src);
        for (List<String> args : List.of(List.of("-O", "qcow2", base.toString(), base.toString()),
                List.of("-O", "raw", top.toString(), base.toString()),
                List.of("-O", "qcow2", top.toString(), top.toString()))) {
            ImageCommandTest.Out o = jv2v(java.util.stream.Stream.concat(java.util.stream.Stream.of("image", "convert"),
                    args.stream()).toArray(String[]::new));
            assertThat(o.code()).as(args + ": " + o.stderr()).isEqualTo(Main.EXIT_ERROR);
            assertThat(o.stderr()).hasLineCount(1).contains("is the source file");
            assertThat(Checksums.of(src)).as(args.toString()).isEqualTo(before);
        }
    }
}
