package org.jv2v.image.vhd;

import org.jv2v.testing.SparseSourceCopies;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

/**
 * VHDs whose file is sparse (qemu-img makes fixed disks sparse, and extends the file for each new
 * dynamic block): a copy reads only what was written, and stays identical.
 */
class VhdHostHolesTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"fixed", "dynamic"})
    void aCopyReadsOnlyWhatWasWritten(String subformat) throws Exception {
        Path src = SparseSourceCopies.make(dir, "disk.vhd", "vpc", subformat);
        // before the file's holes counted: all 32 MiB of a fixed disk, three 2 MiB blocks of a dynamic one
        SparseSourceCopies.assertCopiesReadAtMost(src, "vpc", VhdFormatTest::open, SparseSourceCopies.WRITTEN,
                SparseSourceCopies.WRITTEN + 64 * 1024, dir);
    }
}
