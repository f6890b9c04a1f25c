package org.jv2v.cli;

import org.jv2v.pipeline.DiskTransfer;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Corpus;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample guest the README converts (samples/tiny): its shipped VMDK is what its build script
 * says (checked with qemu-img, sfdisk and e2fsck), and the README's command does what it claims.
 */
class SampleGuestTest {
    private static final Path SAMPLE = Corpus.projectDir().resolve("samples/tiny");

    @TempDir
    Path dir;

    @Test
    void shippedDiskIsAStreamOptimizedVmdkWithAnExt4Partition() throws Exception {
        Tools.require("qemu-img", "sfdisk", "e2fsck", "debugfs");
        Path vmdk = SAMPLE.resolve("tiny.vmdk");
        assertThat(Files.size(vmdk)).as("a few hundred KiB at most").isLessThan(512 * 1024);
        String info = Tools.run("qemu-img", "info", vmdk.toString()).stdout();
        assertThat(info).contains("file format: vmdk").contains("virtual size: 8 MiB").contains("create type: streamOptimized");
        Tools.run("qemu-img", "check", vmdk.toString());
        Path raw = dir.resolve("tiny.raw");
        Tools.run("qemu-img", "convert", "-f", "vmdk", "-O", "raw", vmdk.toString(), raw.toString());
        String table = Tools.run("sfdisk", "-d", raw.toString()).stdout();
        assertThat(table).contains("label: dos").containsPattern("start=\\s*2048, size=\\s*14336, type=83");
        Path part = dir.resolve("part.ext4");
        Run.checked(List.of("dd", "if=" + raw, "of=" + part, "bs=1M", "skip=1", "status=none"));
        Tools.run("e2fsck", "-fn", part.toString());
        String hostname = Tools.run("debugfs", "-R", "cat /etc/hostname", part.toString()).stdout();
        assertThat(hostname).isEqualTo("tiny\n");
    }

    @Test
    void printSourceShowsTheSample() throws Exception {
        Jv2vRun.Result r = Jv2vRun.ok("-q", "-i", "vmx", SAMPLE.resolve("tiny.vmx").toString(), "--print-source");
        assertThat(r.stdout()).contains("source name: tiny", "CPU topology: sockets: 1 cores/socket: 2 threads/core: 1",
                "\t0 [scsi]", "\tCD-ROM [sata] in slot 1", "\tNetwork \"VM Network\" mac: 00:0c:29:2e:71:c4 [vmxnet3]");
        assertThat(r.stderr()).isEmpty();
    }

    /**
     * The README's command, as written there: its -os folder is one that exists on a fresh machine
     * (jv2v, like virt-v2v, does not create it), and it converts when the disk engine is present,
     * else says plainly that it cannot. It runs here with -os pointing at a folder of this test.
     */
    @Test
    void readmeCommandConvertsOrSaysWhyNot() throws Exception {
        String readme = Files.readString(Path.of(System.getProperty("jv2v.project.dir", "."), "README.md"));
        String line = readme.lines().filter(l -> l.startsWith("bin/jv2v ")).findFirst().orElseThrow();
        List<String> args = new ArrayList<>(List.of(line.substring("bin/jv2v ".length()).split(" ")));
        assertThat(args).as(line).startsWith("-i", "vmx", "samples/tiny/tiny.vmx", "-o", "local", "-os");
        int os = args.indexOf("-os") + 1;
        assertThat(Path.of(args.get(os))).as("the README's -os folder exists on a fresh machine").isDirectory();
        Path out = Files.createDirectories(dir.resolve("jv2v-out"));
        args.set(os, out.toString());
        args.set(args.indexOf("samples/tiny/tiny.vmx"), SAMPLE.resolve("tiny.vmx").toString());
        var before = Checksums.of(SAMPLE);
        // the whole conversion (inspection, edits into the overlay, copy) holds the sample read-only
        org.jv2v.testing.OpenFiles.Watch watch = org.jv2v.testing.OpenFiles.watch(SAMPLE);
        Jv2vRun.Result r;
        try (watch) {
            r = Jv2vRun.run(args.toArray(String[]::new));
        }
        assertThat(Checksums.of(SAMPLE)).as("sample untouched").isEqualTo(before);
        if (DiskTransfer.installed().available()) {
            assertThat(r.exitCode()).as(r.all()).isZero();
            watch.assertSawOnlyReadOnly();
            assertThat(out.resolve("tiny.xml")).exists();
            assertThat(out.resolve("tiny-sda")).exists();
        } else {
            assertThat(r.exitCode()).isEqualTo(Main.EXIT_ERROR);
            assertThat(r.stderr()).contains("copying disks is not available in this build yet").contains("--no-copy");
            try (var files = Files.list(out)) {
                assertThat(files).isEmpty();
            }
            Jv2vRun.ok("-i", "vmx", SAMPLE.resolve("tiny.vmx").toString(), "-o", "local", "-os", out.toString(),
                    "--no-copy");
            assertThat(out.resolve("tiny.xml")).exists();
            if (Tools.has("virt-xml-validate")) {
                Run.Result v = Run.run(List.of("virt-xml-validate", out.resolve("tiny.xml").toString(), "domain"), null,
                        Map.of(), 60);
                assertThat(v.exitCode()).as(v.all()).isZero();
            }
        }
    }
}
