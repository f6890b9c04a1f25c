package org.jv2v.source.ova;

import org.jv2v.BadInputException;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.SourceVm;
import org.jv2v.source.SourceOptions;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Corpus;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code -i ova}: OVAs built at test time with GNU tar, qemu-img and sha1sum/sha256sum the way
 * virt-v2v's tests build them, from virt-v2v's OVF test files; {@code --print-source} compared with
 * virt-v2v's expected output.
 */
class OvaSourceTest {
    @TempDir
    Path dir;

    /**
     * D3 (doc/differences-from-virt-v2v.md): virt-v2v takes an OVF drive's slot from AddressOnParent
     * alone; jv2v counts the controller too, so the CD-ROM on IDE 1, unit 0 is slot 2 (hdc).
     */
    private static final String[] IDE1_SLOT = {"CD-ROM [ide] in slot 0", "CD-ROM [ide] in slot 2"};

    private static String run(String... cmd) throws IOException, InterruptedException {
        return Tools.run(cmd).stdout();
    }

    private String sha(String tool, Path f) throws Exception {
        return run(tool, f.toString()).split("\\s+")[0];
    }

    private void disk(Path f, String size) throws Exception {
        Files.createDirectories(f.getParent());
        Tools.run("qemu-img", "create", "-q", "-f", "raw", f.toString(), size);
    }

    private Path tar(Path ova, Path from, String... members) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("tar", "-cf", ova.toString()));
        cmd.addAll(List.of(members));
        Run.Result r = Run.run(cmd, from, Map.of(), 60);
        assertThat(r.exitCode()).as(r.all()).isZero();
        return ova;
    }

    /** Builds one of virt-v2v's test OVAs and returns jv2v's --print-source (quiet). */
    private String printSource(String test) throws Exception {
        Tools.require("qemu-img", "tar", "sha1sum");
        Path corpus = Corpus.require("virt-v2v");
        Path d = Files.createDirectories(dir.resolve(test));
        String ovf = "test-i-ova-" + test + ".ovf";
        Path ova = d.resolve("test.ova");
        switch (test) {
            case "tar" -> {
                disk(d.resolve("disk1.vmdk"), "10K");
                Files.writeString(d.resolve("disk1.mf"), "SHA1(disk1.vmdk)= " + sha("sha1sum", d.resolve("disk1.vmdk")) + "\r\n");
                Files.copy(corpus.resolve(ovf), d.resolve(ovf));
                tar(ova, d, ovf, "disk1.vmdk", "disk1.mf");
            }
            case "two-disks" -> {
                disk(d.resolve("disk1.vmdk"), "10K");
                disk(d.resolve("disk2.vmdk"), "100K");
                Files.writeString(d.resolve("disk1.mf"), "SHA1(disk1.vmdk)= " + sha("sha1sum", d.resolve("disk1.vmdk")) + "\r\n");
                Files.writeString(d.resolve("disk2.mf"), "SHA1(disk2.vmdk)= " + sha("sha1sum", d.resolve("disk2.vmdk")) + "\r\n");
                Files.copy(corpus.resolve(ovf), d.resolve(ovf));
                tar(ova, d, ovf, "disk1.vmdk", "disk1.mf", "disk2.vmdk", "disk2.mf");
            }
            case "snapshots" -> {
                disk(d.resolve("disk1.vmdk.000000000"), "10K");
                disk(d.resolve("disk1.vmdk.000000001"), "11K");
                disk(d.resolve("disk1.vmdk.000000002"), "12K");
                Files.writeString(d.resolve("disk1.mf"), "SHA1(disk1.vmdk.000000002)= "
                        + sha("sha1sum", d.resolve("disk1.vmdk.000000002")) + "\r\n");
                Files.copy(corpus.resolve(ovf), d.resolve(ovf));
                tar(ova, d, ovf, "disk1.vmdk.000000000", "disk1.vmdk.000000001", "disk1.vmdk.000000002", "disk1.mf");
            }
            case "subfolders" -> {
                Path sub = Files.createDirectories(d.resolve("subfolder"));
                Files.copy(corpus.resolve(ovf), sub.resolve(ovf));
                disk(sub.resolve("disk1.vmdk"), "10K");
                Files.writeString(sub.resolve("disk1.mf"), "SHA1(disk1.vmdk)= " + sha("sha1sum", sub.resolve("disk1.vmdk")) + "\r\n");
                tar(ova, d, "subfolder");
            }
            case "gz" -> {
                disk(d.resolve("disk1.vmdk"), "10K");
                run("gzip", d.resolve("disk1.vmdk").toString());
                Files.writeString(d.resolve("disk1.mf"), "SHA1(disk1.vmdk.gz)= " + sha("sha1sum", d.resolve("disk1.vmdk.gz")) + "\r\n");
                Files.copy(corpus.resolve(ovf), d.resolve(ovf));
                tar(ova, d, ovf, "disk1.vmdk.gz", "disk1.mf");
            }
            default -> throw new IllegalArgumentException(test);
        }
        var before = Checksums.of(d);
        Jv2vRun.Result r = Jv2vRun.ok("-q", "-i", "ova", ova.toString(), "--print-source");
        assertThat(Checksums.of(d)).as("source untouched").isEqualTo(before);
        return r.stdout();
    }

    @ParameterizedTest(name = "test-i-ova-{0}")
    @ValueSource(strings = {"tar", "two-disks", "snapshots", "subfolders", "gz"})
    void printSourceMatchesVirtV2v(String test) throws Exception {
        String actual = printSource(test);
        String expected = Files.readString(Corpus.require("virt-v2v").resolve("test-i-ova-" + test + ".expected"));
        assertThat(expected).as("documented difference D3 still applies").contains(IDE1_SLOT[0]);
        assertThat(actual).isEqualTo(expected.replace(IDE1_SLOT[0], IDE1_SLOT[1]));
    }

    @Test
    void disksAreLocatedInsideTheTarWithoutExtracting() throws Exception {
        printSource("two-disks");
        Path ova = dir.resolve("two-disks/test.ova");
        SourceVm vm = OvaSource.read(ova, SourceOptions.defaults(), w -> { });
        assertThat(vm.disks()).hasSize(2);
        var m = (DiskLocation.ArchiveMember) vm.disks().get(1).location();
        assertThat(m.member()).isEqualTo("disk2.vmdk");
        assertThat(m.size()).isEqualTo(100 * 1024);
        // the member's bytes at the recorded offset are the disk GNU tar stored
        byte[] inTar = new byte[(int) m.size()];
        try (var ch = java.nio.channels.FileChannel.open(ova)) {
            ch.read(java.nio.ByteBuffer.wrap(inTar), m.offset());
        }
        assertThat(inTar).isEqualTo(Files.readAllBytes(dir.resolve("two-disks/disk2.vmdk")));
        assertThat(vm.disks().get(0).virtualSize()).hasValue(50L << 30);
        // the NIC's PCI slot from VMware's vmw:Config slotInfo.pciSlotNumber (the guest calls it ens33)
        assertThat(vm.nics()).singleElement().satisfies(n -> assertThat(n.pciSlot()).hasValue(33));
    }

    private Path checksumOva(String manifest, boolean folder) throws Exception {
        Tools.require("qemu-img", "tar", "sha1sum", "sha256sum");
        Path d = Files.createDirectories(dir.resolve("ck"));
        Files.copy(Corpus.require("virt-v2v").resolve("test-i-ova-checksums.ovf"), d.resolve("test.ovf"));
        Tools.run("qemu-img", "create", "-q", "-f", "vmdk", d.resolve("disk.vmdk").toString(), "4M");
        Files.writeString(d.resolve("test.mf"), manifest
                .replace("@OVF_SHA1@", sha("sha1sum", d.resolve("test.ovf")))
                .replace("@DISK_SHA1@", sha("sha1sum", d.resolve("disk.vmdk")))
                .replace("@DISK_SHA256@", sha("sha256sum", d.resolve("disk.vmdk"))));
        return folder ? d : tar(dir.resolve("test.ova"), d, "test.ovf", "disk.vmdk", "test.mf");
    }

    @Test
    void goodChecksumsOfBothKindsPassSilently() throws Exception {
        Path ova = checksumOva("SHA1(test.ovf)= @OVF_SHA1@\nSHA256(disk.vmdk)= @DISK_SHA256@\n", false);
        Jv2vRun.Result r = Jv2vRun.ok("-q", "-i", "ova", ova.toString(), "--print-source");
        assertThat(r.stderr()).isEmpty();
        assertThat(r.stdout()).contains("source name: ova-test").contains("CD-ROM [ide] in slot 3");
    }

    @ParameterizedTest
    @ValueSource(strings = {"SHA1(disk.vmdk)= 0000000000000000000000000000000000000000",
        "SHA256(disk.vmdk)= 0000000000000000000000000000000000000000000000000000000000000000"})
    void badChecksumIsAOneLineError(String line) throws Exception {
        Path ova = checksumOva("SHA1(test.ovf)= @OVF_SHA1@\n" + line + "\n", false);
        Jv2vRun.Result r = Jv2vRun.run("-q", "-i", "ova", ova.toString(), "--print-source");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr().strip().lines()).hasSize(1);
        assertThat(r.stderr()).startsWith("jv2v: error: " + ova + "/test.mf:2: corrupt OVA: the SHA")
                .contains("of 'disk.vmdk' does not match the manifest");
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void unparsableManifestLinesAreWarnings() throws Exception {
        Path ova = checksumOva("SHA1(test.ovf)= @OVF_SHA1@\nSHA1(disk.vmdk)= @DISK_SHA1@\ngarbage line\n"
                + "SHA1(gone.vmdk)= 0000000000000000000000000000000000000000\n", false);
        Jv2vRun.Result r = Jv2vRun.ok("-q", "-i", "ova", ova.toString(), "--print-source");
        assertThat(r.stderr()).contains("test.mf:3: unable to parse line 'garbage line'")
                .contains("test.mf:4: manifest has a checksum for 'gone.vmdk', which is not in the OVA");
    }

    @Test
    void aFolderWorksLikeTheTar() throws Exception {
        Path folder = checksumOva("SHA1(test.ovf)= @OVF_SHA1@\nSHA256(disk.vmdk)= @DISK_SHA256@\n", true);
        SourceVm vm = OvaSource.read(folder, SourceOptions.defaults(), w -> { });
        assertThat(((DiskLocation.LocalFile) vm.disks().get(0).location()).path()).isEqualTo(folder.resolve("disk.vmdk"));
    }

    @Test
    void compressedArchivesAreRefusedWithAHint() throws Exception {
        Path folder = checksumOva("SHA1(test.ovf)= @OVF_SHA1@\n", true);
        Path tgz = dir.resolve("test.ova.tgz");
        Run.Result r = Run.run(List.of("tar", "-czf", tgz.toString(), "test.ovf", "disk.vmdk"), folder, Map.of(), 60);
        assertThat(r.exitCode()).isZero();
        assertThatThrownBy(() -> OvaSource.read(tgz, SourceOptions.defaults(), w -> { }))
                .isInstanceOf(BadInputException.class).hasMessageContaining("extract it into a folder");
    }

    @Test
    void externalEntitiesAndDoctypesAreRefused() throws Exception {
        Tools.require("tar");
        Path d = Files.createDirectories(dir.resolve("xxe"));
        Files.writeString(d.resolve("evil.ovf"), """
                <?xml version="1.0"?>
                <!DOCTYPE Envelope [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>
                <Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"><VirtualSystem><Name>&x;</Name></VirtualSystem></Envelope>
                """);
        Path ova = tar(dir.resolve("evil.ova"), d, "evil.ovf");
        assertThatThrownBy(() -> OvaSource.read(ova, SourceOptions.defaults(), w -> { }))
                .isInstanceOf(BadInputException.class)
                .hasMessageContaining("evil.ovf:2: invalid XML: DOCTYPE declarations are refused");
    }

    @Test
    void membersLeavingTheArchiveAreRefused() throws Exception {
        Tools.require("tar");
        Path d = Files.createDirectories(dir.resolve("dots/a"));
        Files.writeString(d.resolve("x.ovf"), "<Envelope/>");
        Path ova = dir.resolve("dots.ova");
        Run.Result r = Run.run(List.of("tar", "-cf", ova.toString(), "--absolute-names", "a/../a/x.ovf"),
                dir.resolve("dots"), Map.of(), 60);
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThatThrownBy(() -> OvaSource.read(ova, SourceOptions.defaults(), w -> { }))
                .isInstanceOf(BadInputException.class).hasMessageContaining("escapes the archive");
    }
}
