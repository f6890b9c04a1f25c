package org.jv2v.image.vmdk;

import org.jv2v.testing.SparseSourceCopies;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

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
        VmdkOracle.assertStatusAsQemu(src);
        SparseSourceCopies.assertCopiesReadAtMost(src, "vmdk", VmdkOracle::open, MIB, written + 64 * 1024, dir);
    }
}
