package org.jv2v.cli;

import org.jv2v.testing.Corpus;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line itself: version, help, man page, stage lines, machine-readable output, -i disk. */
class Jv2vCommandTest {
    private static final Path SAMPLE_VMX = Corpus.projectDir().resolve("samples/tiny/tiny.vmx");

    @TempDir
    Path dir;

    @Test
    void versionAndHelp() {
        Jv2vRun.Result v = Jv2vRun.ok("--version");
        assertThat(v.stdout()).startsWith("jv2v ");
        Jv2vRun.Result h = Jv2vRun.ok("--help");
        assertThat(h.stdout()).contains("Usage: jv2v -i vmx", "--datastore", "--print-source", "--no-copy",
                "Examples:", "Exit status:", "virtio");
    }

    /** Every option of every command is explained in the man page and the help. */
    @Test
    void manPageDocumentsEveryOption() throws Exception {
        String man = Files.readString(Corpus.projectDir().resolve("doc/jv2v.1"));
        CommandLine cli = Jv2vCommand.commandLine(new PrintStream(PrintStream.nullOutputStream()),
                new PrintStream(PrintStream.nullOutputStream()), org.jv2v.pipeline.DiskTransfer.NOT_WIRED);
        assertDocumented(man, cli);
        assertThat(man).contains(".B jv2v inspect", ".B jv2v image info", ".B jv2v image convert");
    }

    private static void assertDocumented(String man, CommandLine cli) {
        String command = cli.getCommandSpec().qualifiedName();
        for (var opt : cli.getCommandSpec().options()) {
            for (String name : opt.names()) {
                assertThat(man).as("doc/jv2v.1 mentions %s of %s", name, command).contains(name.replace("-", "\\-"));
            }
            assertThat(opt.description()).as("%s of %s has a description", opt.longestName(), command).isNotEmpty();
        }
        for (CommandLine sub : cli.getSubcommands().values()) {
            assertDocumented(man, sub);
        }
    }

    @Test
    void stageLinesAreTimestampedAndQuietHidesThem() throws Exception {
        Path out = Files.createDirectories(dir.resolve("o"));
        Jv2vRun.Result r = Jv2vRun.ok("-i", "vmx", SAMPLE_VMX.toString(), "-o", "null");
        assertThat(r.stdout().lines().filter(l -> l.startsWith("["))).allMatch(l -> l.matches("\\[ *\\d+\\.\\d\\] .+"))
                .anyMatch(l -> l.endsWith("Opening the source -i vmx " + SAMPLE_VMX))
                .anyMatch(l -> l.endsWith("Initializing the target -o null"))
                .anyMatch(l -> l.endsWith("Finishing off"));
        Jv2vRun.Result q = Jv2vRun.ok("-q", "-i", "vmx", SAMPLE_VMX.toString(), "-o", "json", "-os", out.toString(),
                "--no-copy");
        assertThat(q.stdout()).isEmpty();
        assertThat(q.stderr()).contains("jv2v: warning: --no-copy");
        JsonNode json = JsonMapper.builder().build().readTree(Files.readString(out.resolve("tiny.json")));
        assertThat(json.get("format").asString()).isEqualTo("jv2v");
        assertThat(json.get("target").get("disks").get(0).get("file").asString()).isEqualTo(out.resolve("tiny-sda").toString());
    }

    @Test
    void machineReadable() throws Exception {
        assertThat(Jv2vRun.ok("--machine-readable").stdout()).contains("jv2v\n", "input:vmx\n", "output:json\n");
        Jv2vRun.Result r = Jv2vRun.ok("-i", "vmx", SAMPLE_VMX.toString(), "--print-source", "--machine-readable");
        JsonNode src = JsonMapper.builder().build().readTree(r.stdout());
        assertThat(src.get("name").asString()).isEqualTo("tiny");
        assertThat(src.get("annotation").asString()).isEqualTo("The jv2v sample guest\nits disk is built by samples/tiny/build.sh");
        assertThat(src.get("disks").get(0).get("controller_model").asString()).isEqualTo("pvscsi");
        assertThat(src.get("nics").get(0).get("mac_type").asString()).isEqualTo("generated");
    }

    @Test
    void usageErrors() {
        assertThat(Jv2vRun.run("-i", "vmx", SAMPLE_VMX.toString()).stderr())
                .isEqualTo("jv2v: error: no output mode: use -o local|qemu|json|null, or --print-source (see jv2v --help)\n");
        assertThat(Jv2vRun.run("-o", "local").exitCode()).isEqualTo(Main.EXIT_USAGE);
        Jv2vRun.Result r = Jv2vRun.run("-i", "vmx", SAMPLE_VMX.toString(), "-o", "local");
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.stderr()).contains("-o local: output folder was not given: use -os FOLDER");
        assertThat(Jv2vRun.run("-i", "vmx", SAMPLE_VMX.toString(), "-o", "local", "-os", "/nonexistent/x").stderr())
                .contains("output folder does not exist");
    }

    /**
     * A bare disk says nothing of its firmware: a GPT disk with an EFI system partition (made by
     * sgdisk) boots UEFI, as virt-v2v decides from inspection, and the target says why.
     */
    @Test
    void aBareDiskWithAnEfiSystemPartitionBootsUefi() throws Exception {
        Tools.require("qemu-img", "sgdisk", "virt-xml-validate");
        Path img = dir.resolve("uefi.raw");
        Tools.run("qemu-img", "create", "-q", "-f", "raw", img.toString(), "64M");
        Tools.run("sgdisk", "-n", "1:2048:+16M", "-t", "1:ef00", "-n", "2:0:0", "-t", "2:8300", img.toString());
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.ok("-i", "disk", img.toString(), "-o", "local", "-os", out.toString());
        assertThat(r.stdout()).contains("firmware: UEFI (OVMF) (the source does not say; its disks show it: "
                + "/dev/sda1: EFI system partition");
        String xml = Files.readString(out.resolve("uefi.xml"));
        assertThat(xml).contains("<os firmware='efi'>");
        assertThat(Tools.run("virt-xml-validate", out.resolve("uefi.xml").toString(), "domain").exitCode()).isZero();

        Path mbr = dir.resolve("mbr.raw");
        Tools.run("qemu-img", "create", "-q", "-f", "raw", mbr.toString(), "64M");
        Tools.run("sgdisk", "-n", "1:2048:0", "-t", "1:8300", mbr.toString());
        Jv2vRun.Result b = Jv2vRun.ok("-i", "disk", mbr.toString(), "-o", "null");
        assertThat(b.stdout()).contains("firmware: BIOS (SeaBIOS) (the source does not say; its disks show it: ");
    }

    @Test
    void bareDiskWithVirtV2vDefaults() throws Exception {
        Tools.require("qemu-img");
        Path img = dir.resolve("server1.qcow2");
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "1M");
        Jv2vRun.Result r = Jv2vRun.ok("-q", "-i", "disk", img.toString(), "--print-source");
        assertThat(r.stdout()).contains("    source name: server1\n", "hypervisor type: unknownhv\n",
                "memory: 2147483648 (bytes)\n", "CPU features: acpi,apic,pae\n", "firmware: unknown\n",
                "display: window\n", "disks:\n\t0\nremovable media:\n\nNICs:\n\tNetwork \"default\"\n");
        Jv2vRun.Result j = Jv2vRun.ok("-q", "-i", "disk", img.toString(), "--print-source", "--machine-readable");
        assertThat(j.stdout()).contains("\"format\" : \"qcow2\"");
        assertThat(Jv2vRun.run("-i", "disk", dir.resolve("none.img").toString(), "--print-source").stderr())
                .contains("none.img: no such file");
    }
}
