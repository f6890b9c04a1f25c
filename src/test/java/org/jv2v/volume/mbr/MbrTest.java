package org.jv2v.volume.mbr;

import org.jv2v.BadInputException;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystems;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.jv2v.volume.PartitionTable;
import org.jv2v.volume.Sfdisk;
import org.jv2v.volume.Volume;
import org.jv2v.volume.VolumeScan;
import org.jv2v.volume.Volumes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** MBR disks partitioned by sfdisk, with primary, extended and logical partitions. */
@Timeout(60)
class MbrTest {
    @TempDir
    Path dir;
    Path disk;

    @BeforeEach
    void partition() throws Exception {
        Tools.require("sfdisk", "mkfs.ext4");
        disk = dir.resolve("disk.img");
        Run.checked(List.of("truncate", "-s", "32M", disk.toString()));
        Files.writeString(dir.resolve("layout"), """
                label: dos
                label-id: 0x12345678
                start=2048, size=4096, type=83, bootable
                size=8192, type=7
                type=5
                size=8192, type=83
                size=2048, type=82
                type=b
                """);
        Run.checked(List.of("sh", "-c", "sfdisk -q " + disk + " < " + dir.resolve("layout")));
    }

    @Test
    void readsPrimaryExtendedAndLogicalPartitionsAsSfdiskDoes() throws Exception {
        try (FileDevice dev = FileDevice.open(disk)) {
            PartitionTable t = Mbr.read(dev).orElseThrow();
            Sfdisk.assertSameAs(disk, t);
            assertThat(t.partitions()).extracting(p -> p.number()).containsExactly(1, 2, 3, 5, 6, 7);
            assertThat(t.partitions()).filteredOn(p -> p.logical()).hasSize(3);
        }
    }

    @Test
    void aFilesystemInALogicalPartitionReadsThroughTheScan() throws Exception {
        long start = Sfdisk.dump(disk).get("partitions").get(3).get("start").asLong() * 512;
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.writeString(tree.resolve("hello"), "in a logical partition\n");
        // the filesystem made in its own file, then copied into partition 5
        Path fs = dir.resolve("fs.img");
        Run.checked(List.of("mkfs.ext4", "-q", "-F", "-d", tree.toString(), fs.toString(), "4M"));
        Run.checked(List.of("dd", "if=" + fs, "of=" + disk, "bs=512", "seek=" + start / 512, "conv=notrunc",
                "status=none"));
        try (FileDevice dev = FileDevice.open(disk)) {
            VolumeScan scan = Volumes.scan(List.of(dev));
            assertThat(scan.volumes()).extracting(Volume::name)
                    .containsExactly("/dev/sda1", "/dev/sda2", "/dev/sda5", "/dev/sda6", "/dev/sda7");
            Volume v = scan.volume("/dev/sda5").orElseThrow();
            assertThat(v.kind()).isEqualTo(Volume.Kind.PARTITION);
            assertThat(v.partition().orElseThrow().mbrType()).isEqualTo(0x83);
            try (FileSystem f = FileSystems.open(v.device()).orElseThrow()) {
                assertThat(new String(f.readAll("/hello", 100))).isEqualTo("in a logical partition\n");
            }
            assertThat(FileSystems.probe(scan.volume("/dev/sda1").orElseThrow().device())).isEmpty();
            assertThat(Volumes.place(v.device(), 1024, 4096)).containsExactly(
                    new org.jv2v.volume.Placement(dev, start + 1024, 4096));
        }
    }

    @Test
    void aLogicalPartitionChainLoopIsAnError() throws Exception {
        long ext = Sfdisk.dump(disk).get("partitions").get(2).get("start").asLong();
        // the first EBR's link to the next EBR points at itself (offset 0 within the extended partition)
        patch(ext * 512 + 0x1ce + 8, new byte[4]);
        try (FileDevice dev = FileDevice.open(disk)) {
            assertThatThrownBy(() -> Mbr.read(dev)).isInstanceOf(BadInputException.class)
                    .hasMessageStartingWith(disk.toString()).hasMessageContaining("EBR link at offset 0x")
                    .hasMessageContaining("loops back to sector " + ext);
        }
    }

    @Test
    void aPartitionPastTheEndOfTheDiskIsAnError() throws Exception {
        patch(0x1be + 16 + 12, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}); // partition 2 sectors
        try (FileDevice dev = FileDevice.open(disk)) {
            assertThatThrownBy(() -> Mbr.read(dev)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("partition 2 entry at offset 0x1ce").hasMessageContaining("past the end");
        }
    }

    @Test
    void aDiskWithoutATableIsOneWholeDiskVolume() throws Exception {
        Path raw = dir.resolve("raw.img");
        Run.checked(List.of("mkfs.ext4", "-q", "-F", raw.toString(), "4M"));
        try (FileDevice dev = FileDevice.open(raw)) {
            assertThat(Mbr.read(dev)).isEmpty();
            VolumeScan scan = Volumes.scan(List.of(dev));
            assertThat(scan.volumes()).singleElement().satisfies(v -> {
                assertThat(v.name()).isEqualTo("/dev/sda");
                assertThat(v.kind()).isEqualTo(Volume.Kind.WHOLE_DISK);
            });
            assertThat(scan.disks().getFirst().table()).isEmpty();
        }
    }

    @Test
    void aFatBootSectorIsNotAPartitionTable() throws Exception {
        Tools.require("mkfs.vfat");
        Path fat = dir.resolve("fat.img");
        Run.checked(List.of("truncate", "-s", "8M", fat.toString()));
        Run.checked(List.of("mkfs.vfat", fat.toString()));
        try (FileDevice dev = FileDevice.open(fat)) {
            assertThat(Mbr.read(dev)).isEmpty();
        }
    }

    private void patch(long offset, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), offset);
        }
    }
}
