package org.jv2v.cli;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input through the whole command ({@link Main#run}): each gives one error line on stderr
 * naming the file and the line (or byte offset), exit code 1, no stack trace, and nothing in the
 * output folder.
 */
class BadInputTest {
    @TempDir
    Path dir;
    Path vmDir;
    Path out;
    Path vmx;

    private static final String GOOD = """
            .encoding = "UTF-8"
            config.version = "8"
            virtualHW.version = "19"
            displayName = "guest"
            memSize = "1024"
            scsi0.present = "TRUE"
            scsi0.virtualDev = "pvscsi"
            scsi0:0.present = "TRUE"
            scsi0:0.fileName = "guest.vmdk"
            ethernet0.present = "TRUE"
            ethernet0.networkName = "VM Network"
            """;

    @BeforeEach
    void setUp() throws Exception {
        Tools.require("qemu-img");
        vmDir = Files.createDirectories(dir.resolve("vm"));
        out = Files.createDirectories(dir.resolve("out"));
        vmx = vmDir.resolve("guest.vmx");
        Tools.run("qemu-img", "create", "-q", "-f", "vmdk", vmDir.resolve("guest.vmdk").toString(), "1M");
    }

    /** Runs -i vmx ... -o local and checks the error contract; returns the error line. */
    private String refused(String expectedPrefix) throws IOException {
        var before = Checksums.of(vmDir);
        Jv2vRun.Result r = Jv2vRun.run("-i", "vmx", vmx.toString(), "-o", "local", "-os", out.toString(), "--no-copy");
        assertThat(r.exitCode()).as(r.all()).isEqualTo(Main.EXIT_ERROR);
        String err = r.stderr().strip();
        assertThat(err.lines()).as("one line on stderr").hasSize(1);
        assertThat(err).startsWith("jv2v: error: " + expectedPrefix);
        assertThat(r.all()).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(r.stdout().lines()).allMatch(l -> l.contains("Opening the source"));
        try (var files = Files.list(out)) {
            assertThat(files).as("nothing written").isEmpty();
        }
        assertThat(Checksums.of(vmDir)).as("source untouched").isEqualTo(before);
        return err;
    }

    @Test
    void theGoodFileWorks() throws Exception {
        Files.writeString(vmx, GOOD);
        Jv2vRun.Result r = Jv2vRun.ok("-i", "vmx", vmx.toString(), "-o", "local", "-os", out.toString(), "--no-copy");
        assertThat(out.resolve("guest.xml")).exists();
        assertThat(r.stderr()).contains("--no-copy: no disk was copied");
    }

    @Test
    void truncatedFile() throws Exception {
        String cut = GOOD.substring(0, GOOD.indexOf("guest.vmdk") + 3);
        Files.writeString(vmx, cut);
        assertThat(refused(vmx + ":9: scsi0:0.fileName: value has no closing '\"'")).contains("truncated");
    }

    @Test
    void lineWithoutEquals() throws Exception {
        Files.writeString(vmx, GOOD.replace("memSize = \"1024\"", "memSize \"1024\""));
        refused(vmx + ":5: expected key = \"value\", found no '='");
    }

    @Test
    void binaryJunk() throws Exception {
        byte[] junk = new byte[4096];
        new Random(7).nextBytes(junk);
        junk[0] = 'x';
        junk[100] = 0;
        Files.write(vmx, junk);
        assertThat(refused(vmx + ": ")).containsAnyOf("binary data", "not valid", "not a VMX");
    }

    @Test
    void hundredMegabytesOfKeys() throws Exception {
        try (OutputStream o = Files.newOutputStream(vmx)) {
            o.write(GOOD.getBytes(StandardCharsets.UTF_8));
            StringBuilder block = new StringBuilder();
            for (int i = 0; block.length() < (1 << 20); i++) {
                block.append("guestinfo.key").append(i).append(" = \"0123456789012345678901234567890123456789\"\n");
            }
            byte[] bytes = block.toString().getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 100; i++) {
                o.write(bytes);
            }
        }
        assertThat(Files.size(vmx)).isGreaterThan(100L << 20);
        assertThat(refused(vmx + ":")).matches(".*:\\d+: the file goes on past 4194304 bytes .*");
    }

    @Test
    void escapeAtEndOfLine() throws Exception {
        Files.writeString(vmx, GOOD + "annotation = \"ends with a pipe |\"\n");
        refused(vmx + ":12: annotation: escape '|' at the end of the value");
    }

    @Test
    void unknownEncoding() throws Exception {
        Files.writeString(vmx, GOOD.replace("UTF-8", "x-unknown-charset"));
        refused(vmx + ":1: .encoding: unknown character encoding 'x-unknown-charset'");
    }

    @Test
    void diskPathEscapingTheAllowedFolders() throws Exception {
        Files.writeString(vmx, GOOD.replace("\"guest.vmdk\"", "\"../../../../../../etc/passwd\""));
        refused(vmx + ":9: scsi0:0.fileName: disk '../../../../../../etc/passwd' is outside the allowed folders");
    }

    @Test
    void missingDisk() throws Exception {
        Files.writeString(vmx, GOOD.replace("guest.vmdk", "gone.vmdk"));
        refused(vmx + ":9: scsi0:0.fileName: disk 'gone.vmdk' not found");
    }

    @Test
    void unmappedDatastore() throws Exception {
        Files.writeString(vmx, GOOD.replace("\"guest.vmdk\"", "\"[san7] guest/guest.vmdk\""));
        refused(vmx + ":9: scsi0:0.fileName: disk '[san7] guest/guest.vmdk': datastore 'san7' is not mapped");
    }

    @Test
    void aVmdkGivenAsVmx() throws Exception {
        Files.copy(vmDir.resolve("guest.vmdk"), vmDir.resolve("x.vmx"));
        Files.writeString(vmx, "unused");
        vmx = vmDir.resolve("x.vmx");
        refused(vmx + ": not a VMX file: this is a VMDK disk image");
    }

    @Test
    void badCommandLineIsUsageError() {
        Jv2vRun.Result r = Jv2vRun.run("-i", "vmware", "x.vmx");
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.stderr().strip().lines()).hasSize(1);
        assertThat(r.stderr()).startsWith("jv2v: error: ").contains("-i");
    }
}
