package org.jv2v.cli;

import org.jv2v.copy.Copier;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
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

class ImageCommandTest {
    private static final int MIB = 1 << 20;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    record Out(int code, String stdout, String stderr) {}

    /** Runs the CLI in this JVM, capturing what it prints. */
    static Out jv2v(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Out(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path qemuImage() throws Exception {
        Path img = Files.createDirectories(dir.resolve("src")).resolve("disk.raw");
        QemuImg.create(img, "raw", 64L * MIB);
        QemuImg.io(img, "raw", List.of("write -P 0x61 1M 2M", "write -P 0x62 40M 64k"));
        return img;
    }

    private static String golden(String name) throws IOException {
        try (var in = ImageCommandTest.class.getResourceAsStream("/golden/image/" + name)) {
            assertThat(in).as("golden file %s", name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void infoMatchesQemuImgAndTheGoldenFiles() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path img = qemuImage();
        JsonNode qemu = QemuImg.info(img);
        long actual = qemu.get("actual-size").asLong();

        Out text = jv2v("image", "info", img.toString());
        assertThat(text.code()).as(text.stderr()).isZero();
        assertThat(text.stdout().replace(img.getParent().toString(), "DIR")
                .replaceAll("allocation: .*", "allocation: ALLOCATION")).isEqualTo(golden("info-raw.txt"));
        assertThat(text.stdout()).contains("allocation: " + Sizes.human(actual) + " (" + actual + " bytes)");

        Out json = jv2v("image", "info", "--output=json", img.toString());
        assertThat(json.code()).isZero();
        JsonNode ours = JSON.readTree(json.stdout());
        assertThat(ours.get("virtual-size").asLong()).isEqualTo(qemu.get("virtual-size").asLong());
        assertThat(ours.get("allocation").asLong()).isEqualTo(actual);
        assertThat(ours.get("format").asString()).isEqualTo(qemu.get("format").asString());
        assertThat(json.stdout().replace(img.getParent().toString(), "DIR")
                .replaceAll("\"allocation\" : [0-9]+", "\"allocation\" : ALLOCATION"))
                .isEqualTo(golden("info-raw.json"));
        assertThat(jv2v("image", "info", "--machine-readable", img.toString()).stdout()).isEqualTo(json.stdout());
    }

    @Test
    void infoSumsSplitExtentsAndListsTheBackingChain() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path d = Files.createDirectories(dir.resolve("vm"));
        Path split = d.resolve("split.vmdk");
        QemuImg.create(split, "vmdk", 5L << 30, "subformat=twoGbMaxExtentSparse");
        QemuImg.io(split, "vmdk", List.of("write -P 1 0 3M", "write -P 2 4G 1M"));
        JsonNode ours = JSON.readTree(jv2v("image", "info", "--output=json", split.toString()).stdout());
        assertThat(ours.get("subformat").asString()).isEqualTo("twoGbMaxExtentSparse");
        assertThat(ours.get("files")).hasSize(4);
        assertThat(ours.get("allocation").asLong()).as("all four files, as qemu-img counts them")
                .isEqualTo(QemuImg.info(split).get("actual-size").asLong());

        Path base = d.resolve("base.vmdk");
        Path top = d.resolve("top.vmdk");
        QemuImg.create(base, "vmdk", 64L * MIB);
        Tools.run("qemu-img", "create", "-q", "-f", "vmdk", "-b", base.toString(), "-F", "vmdk", top.toString());
        QemuImg.io(top, "vmdk", List.of("write -P 3 1M 1M"));
        Out text = jv2v("image", "info", top.toString());
        assertThat(text.code()).as(text.stderr()).isZero();
        assertThat(text.stdout().replace(d.toString(), "DIR").replaceAll("allocation: .*", "allocation: ALLOCATION"))
                .isEqualTo(golden("info-vmdk-chain.txt"));
        JsonNode chain = JSON.readTree(jv2v("image", "info", "--output=json", top.toString()).stdout());
        assertThat(chain.get("backing-chain")).hasSize(1);
        assertThat(chain.get("backing-chain").get(0).get("allocation").asLong())
                .isEqualTo(QemuImg.info(base).get("actual-size").asLong());
    }

    @Test
    void convertCopiesLikeQemuImgAndReportsAsJson() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path img = qemuImage();
        Map<String, String> before = Checksums.of(img.getParent());
        Path dst = dir.resolve("out.raw");
        Out o = jv2v("image", "convert", "-p", "--machine-readable", "--verify", "-O", "raw", img.toString(),
                dst.toString());
        assertThat(o.code()).as(o.stderr()).isZero();
        assertThat(QemuImg.compare(img, dst).exitCode()).isZero();
        assertThat(Checksums.of(img.getParent())).isEqualTo(before);
        List<JsonNode> lines = new ArrayList<>();
        for (String l : o.stdout().split("\n")) {
            lines.add(JSON.readTree(l));
        }
        assertThat(lines.getFirst().get("type").asString()).isEqualTo("progress");
        assertThat(lines.get(lines.size() - 2).get("percent").asInt()).isEqualTo(100);
        JsonNode result = lines.getLast();
        assertThat(result.get("type").asString()).isEqualTo("result");
        assertThat(result.get("written-bytes").asLong()).isEqualTo(2L * MIB + 65536);
        assertThat(result.get("verified").asBoolean()).isTrue();

        // without --machine-readable, progress lines go to stderr in the documented format
        Path dst2 = dir.resolve("out2.raw");
        Out p = jv2v("image", "convert", "-p", "-o", "preallocation=off", img.toString(), dst2.toString());
        assertThat(p.code()).as(p.stderr()).isZero();
        assertThat(p.stdout()).isEmpty();
        assertThat(p.stderr()).startsWith("progress: 0% (0/67108864 bytes)\n")
                .endsWith("progress: 100% (67108864/67108864 bytes)\n");
        assertThat(QemuImg.compare(img, dst2).exitCode()).isZero();
    }

    @Test
    void errorsAreOneLineNamingTheProblem() throws Exception {
        Path missing = dir.resolve("missing.raw");
        Path dst = dir.resolve("x.raw");
        Out a = jv2v("image", "convert", missing.toString(), dst.toString());
        assertThat(a.code()).isEqualTo(Main.EXIT_ERROR);
        assertThat(a.stderr()).isEqualTo("jv2v: error: " + missing + ": no such file\n");

        Path src = dir.resolve("s.raw");
        Files.write(src, new byte[4096]);
        Out b = jv2v("image", "convert", "-o", "preallocation=sometimes", src.toString(), dst.toString());
        assertThat(b.stderr()).isEqualTo("jv2v: error: -o preallocation=sometimes: use off, metadata, falloc or full\n");
        Out c = jv2v("image", "convert", "-O", "vhd", src.toString(), dst.toString());
        assertThat(c.code()).isEqualTo(Main.EXIT_ERROR);
        assertThat(c.stderr()).startsWith("jv2v: error: cannot write images in format 'vhd'").doesNotContain("\tat ");
        Out d = jv2v("image", "convert", "-o", "cluster_size=64k", src.toString(), dst.toString());
        assertThat(d.stderr()).isEqualTo("jv2v: error: -o cluster_size=64k: unknown output option (known: preallocation=...)\n");
        Out e = jv2v("image", "convert", src.toString(), dir.resolve("no/such/dir/x.raw").toString());
        assertThat(e.stderr()).contains("no/such/dir").contains("does not exist").hasLineCount(1);
        assertThat(Files.exists(dst)).isFalse();
    }

    /** Usage errors point at the help of the command that was run; that help is the golden file. */
    @Test
    void usageErrorsNameTheSubcommandAndItsHelpIsTheGoldenFile() throws Exception {
        Out bad = jv2v("image", "convert", "-m", "many", "a.raw", "b.raw");
        assertThat(bad.code()).isEqualTo(Main.EXIT_USAGE);
        assertThat(bad.stderr()).isEqualTo("jv2v: error: Invalid value for option '--workers': 'many' is not an int"
                + " (see jv2v image convert --help)\n");
        assertThat(jv2v("image", "bogus").stderr()).endsWith("(see jv2v image --help)\n");
        Out help = jv2v("image", "convert", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.stdout()).isEqualTo(golden("convert-help.txt"));
        // the same tree hangs under the full command line, where options may come first
        assertThat(jv2v("-q", "image", "convert", "--help").stdout()).isEqualTo(help.stdout());
        assertThat(jv2v("image", "convert", "--version").stdout()).startsWith("jv2v ");
    }

    /** --flush fsyncs, --no-flush does not, neither means the default (on). */
    @Test
    void flushAndNoFlushMeanWhatTheySay() {
        assertThat(parsedConvert("--flush").copyOptions().flush()).isTrue();
        assertThat(parsedConvert("--no-flush").copyOptions().flush()).isFalse();
        assertThat(parsedConvert().copyOptions().flush()).isTrue();
        assertThat(parsedConvert("--no-flush").copyOptions().resume()).isTrue();
        assertThat(parsedConvert("--no-resume", "-m", "3").copyOptions())
                .satisfies(o -> assertThat(o.resume()).isFalse())
                .satisfies(o -> assertThat(o.workers()).isEqualTo(3));
    }

    private static ImageCommand.Convert parsedConvert(String... options) {
        ImageCommand.Convert convert = new ImageCommand.Convert();
        List<String> args = new ArrayList<>(List.of(options));
        args.addAll(List.of("src.raw", "dst.raw"));
        new picocli.CommandLine(convert.options.spec()).parseArgs(args.toArray(String[]::new));
        return convert;
    }

    /**
     * A thin disk, mostly never-allocated: runs of empty chunks are taken in one step (by several
     * workers racing for them), and data just after and just before such runs, and in the last
     * cluster, is still copied and verified. qemu-img compares; the result counts every empty byte.
     */
    @Test
    void aThinDiskSkipsEmptyRunsWithoutLosingTheDataAroundThem() throws Exception {
        Tools.require("qemu-img");
        Tools.require("qemu-io");
        Path src = Files.createDirectories(dir.resolve("src")).resolve("thin.qcow2");
        long size = 256L << 30;
        QemuImg.create(src, "qcow2", size);
        QemuImg.io(src, "qcow2", List.of("write -P 0x41 0 64k", "write -P 0x42 8M 4k",
                "write -P 0x43 " + ((100L << 30) - 4096) + " 4k", "write -P 0x44 " + (100L << 30) + " 64k",
                "write -P 0x45 " + (size - 65536) + " 64k"));
        long data = 3 * 65536L + 2 * 4096L;
        for (String fmt : List.of("qcow2", "raw")) {
            Path dst = dir.resolve("thin-copy." + fmt);
            Out o = jv2v("image", "convert", "--verify", "-m", "4", "--machine-readable", "-O", fmt, src.toString(),
                    dst.toString());
            assertThat(o.code()).as(o.stderr()).isZero();
            JsonNode result = JSON.readTree(o.stdout().strip().lines().reduce((a, b) -> b).orElseThrow());
            assertThat(result.get("written-bytes").asLong()).isEqualTo(data);
            assertThat(result.get("zero-bytes").asLong()).isEqualTo(size - data);
            assertThat(QemuImg.compare(src, dst).exitCode()).as(fmt).isZero();
        }
    }

    /**
     * A target the platform refuses to make (here a file-size limit, as ext4's 16 TiB is for a huge
     * raw disk): one line naming DST, exit 1, and no DST.part left behind. The JVM ignores SIGXFSZ,
     * so ftruncate fails with EFBIG instead of killing it.
     */
    @Test
    void aTargetThePlatformRefusesIsNamedAndLeavesNothing() throws Exception {
        Tools.require("qemu-img");
        Path src = dir.resolve("big.qcow2");
        QemuImg.create(src, "qcow2", 64L * MIB);
        Path dst = dir.resolve("big.raw");
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "ulimit -f 1024 && exec \"$@\"", "limited"));
        cmd.addAll(javaCommand(List.of("image", "convert", "-O", "raw", src.toString(), dst.toString())));
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("limited.out").toFile())
                .redirectError(dir.resolve("limited.err").toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(dir.resolve("limited.err"));
        assertThat(p.exitValue()).as(err).isEqualTo(1);
        assertThat(err).isEqualTo("jv2v: error: " + dst + ": cannot create a 67108864-byte raw image: File too large\n");
        assertThat(Files.exists(dst)).isFalse();
        assertThat(Files.exists(Copier.partFile(dst))).isFalse();
        assertThat(Files.exists(Copier.journalFile(dst))).isFalse();
    }

    /**
     * The real thing: bin/jv2v's JVM killed with SIGKILL in the middle of a throttled copy, then
     * the same command again: it continues from the journal, reads only what was not journaled,
     * and the result is identical to the source.
     */
    @Test
    void aCopyKilledMidwayResumesWithoutRecopying() throws Exception {
        Tools.require("qemu-img");
        Path src = Files.createDirectories(dir.resolve("src")).resolve("dense.raw");
        QemuImg.create(src, "raw", 24L * MIB);
        // every byte data (random), so bytes to read = size - bytes journaled, exactly
        byte[] chunk = new byte[MIB];
        Random r = new Random(1);
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 24; i++) {
                r.nextBytes(chunk);
                ch.write(java.nio.ByteBuffer.wrap(chunk), (long) i * MIB);
            }
        }
        Path dst = dir.resolve("resumed.raw");
        Path journal = Copier.journalFile(dst);
        List<String> args = List.of("image", "convert", "--chunk-size", "1M", "-m", "2", "--checkpoint-interval",
                "0.1", "--machine-readable", src.toString(), dst.toString());
        List<String> throttled = new ArrayList<>(args);
        throttled.addAll(2, List.of("-r", "3M"));

        Process p = new ProcessBuilder(javaCommand(throttled)).redirectErrorStream(true)
                .redirectOutput(dir.resolve("first.log").toFile()).start();
        long journaledChunks = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && p.isAlive()) {
            if (Files.exists(journal)) {
                try {
                    journaledChunks = journaledChunks(Files.readString(journal));
                } catch (IOException e) {
                    journaledChunks = 0; // replaced while reading: try again
                }
                if (journaledChunks >= 4) {
                    break;
                }
            }
            Thread.sleep(50);
        }
        assertThat(p.isAlive()).as("the throttled copy is still running: " + Files.readString(dir.resolve("first.log")))
                .isTrue();
        p.destroyForcibly(); // SIGKILL: no shutdown hook runs
        p.waitFor(30, TimeUnit.SECONDS);
        assertThat(Files.exists(dst)).as("no DST after a kill").isFalse();
        assertThat(Files.exists(Copier.partFile(dst))).isTrue();
        long journaled = journaledChunks(Files.readString(journal)) * MIB;
        assertThat(journaled).isBetween(4L * MIB, 23L * MIB);

        Process again = new ProcessBuilder(javaCommand(args)).redirectErrorStream(false)
                .redirectOutput(dir.resolve("second.out").toFile()).redirectError(dir.resolve("second.err").toFile())
                .start();
        assertThat(again.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(again.exitValue()).as(Files.readString(dir.resolve("second.err"))).isZero();
        List<String> out = Files.readAllLines(dir.resolve("second.out"));
        JsonNode result = JSON.readTree(out.getLast());
        assertThat(result.get("resumed-bytes").asLong()).isEqualTo(journaled);
        assertThat(result.get("read-bytes").asLong()).as("only what the journal did not list is read")
                .isEqualTo(24L * MIB - journaled);
        assertThat(QemuImg.compare(src, dst).exitCode()).isZero();
        assertThat(Files.exists(Copier.partFile(dst))).isFalse();
        assertThat(Files.exists(journal)).isFalse();
    }

    /**
     * SIGTERM (or Ctrl-C) is not a crash: the shutdown hook stops the workers and journals what they
     * finished, even though no periodic checkpoint was due; the rerun starts from there.
     */
    @Test
    void aTerminatedCopyJournalsWhatItDidOnTheWayOut() throws Exception {
        Tools.require("qemu-img");
        Path src = Files.createDirectories(dir.resolve("src")).resolve("dense.raw");
        QemuImg.create(src, "raw", 16L * MIB);
        byte[] chunk = new byte[MIB];
        Random r = new Random(2);
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 16; i++) {
                r.nextBytes(chunk);
                ch.write(java.nio.ByteBuffer.wrap(chunk), (long) i * MIB);
            }
        }
        Path dst = dir.resolve("terminated.raw");
        List<String> args = List.of("image", "convert", "--chunk-size", "1M", "--checkpoint-interval", "1000",
                "--machine-readable", "-p", src.toString(), dst.toString());
        List<String> throttled = new ArrayList<>(args);
        throttled.addAll(2, List.of("-r", "2M"));
        Path log = dir.resolve("first.out");
        Process p = new ProcessBuilder(javaCommand(throttled)).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        // wait until the copy is 4 MiB in (its progress lines say so)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && p.isAlive() && Files.readAllLines(log).stream()
                .noneMatch(l -> l.contains("\"progress\"") && JSON.readTree(l).get("done").asLong() >= 4 * MIB)) {
            Thread.sleep(50);
        }
        assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
        assertThat(Files.exists(Copier.journalFile(dst))).as("no periodic checkpoint yet").isFalse();
        p.destroy(); // SIGTERM
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        // said once, by the shutdown hook, which the JVM waits for (the copying thread may not get to)
        assertThat(Files.readAllLines(log).stream().filter(l -> l.contains("copy interrupted")).toList())
                .containsExactly("jv2v: error: " + dst + ": copy interrupted; run the same command again to resume from "
                        + Copier.partFile(dst));
        assertThat(Files.exists(dst)).isFalse();
        long journaled = journaledChunks(Files.readString(Copier.journalFile(dst))) * MIB;
        assertThat(journaled).isPositive();

        Out again = jv2v(args.toArray(String[]::new));
        assertThat(again.code()).as(again.stderr()).isZero();
        List<String> lines = again.stdout().lines().toList();
        JsonNode result = JSON.readTree(lines.getLast());
        assertThat(result.get("resumed-bytes").asLong()).isEqualTo(journaled);
        assertThat(result.get("read-bytes").asLong()).isEqualTo(16L * MIB - journaled);
        assertThat(QemuImg.compare(src, dst).exitCode()).isZero();
    }

    /** Chunks listed in a copy journal's "done FIRST COUNT" lines. */
    private static long journaledChunks(String journal) {
        long n = 0;
        for (String line : journal.split("\n")) {
            if (line.startsWith("done ")) {
                n += Long.parseLong(line.split(" ")[2]);
            }
        }
        return n;
    }

}
