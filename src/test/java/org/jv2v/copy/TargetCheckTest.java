package org.jv2v.copy;

import org.jv2v.Jv2vException;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A copy must not be written over a file its source reads (the rename at the end would replace it). */
class TargetCheckTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void targetsThatAreSourceFilesAreRefused() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path base = src.resolve("base.raw.part"); // a name the copy of src/base.raw would write
        QemuImg.create(base, "raw", 4 * MIB);
        QemuImg.io(base, "raw", List.of("write -P 0x11 0 1M"));
        Path top = src.resolve("top.qcow2");
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw.part", "-F", "raw", top.toString());
        Path link = Files.createSymbolicLink(dir.resolve("link.qcow2"), top);
        Path hardLink = Files.createLink(dir.resolve("hard.qcow2"), top);
        Map<String, String> before = Checksums.of(src);
        try (OpenedImage img = Images.open(top, OpenContext.of(PathGuard.folderOf(top)))) {
            List<Path> files = TargetCheck.files(img);
            assertThat(files).containsExactly(top, base);
            for (Path dst : List.of(top, base, src.resolve("../src/top.qcow2"), link, hardLink,
                    src.resolve("base.raw"))) {
                assertThatThrownBy(() -> TargetCheck.refuseSourceFiles(files, dst)).as(dst.toString())
                        .isInstanceOf(Jv2vException.class).hasMessageStartingWith(dst + ": ")
                        .hasMessageContaining("write the copy elsewhere").hasMessageNotContaining("\n");
            }
            // DST.part is the base: named in the message
            assertThatThrownBy(() -> TargetCheck.refuseSourceFiles(files, src.resolve("base.raw")))
                    .hasMessageContaining("its base.raw.part is the source file " + base);
            TargetCheck.refuseSourceFiles(files, dir.resolve("copy.raw"));
            TargetCheck.refuseSourceFiles(files, src.resolve("copy.qcow2"));
            TargetCheck.refuseSourceFiles(files, dir.resolve("no/such/folder/x.raw"));
        }
        assertThat(Checksums.of(src)).isEqualTo(before);
    }
}
