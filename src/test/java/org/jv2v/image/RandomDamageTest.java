package org.jv2v.image;

import org.jv2v.testing.RandomDamage;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 3: a broken image gives a clear error, and no allocation is sized from an unchecked header
 * field. Qcow2MaliciousTest fuzzes qcow2; this does the same ({@link RandomDamage}) for the other
 * formats qemu-img makes: hosted sparse and streamOptimized VMDK, dynamic VHD, dynamic VHDX.
 * (VmdkEsxiDamageTest does the ESXi layouts.)
 */
class RandomDamageTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"vmdk, subformat=monolithicSparse", "vmdk, subformat=streamOptimized", "vpc, subformat=dynamic",
            "vhdx, block_size=1M"})
    @Timeout(300)
    void randomDamageGivesCleanErrorsOnly(String format, String options) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path raw = dir.resolve("content.raw");
        Tools.run("qemu-img", "create", "-q", "-f", "raw", raw.toString(), "6M");
        Tools.run("qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 64k", "-c", "write -P 0x5a 1M 1M",
                "-c", "write -P 0x5a 5M 4k", raw.toString());
        Path src = Files.createDirectories(dir.resolve("src"));
        Path img = src.resolve("damaged." + format);
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", format, "-o", options, raw.toString(),
                img.toString());
        int refused = RandomDamage.fuzz(img, img, (byte) 0x5a, 150, 3);
        // Not most: much metadata cannot be checked (a VHD's sector bitmaps, padding in its BAT, a
        // footer with an intact copy): a seed of 3 refuses 90, 120, 5 and 49 of 150 rounds.
        assertThat(refused).as("damage reaches the checks").isGreaterThanOrEqualTo(3);
    }
}
