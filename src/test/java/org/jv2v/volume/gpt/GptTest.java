package org.jv2v.volume.gpt;

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

/** GPT disks partitioned by sgdisk; damaged primary headers fall back to the backup. */
@Timeout(60)
class GptTest {
    @TempDir
    Path dir;
    Path disk;
    long sectors;

    @BeforeEach
    void partition() throws Exception {
        Tools.require("sgdisk", "sfdisk", "mkfs.ext4");
        disk = dir.resolve("disk.img");
        Run.checked(List.of("truncate", "-s", "24M", disk.toString()));
        Run.checked(List.of("sgdisk", "-n", "1:2048:+1M", "-t", "1:ef00", "-c", "1:EFI System",
                "-n", "2:0:+8M", "-t", "2:8300", "-c", "2:root \u00e9t\u00e9", "-A", "2:set:2",
                "-n", "3:0:0", "-t", "3:8e00", disk.toString()));
        sectors = Files.size(disk) / 512;
    }

    @Test
    void readsEntriesAsSfdiskDoes() throws Exception {
        try (FileDevice dev = FileDevice.open(disk)) {
            PartitionTable t = Gpt.read(dev);
            Sfdisk.assertSameAs(disk, t);
            assertThat(t.warnings()).isEmpty();
            assertThat(t.partitions().getFirst().typeGuid()).contains(Gpt.TYPE_EFI_SYSTEM);
            assertThat(t.partitions().get(1).name()).isEqualTo("root \u00e9t\u00e9");
            assertThat(t.partitions().get(1).attributes()).isEqualTo(4L);
        }
    }

    @Test
    void aBrokenPrimaryHeaderFallsBackToTheBackup() throws Exception {
        PartitionTable good;
        try (FileDevice dev = FileDevice.open(disk)) {
            good = Gpt.read(dev);
        }
        patch(512 + 0x38, new byte[] {0x55}); // a byte of the disk GUID, header CRC not updated
        try (FileDevice dev = FileDevice.open(disk)) {
            PartitionTable t = Gpt.read(dev);
            assertThat(t.partitions()).isEqualTo(good.partitions());
            assertThat(t.diskId()).isEqualTo(good.diskId());
            assertThat(t.warnings()).singleElement().asString().contains("primary GPT is corrupt")
                    .contains("GPT header CRC32 at offset 0x210").contains("backup at LBA " + (sectors - 1));
            // and the scan still finds the partitions
            assertThat(Volumes.scan(List.of(dev)).volumes()).hasSize(3);
        }
    }

    @Test
    void aBrokenPrimaryEntryArrayFallsBackToTheBackup() throws Exception {
        patch(2 * 512 + 0x38, new byte[] {'X', 0}); // first entry's name, array CRC not updated
        try (FileDevice dev = FileDevice.open(disk)) {
            PartitionTable t = Gpt.read(dev);
            assertThat(t.partitions().getFirst().name()).isEqualTo("EFI System");
            assertThat(t.warnings()).singleElement().asString().contains("partition entry array CRC32");
        }
    }

    @Test
    void bothHeadersBrokenIsAnErrorNamingBoth() throws Exception {
        patch(512 + 0x10, new byte[] {1, 2, 3, 4});
        patch((sectors - 1) * 512 + 0x10, new byte[] {1, 2, 3, 4});
        try (FileDevice dev = FileDevice.open(disk)) {
            assertThatThrownBy(() -> Volumes.scan(List.of(dev))).isInstanceOf(BadInputException.class)
                    .hasMessageStartingWith(disk + ": no valid GPT: primary: ")
                    .hasMessageContaining("GPT header CRC32 at offset 0x210")
                    .hasMessageContaining("backup: ").hasMessageContaining("at offset 0x" + Long.toHexString(
                            (sectors - 1) * 512 + 0x10));
        }
    }

    @Test
    void anAbsurdEntryCountIsAnError() throws Exception {
        // a consistent header (CRC recomputed) that asks for 2^31 entries
        byte[] h = new byte[92];
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(h).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(b, 512);
            b.putInt(0x50, Integer.MAX_VALUE);
            b.putInt(0x10, 0);
            b.putInt(0x10, Gpt.crc(h, 0, 92));
            ch.write(ByteBuffer.wrap(h), 512);
        }
        patch((sectors - 1) * 512, new byte[8]); // and no backup to fall back on
        try (FileDevice dev = FileDevice.open(disk)) {
            assertThatThrownBy(() -> Gpt.read(dev)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("GPT number of partition entries at offset 0x250")
                    .hasMessageContaining("2147483647 is more than 4096");
        }
    }

    @Test
    void aPartitionPastTheEndOfTheDiskIsAnError() throws Exception {
        // the first entry's last LBA set to 2^40, with the entry array's and the header's CRCs recomputed
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            byte[] h = new byte[92];
            ByteBuffer hb = ByteBuffer.wrap(h).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(hb, 512);
            long entriesAt = hb.getLong(0x48) * 512;
            int count = hb.getInt(0x50);
            int size = hb.getInt(0x54);
            byte[] entries = new byte[count * size];
            ByteBuffer eb = ByteBuffer.wrap(entries).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(eb, entriesAt);
            eb.putLong(0x28, 1L << 40);                                 // entry 0: 0x28 last LBA
            ch.write(ByteBuffer.wrap(entries), entriesAt);
            hb.putInt(0x58, Gpt.crc(entries, 0, entries.length));      // 0x58 entry array CRC
            hb.putInt(0x10, 0);
            hb.putInt(0x10, Gpt.crc(h, 0, 92));
            ch.write(ByteBuffer.wrap(h), 512);
        }
        try (FileDevice dev = FileDevice.open(disk)) {
            assertThatThrownBy(() -> Gpt.read(dev)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining(", 1099511627776] is not within the disk's " + sectors + " sectors")
                    .hasMessageNotContaining("\n");
        }
    }

    @Test
    void aFilesystemInAPartitionReadsThroughTheScan() throws Exception {
        long start = Sfdisk.dump(disk).get("partitions").get(1).get("start").asLong() * 512;
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.writeString(tree.resolve("etc-fstab"), "UUID=x / ext4 defaults 0 1\n");
        Run.checked(List.of("mkfs.ext4", "-q", "-F", "-L", "root", "-E", "offset=" + start, "-d", tree.toString(),
                disk.toString(), "8M"));
        try (FileDevice dev = FileDevice.open(disk)) {
            VolumeScan scan = Volumes.scan(List.of(dev));
            Volume root = scan.volume("/dev/sda2").orElseThrow();
            assertThat(root.partition().orElseThrow().typeGuid()).contains("0FC63DAF-8483-4772-8E79-3D69D8477DE4");
            try (FileSystem fs = FileSystems.open(root.device()).orElseThrow()) {
                assertThat(fs.label()).contains("root");
                assertThat(new String(fs.readAll("/etc-fstab", 100))).startsWith("UUID=x");
            }
        }
        assertThat(Files.size(disk)).isEqualTo(sectors * 512); // mkfs wrote inside, did not grow the disk
    }

    private void patch(long offset, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), offset);
        }
    }
}
