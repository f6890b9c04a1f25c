package org.jv2v.volume;

import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the scan cannot open is reported, not guessed at: LUKS, Windows dynamic disks. */
@Timeout(120)
class VolumesTest {
    @TempDir
    Path dir;

    private Path luks(String name, String size) throws Exception {
        Tools.require("cryptsetup");
        Path f = dir.resolve(name);
        Run.checked(List.of("truncate", "-s", size, f.toString()));
        Path key = Files.writeString(dir.resolve("key"), "secret");
        Run.checked(List.of("cryptsetup", "luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2",
                "--pbkdf-force-iterations", "1000", "--key-file", key.toString(), f.toString()));
        return f;
    }

    @Test
    void aLuksDiskAndALuksPartitionAreReported() throws Exception {
        Tools.require("sfdisk");
        Path whole = luks("whole.img", "20M");
        Path disk = dir.resolve("disk.img");
        Run.checked(List.of("truncate", "-s", "40M", disk.toString()));
        Run.checked(List.of("sh", "-c", "echo 'start=2048, size=45056, type=83' | sfdisk -q " + disk));
        Path part = luks("part.img", "20M");
        Run.checked(List.of("dd", "if=" + part, "of=" + disk, "bs=512", "seek=2048", "conv=notrunc", "status=none"));
        try (FileDevice a = FileDevice.open(whole); FileDevice b = FileDevice.open(disk)) {
            VolumeScan scan = Volumes.scan(List.of(a, b));
            assertThat(scan.volumes()).isEmpty();
            assertThat(scan.unsupported()).extracting(Unsupported::name, Unsupported::what)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("/dev/sda", "LUKS"),
                            org.assertj.core.groups.Tuple.tuple("/dev/sdb1", "LUKS"));
            assertThat(scan.unsupported().getFirst().detail()).contains("LUKS2");
        }
    }

    @Test
    void windowsDynamicDisksAreReportedOnMbrAndGpt() throws Exception {
        Tools.require("sfdisk", "sgdisk");
        Path mbr = dir.resolve("mbr.img");
        Run.checked(List.of("truncate", "-s", "16M", mbr.toString()));
        Run.checked(List.of("sh", "-c", "printf 'size=8192, type=7\\ntype=42\\n' | sfdisk -q " + mbr));
        Path gpt = dir.resolve("gpt.img");
        Run.checked(List.of("truncate", "-s", "16M", gpt.toString()));
        Run.checked(List.of("sgdisk", "-n", "1:0:+1M", "-t", "1:4201", "-n", "2:0:0", "-t", "2:4200", gpt.toString()));
        try (FileDevice a = FileDevice.open(mbr); FileDevice b = FileDevice.open(gpt)) {
            VolumeScan scan = Volumes.scan(List.of(a, b));
            assertThat(scan.volumes()).extracting(Volume::name).containsExactly("/dev/sda1");
            assertThat(scan.unsupported()).extracting(Unsupported::name)
                    .containsExactly("/dev/sda2", "/dev/sdb1", "/dev/sdb2");
            assertThat(scan.unsupported()).allSatisfy(u -> assertThat(u.what()).isEqualTo("Windows dynamic disk (LDM)"));
        }
    }

    @Test
    void disksAreNamedAsLinuxNamesThem() {
        assertThat(Volumes.diskName(0)).isEqualTo("/dev/sda");
        assertThat(Volumes.diskName(25)).isEqualTo("/dev/sdz");
        assertThat(Volumes.diskName(26)).isEqualTo("/dev/sdaa");
        assertThat(Volumes.diskName(27)).isEqualTo("/dev/sdab");
        assertThat(Volumes.diskName(26 + 26 * 26)).isEqualTo("/dev/sdaaa");
    }
}
