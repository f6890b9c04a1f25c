package org.jv2v.image.vhdx;

import org.jv2v.testing.SparseSourceCopies;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

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
        // before the file's holes counted: all 32 MiB of a fixed disk, whole blocks of a dynamic one
        SparseSourceCopies.assertCopiesReadAtMost(src, "vhdx", VhdxFormatTest::open, written, written + 64 * 1024, dir);
    }
}
