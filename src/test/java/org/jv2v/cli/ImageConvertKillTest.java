package org.jv2v.cli;

import org.jv2v.copy.Copier;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jv2v.testing.Jv2vRun.javaCommand;

/**
 * Issue 3: "an interrupted copy (process killed mid-way) resumes and produces an identical result",
 * for a qcow2 target (ImageCommandTest kills a raw copy): the JVM running {@code image convert -O
 * qcow2} from a sparse VMDK is killed with SIGKILL in the middle of a throttled copy, the same
 * command runs again, continues from the journal, and the result is a qcow2 that qemu-img check finds
 * clean and qemu-img compare identical to the source.
 */
class ImageConvertKillTest {
    private static final int MIB = 1 << 20;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    @Test
    void aQcow2CopyKilledMidwayResumesToAnIdenticalCleanImage() throws Exception {
        Tools.require("qemu-img");
        Path raw = dir.resolve("content.raw");
        QemuImg.create(raw, "raw", 24L * MIB);
        // 20 MiB of random data in 1 MiB pieces, holes at 5 MiB, 11 MiB, 17 MiB and 23 MiB
        byte[] chunk = new byte[MIB];
        Random r = new Random(3);
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 24; i++) {
                if (i % 6 != 5) {
                    r.nextBytes(chunk);
                    ch.write(ByteBuffer.wrap(chunk), (long) i * MIB);
                }
            }
        }
        Path src = Files.createDirectories(dir.resolve("src")).resolve("disk.vmdk");
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicSparse",
                raw.toString(), src.toString());
        Files.delete(raw);
        Map<String, String> before = Checksums.of(src.getParent());

        Path dst = dir.resolve("resumed.qcow2");
        Path journal = Copier.journalFile(dst);
        List<String> args = List.of("image", "convert", "-O", "qcow2", "--chunk-size", "1M", "-m", "2",
                "--checkpoint-interval", "0.1", "--machine-readable", src.toString(), dst.toString());
        List<String> throttled = new ArrayList<>(args);
        throttled.addAll(2, List.of("-r", "3M"));
        Process p = new ProcessBuilder(javaCommand(throttled)).redirectErrorStream(true)
                .redirectOutput(dir.resolve("first.log").toFile()).start();
        long chunks = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && p.isAlive() && chunks < 4) {
            Thread.sleep(50);
            chunks = journaledChunks(journal);
        }
        assertThat(p.isAlive()).as("still copying: " + Files.readString(dir.resolve("first.log"))).isTrue();
        p.destroyForcibly(); // SIGKILL: no shutdown hook, no flush, no close
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.exists(dst)).as("no DST after a kill").isFalse();
        assertThat(Files.exists(Copier.partFile(dst))).isTrue();
        long journaled = journaledChunks(journal) * MIB;
        assertThat(journaled).isBetween(4L * MIB, 23L * MIB);

        Process again = new ProcessBuilder(javaCommand(args)).redirectOutput(dir.resolve("second.out").toFile())
                .redirectError(dir.resolve("second.err").toFile()).start();
        assertThat(again.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(again.exitValue()).as(Files.readString(dir.resolve("second.err"))).isZero();
        JsonNode result = JSON.readTree(Files.readAllLines(dir.resolve("second.out")).getLast());
        assertThat(result.get("resumed-bytes").asLong()).isEqualTo(journaled);
        assertThat(result.get("read-bytes").asLong()).as("the journaled chunks are not read again")
                .isLessThanOrEqualTo(24L * MIB - journaled);
        Run.Result check = Run.run(List.of("qemu-img", "check", "-f", "qcow2", dst.toString()));
        assertThat(check.exitCode()).as(check.all()).isZero();
        assertThat(check.stdout()).contains("No errors were found");
        Run.Result cmp = Run.run(List.of("qemu-img", "compare", "-f", "vmdk", "-F", "qcow2", src.toString(),
                dst.toString()));
        assertThat(cmp.exitCode()).as(cmp.all()).isZero();
        assertThat(Files.exists(Copier.partFile(dst))).isFalse();
        assertThat(Files.exists(journal)).isFalse();
        assertThat(Checksums.of(src.getParent())).isEqualTo(before);
    }

    /** Chunks listed in a copy journal's "done FIRST COUNT" lines (0 while it is absent or being replaced). */
    private static long journaledChunks(Path journal) {
        long n = 0;
        try {
            for (String line : Files.readString(journal).split("\n")) {
                if (line.startsWith("done ")) {
                    n += Long.parseLong(line.split(" ")[2]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return n;
    }
}
