package org.jv2v.convert.linux;

import org.jv2v.cli.Main;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guests jv2v cannot convert stop the run before anything is copied, with what is wrong and what
 * to do: the states are made by the real tools (e2fsprogs' debugfs marks the journal as needing
 * recovery, as a crash leaves it; cryptsetup writes a real LUKS2 header).
 */
class ConversionRefusalTest {
    /** Where the inspector's synthetic Debian guest has its root (/dev/sda4), in sectors. */
    private static final long DEBIAN_ROOT_START = 120832;

    @TempDir
    Path dir;

    private static void run(Path cwd, String... cmd) throws Exception {
        Run.Result r = Run.run(List.of(cmd), cwd, Map.of(), 120);
        assertThat(r.exitCode()).as(String.join(" ", cmd) + "\n" + r.all()).isZero();
    }

    private static void assertNothingCopied(Jv2vRun.Result r, Path out) throws Exception {
        assertThat(r.exitCode()).as(r.all()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.stdout()).doesNotContain("Copying disk");
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.toList()).as("nothing written").isEmpty();
        }
        assertThat(r.stderr().lines().filter(l -> l.startsWith("jv2v: error: ")).count()).as(r.stderr()).isEqualTo(1);
        assertThat(r.stderr()).as("no stack trace").doesNotContain("\tat ");
    }

    @Test
    void aRootWhoseJournalNeedsRecoveryIsRefused() throws Exception {
        Tools.require("debugfs", "cp");
        Path img = dir.resolve("debian.img");
        run(dir, "cp", "--sparse=always", org.jv2v.inspect.TestGuests.debian().image().toString(), img.toString());
        run(dir, "debugfs", "-w", "-R", "feature needs_recovery", img + "?offset=" + DEBIAN_ROOT_START * 512);
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.run("-i", "disk", img.toString(), "-o", "local", "-os", out.toString());
        assertNothingCopied(r, out);
        assertThat(r.stderr()).contains("jv2v: error: cannot convert: /dev/sda4 (mounted at /): the ext4 filesystem",
                "was not shut down cleanly (its journal needs recovery)", "shut it down cleanly");
    }

    @Test
    void anEncryptedRootIsRefused() throws Exception {
        Tools.require("cryptsetup", "sfdisk", "dd");
        Path img = dir.resolve("luks.img");
        org.jv2v.inspect.TestGuests.truncate(img, 48L << 20);
        Run.Result p = Run.run(List.of("sh", "-c", "printf 'label: dos\\nstart=2048, type=83\\n' | sfdisk -q " + img),
                dir, Map.of(), 60);
        assertThat(p.exitCode()).as(p.all()).isZero();
        Path part = dir.resolve("part.img");
        org.jv2v.inspect.TestGuests.truncate(part, 32L << 20);
        Files.writeString(dir.resolve("key"), "not a real secret");
        run(dir, "cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2", "--pbkdf", "pbkdf2",
                "--pbkdf-force-iterations", "1000", "--key-file", dir.resolve("key").toString(), part.toString());
        run(dir, "dd", "if=" + part, "of=" + img, "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none");
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.run("-i", "disk", img.toString(), "-o", "local", "-os", out.toString());
        assertNothingCopied(r, out);
        assertThat(r.stderr()).contains("/dev/sda1 is encrypted (LUKS)", "Decrypt the root volume");
    }
}
