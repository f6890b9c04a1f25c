package org.jv2v.image.vhdx;

import org.jv2v.copy.CopyOptions;
import org.jv2v.copy.CopyResult;
import org.jv2v.copy.Copier;
import org.jv2v.copy.ProgressListener;
import org.jv2v.image.Images;
import org.jv2v.image.OpenedImage;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * VHDXs whose file is sparse (qemu-img makes fixed disks sparse, and extends the file for each new
 * dynamic block): a copy reads only what was written, and stays identical.
 */
class VhdxHostHolesTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"fixed", "dynamic"})
    void aCopyReadsOnlyWhatWasWritten(String subformat) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src")).resolve("disk.vhdx");
        Tools.run("qemu-img", "create", "-q", "-f", "vhdx", "-o", "subformat=" + subformat, src.toString(), "32M");
        Tools.run("qemu-io", "-f", "vhdx", "-c", "write -P 0x5a 1M 1M", "-c", "write -P 0x11 9M 4k",
                "-c", "write -P 0x22 20M 512k", src.toString());
        long written = MIB + 4096 + 512 * 1024;
        Map<String, String> before = Checksums.of(src.getParent());
        for (String format : new String[] {"raw", "qcow2"}) {
            Path dst = dir.resolve("out." + format);
            CopyResult r;
            try (OpenedImage in = VhdxFormatTest.open(src)) {
                r = Copier.copy(in.device(), Images.writer(format), dst, CopyOptions.defaults().withVerify(true),
                        ProgressListener.NONE);
            }
            // before the file's holes counted: all 32 MiB of a fixed disk, three whole blocks of a dynamic one
            assertThat(r.bytesRead()).as("bytes read into %s", format).isBetween(written, written + 64 * 1024);
            assertThat(Run.run(List.of("qemu-img", "compare", "-f", "vhdx", "-F", format, src.toString(),
                    dst.toString())).stdout()).contains("Images are identical");
            if (format.equals("qcow2")) {
                Tools.run("qemu-img", "check", "-q", dst.toString());
            }
        }
        assertThat(Checksums.of(src.getParent())).as("source untouched").isEqualTo(before);
    }
}
