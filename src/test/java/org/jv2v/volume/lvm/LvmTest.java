package org.jv2v.volume.lvm;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystems;
import org.jv2v.fs.SourceTree;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.jv2v.volume.Unsupported;
import org.jv2v.volume.Volume;
import org.jv2v.volume.VolumeScan;
import org.jv2v.volume.Volumes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * LVM made by lvm2 itself, inside libguestfs's appliance (the host has no device-mapper): one
 * guestfish run builds a VG over a partition of one disk and the whole of another, a linear LV that
 * spans both, a striped one, a thin pool with a thin LV, and an md RAID1 on a third disk. jv2v then
 * reads the files guestfish wrote, through its own LV mapping.
 */
class LvmTest {
    @TempDir
    static Path dir;
    static List<Path> disks;
    static List<FileDevice> devices = new ArrayList<>();
    static Map<String, Long> lvSizes = new TreeMap<>();
    static VolumeScan scan;

    @BeforeAll
    static void build() throws Exception {
        Tools.require("guestfish");
        disks = List.of(dir.resolve("a.img"), dir.resolve("b.img"), dir.resolve("c.img"));
        for (Path d : disks) {
            Run.checked(List.of("truncate", "-s", d.endsWith("c.img") ? "40M" : "96M", d.toString()));
        }
        Random rnd = new Random(11);
        for (String lv : List.of("linear", "striped")) {
            Path src = Files.createDirectories(dir.resolve("src").resolve(lv).resolve("data"));
            for (int i = 0; i < 20; i++) {
                Files.write(src.resolve("f" + i), SourceTree.bytes(rnd, rnd.nextInt(200_000)));
            }
            // bigger than a stripe and an extent, so reads cross both kinds of boundary
            Files.write(src.resolve("big"), SourceTree.bytes(rnd, 9 << 20));
        }
        String script = """
                run
                part-disk /dev/sda mbr
                pvcreate /dev/sda1
                pvcreate /dev/sdb
                vgcreate vg0 "/dev/sda1 /dev/sdb"
                debug sh "lvm lvcreate -y -n striped -i 2 -I 64k -L 24M vg0"
                lvcreate linear vg0 120
                debug sh "lvm lvcreate -y --type thin-pool -L 8M -n pool vg0"
                debug sh "lvm lvcreate -y -V 16M -T vg0/pool -n thin"
                mkfs ext4 /dev/vg0/linear
                mkfs ext4 /dev/vg0/striped
                mount /dev/vg0/linear /
                copy-in SRC/linear/data /
                umount /
                mount /dev/vg0/striped /
                copy-in SRC/striped/data /
                umount /
                part-init /dev/sdc mbr
                part-add /dev/sdc p 2048 40959
                part-add /dev/sdc p 40960 -2048
                md-create md0 "/dev/sdc1 /dev/sdc2" level:raid1
                debug sh "lvm lvs --units b --nosuffix --noheadings --separator , -o lv_name,lv_size vg0"
                """.replace("SRC", dir.resolve("src").toString());
        Path scriptFile = Files.writeString(dir.resolve("script"), script);
        List<String> cmd = new ArrayList<>(List.of("guestfish", "--rw", "-f", scriptFile.toString()));
        for (Path d : disks) {
            cmd.addAll(List.of("-a", d.toString()));
        }
        Run.Result r = Run.run(cmd, dir, Map.of("LIBGUESTFS_BACKEND", "direct",
                "LIBGUESTFS_BACKEND_SETTINGS", "force_tcg"), 600);
        assertThat(r.exitCode()).as(r.all()).isZero();
        for (String line : r.stdout().split("\n")) {
            String[] f = line.trim().split(",");
            if (f.length == 2 && f[1].matches("\\d+")) {
                lvSizes.put(f[0], Long.parseLong(f[1]));
            }
        }
        assertThat(lvSizes).containsKeys("linear", "striped", "pool", "thin");
        for (Path d : disks) {
            devices.add(FileDevice.open(d));
        }
        scan = Volumes.scan(new ArrayList<>(devices));
    }

    @AfterAll
    static void close() throws Exception {
        for (FileDevice d : devices) {
            d.close();
        }
    }

    @Test
    void findsTheVolumeGroupAcrossTwoDisks() {
        assertThat(scan.groups()).singleElement().satisfies(vg -> {
            assertThat(vg.name()).isEqualTo("vg0");
            assertThat(vg.physicalVolumes()).containsExactly("/dev/sda1", "/dev/sdb");
            assertThat(vg.complete()).isTrue();
            assertThat(vg.logicalVolumes()).contains("linear", "striped", "pool", "thin");
            assertThat(vg.extentSize()).isEqualTo(4 << 20);
        });
        assertThat(scan.volumes()).extracting(Volume::name)
                .containsExactlyInAnyOrder("/dev/vg0/linear", "/dev/vg0/striped");
    }

    @Test
    void logicalVolumesHaveTheSizesLvmReports() {
        for (String lv : List.of("linear", "striped")) {
            assertThat(scan.volume("/dev/vg0/" + lv).orElseThrow().device().size()).as(lv)
                    .isEqualTo(lvSizes.get(lv));
        }
    }

    @Test
    void filesWrittenByGuestfishReadBackThroughLinearAndStripedVolumes() throws Exception {
        for (String lv : List.of("linear", "striped")) {
            Volume v = scan.volume("/dev/vg0/" + lv).orElseThrow();
            assertThat(v.kind()).isEqualTo(Volume.Kind.LOGICAL_VOLUME);
            try (FileSystem fs = FileSystems.open(v.device()).orElseThrow()) {
                Path src = dir.resolve("src").resolve(lv).resolve("data");
                List<String> names = fs.list("/data").stream().map(DirEntry::name).toList();
                try (var s = Files.list(src)) {
                    assertThat(names).containsExactlyInAnyOrderElementsOf(
                            s.map(p -> p.getFileName().toString()).toList());
                }
                for (String n : names) {
                    assertThat(SourceTree.readInChunks(fs, "/data/" + n)).as(lv + "/" + n)
                            .isEqualTo(Files.readAllBytes(src.resolve(n)));
                }
            }
        }
    }

    @Test
    void thinVolumesAndRaidMembersAreReportedNotGuessed() {
        assertThat(scan.unsupported()).extracting(Unsupported::name)
                .contains("/dev/vg0/pool", "/dev/vg0/thin", "/dev/sdc1", "/dev/sdc2");
        assertThat(scan.unsupported()).filteredOn(u -> u.name().equals("/dev/vg0/thin")).singleElement()
                .satisfies(u -> assertThat(u.detail()).contains("'thin'"));
        assertThat(scan.unsupported()).filteredOn(u -> u.name().startsWith("/dev/sdc")).allSatisfy(u ->
                assertThat(u.what()).isEqualTo("Linux software RAID (md)"));
    }

    @Test
    void aStripedReadAcrossChunksMatchesLinearPieces() throws Exception {
        // read the whole striped LV at once and in 4 KiB pieces: both orders give the same bytes
        Volume v = scan.volume("/dev/vg0/striped").orElseThrow();
        int n = 1 << 20;
        ByteBuffer whole = ByteBuffer.allocate(n);
        v.device().read(whole, 60 * 1024);
        ByteBuffer pieces = ByteBuffer.allocate(n);
        for (int off = 0; off < n; off += 4096) {
            v.device().read(pieces.limit(off + 4096).position(off), 60 * 1024 + off);
        }
        assertThat(pieces.array()).isEqualTo(whole.array());
        assertThatThrownBy(() -> v.device().read(ByteBuffer.allocate(10), v.device().size() - 5))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aMissingPhysicalVolumeIsReported() throws Exception {
        VolumeScan partial = Volumes.scan(List.of(devices.getFirst()));
        assertThat(partial.groups()).singleElement().satisfies(vg -> {
            assertThat(vg.complete()).isFalse();
            assertThat(vg.missingPvs()).hasSize(1);
        });
        assertThat(partial.volumes()).noneMatch(v -> v.name().equals("/dev/vg0/striped"));
        assertThat(partial.unsupported()).anySatisfy(u -> {
            assertThat(u.name()).isEqualTo("/dev/vg0/striped");
            assertThat(u.detail()).contains("missing");
        });
    }
}
