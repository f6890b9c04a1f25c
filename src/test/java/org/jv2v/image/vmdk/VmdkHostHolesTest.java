package org.jv2v.image.vmdk;

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
 * Flat VMDKs as qemu-img creates them (sparse -flat files): block status equals qemu-img map, and a
 * copy reads only what was written and stays identical.
 */
class VmdkHostHolesTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"monolithicFlat", "twoGbMaxExtentFlat"})
    void aCopyReadsOnlyWhatWasWritten(String subformat) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src")).resolve("disk.vmdk");
        VmdkOracle.qemuImg("create", "-q", "-f", "vmdk", "-o", "subformat=" + subformat, src.toString(), "32M");
        VmdkOracle.qemuIo(src, "vmdk", "write -P 0x5a 1M 1M", "write -P 0x11 9M 4k", "write -P 0x22 20M 512k");
        // qemu-img create writes the flat file's first 4 KiB (to learn the file system's alignment)
        long written = 4096 + MIB + 4096 + 512 * 1024;
        Map<String, String> before = Checksums.of(src.getParent());
        VmdkOracle.assertStatusAsQemu(src);
        for (String format : new String[] {"raw", "qcow2"}) {
            Path dst = dir.resolve("out." + format);
            CopyResult r;
            try (OpenedImage in = VmdkOracle.open(src)) {
                r = Copier.copy(in.device(), Images.writer(format), dst, CopyOptions.defaults().withVerify(true),
                        ProgressListener.NONE);
            }
            assertThat(r.bytesRead()).as("bytes read into %s", format).isBetween(MIB, written + 64 * 1024);
            assertThat(Run.run(List.of("qemu-img", "compare", "-f", "vmdk", "-F", format, src.toString(),
                    dst.toString())).stdout()).contains("Images are identical");
            if (format.equals("qcow2")) {
                Tools.run("qemu-img", "check", "-q", dst.toString());
            }
        }
        assertThat(Checksums.of(src.getParent())).as("source untouched").isEqualTo(before);
    }
}
