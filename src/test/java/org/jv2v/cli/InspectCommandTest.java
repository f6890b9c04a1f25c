package org.jv2v.cli;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.Corpus;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code jv2v inspect} on the Debian test guest as a VMware disk (qemu-img made the VMDK from the
 * raw image): the same virt-inspector XML and JSON as the library's golden files, the source
 * untouched, and one-line errors for what is not a guest.
 */
class InspectCommandTest {
    @TempDir
    static Path dir;
    static Path vmdk;
    static final Path GOLDEN = Corpus.projectDir().resolve("src/test/resources/golden/inspect");

    @BeforeAll
    static void makeVmdk() throws Exception {
        Tools.require("qemu-img");
        Path raw = org.jv2v.inspect.TestGuests.debian().image();
        vmdk = dir.resolve("src").resolve("deb12.vmdk");
        Files.createDirectories(vmdk.getParent());
        Tools.run("qemu-img", "convert", "-f", "raw", "-O", "vmdk", raw.toString(), vmdk.toString());
    }

    @Test
    void xmlAndJsonAsTheGoldenFiles() throws Exception {
        Map<String, String> before = Checksums.of(vmdk.getParent());
        Jv2vRun.Result xml = Jv2vRun.ok("inspect", vmdk.toString());
        assertThat(xml.stdout()).isEqualTo(Files.readString(GOLDEN.resolve("debian.xml")));
        assertThat(xml.stderr()).isEmpty();
        Jv2vRun.Result json = Jv2vRun.ok("inspect", "--format", "json", vmdk.toString());
        assertThat(json.stdout()).isEqualTo(Files.readString(GOLDEN.resolve("debian.json")));
        assertThat(Checksums.of(vmdk.getParent())).as("source untouched").isEqualTo(before);
    }

    @Test
    void noApplicationsLeavesTheElementOut() {
        String xml = Jv2vRun.ok("inspect", "--no-applications", vmdk.toString()).stdout();
        assertThat(xml).contains("<root>/dev/sda4</root>").doesNotContain("<applications");
    }

    @Test
    void fromAVmx() throws Exception {
        Path vmx = Files.writeString(vmdk.resolveSibling("deb12.vmx"), """
                .encoding = "UTF-8"
                config.version = "8"
                virtualHW.version = "19"
                displayName = "deb12"
                guestOS = "debian12-64"
                memSize = "1024"
                numvcpus = "1"
                scsi0.present = "TRUE"
                scsi0.virtualDev = "pvscsi"
                scsi0:0.present = "TRUE"
                scsi0:0.fileName = "deb12.vmdk"
                """);
        String xml = Jv2vRun.ok("inspect", "-i", "vmx", vmx.toString()).stdout();
        assertThat(xml).isEqualTo(Files.readString(GOLDEN.resolve("debian.xml")));
    }

    @Test
    void aBlankDiskIsAOneLineError() throws Exception {
        Path blank = dir.resolve("blank.vmdk");
        Tools.run("qemu-img", "create", "-q", "-f", "vmdk", blank.toString(), "16M");
        Jv2vRun.Result r = Jv2vRun.run("inspect", blank.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.stdout()).isEmpty();
        assertThat(r.stderr()).startsWith("jv2v: error: no operating system could be detected on " + blank)
                .hasLineCount(1);
    }

    @Test
    void badUsage() {
        Jv2vRun.Result r = Jv2vRun.run("inspect", "--format", "yaml", vmdk.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.stderr()).contains("--format must be xml or json");
        Jv2vRun.Result none = Jv2vRun.run("inspect", dir.resolve("missing.vmdk").toString());
        assertThat(none.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(none.stderr()).contains("missing.vmdk").contains("no such file").hasLineCount(1);
    }
}
