package org.jv2v.image.vmdk;

import org.jv2v.testing.SparseSourceCopies;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

/**
 * Flat VMDKs as qemu-img creates them (sparse -flat files): block status equals qemu-img map, and a
 * copy reads only what was written and stays identical.
 */
class VmdkHostHolesTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"monolithicFlat", "twoGbMaxExtentFlat"})
    void aCopyReadsOnlyWhatWasWritten(String subformat) throws Exception {
        Path src = SparseSourceCopies.make(dir, "disk.vmdk", "vmdk", subformat);
        // qemu-img create writes the flat file's first 4 KiB (to learn the file system's alignment)
        long written = 4096 + SparseSourceCopies.WRITTEN;
        VmdkOracle.assertStatusAsQemu(src);
        SparseSourceCopies.assertCopiesReadAtMost(src, "vmdk", VmdkOracle::open, 1 << 20, written + 64 * 1024, dir);
    }
}
