package org.jv2v.convert.linux;

import org.jv2v.model.Bus;
import org.jv2v.model.DeviceSlot;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.DiskMode;
import org.jv2v.model.SourceDisk;
import org.jv2v.target.TargetBus;
import org.jv2v.testing.Corpus;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Disk names carried to the target bus in the files that hold them, against golden files: the
 * first disk on pvscsi (scsi0:0), the second on IDE (ide0:1, "hdb" to old kernels, "sdb" to
 * libata). Whole names only; UUID=, LABEL=, /dev/mapper, /dev/disk/by-*, CD-ROMs, comments' words
 * and unknown disks (sdaa) are left alone.
 */
class DeviceNamesTest {
    private static final Path IN = Corpus.projectDir().resolve("src/test/resources/convert/linux");

    private static SourceDisk disk(int id, Bus bus, int c, int u, String model) {
        return new SourceDisk(id, Optional.of(new DeviceSlot(bus, c, u)), Optional.ofNullable(model),
                DiskMode.PERSISTENT, "d" + id + ".vmdk", new DiskLocation.LocalFile(Path.of("/src/d" + id + ".vmdk")),
                Optional.of("vmdk"), OptionalLong.empty());
    }

    private static final List<SourceDisk> DISKS = List.of(disk(0, Bus.SCSI, 0, 0, "pvscsi"), disk(1, Bus.IDE, 0, 1, null));

    private static String render(EditResult r) {
        return r.text() + "---- reasons\n" + String.join("\n", r.reasons()) + "\n---- warnings\n"
                + String.join("\n", r.warnings()) + "\n";
    }

    private static String input(String name) throws Exception {
        return Files.readString(IN.resolve(name));
    }

    @Test
    void fstabOnVirtioBlk() throws Exception {
        DeviceMap map = DeviceMap.of(DISKS, TargetBus.VIRTIO_BLK);
        DebianGuestConversionTest.Golden.check("convert/device-names/fstab-virtio-blk.txt",
                render(DeviceRefs.fstab(input("fstab-mixed"), map, "/etc/fstab")));
    }

    @Test
    void fstabOnVirtioScsiKeepsSdNames() throws Exception {
        DeviceMap map = DeviceMap.of(DISKS, TargetBus.VIRTIO_SCSI);
        EditResult r = DeviceRefs.fstab(input("fstab-mixed"), map, "/etc/fstab");
        DebianGuestConversionTest.Golden.check("convert/device-names/fstab-virtio-scsi.txt", render(r));
        assertThat(r.text()).contains("/dev/sda3       /home", "/dev/sdb1       /srv", "/dev/sdaa1");
    }

    @Test
    void defaultGrubAndBlsEntry() throws Exception {
        DeviceMap map = DeviceMap.of(DISKS, TargetBus.VIRTIO_BLK);
        DebianGuestConversionTest.Golden.check("convert/device-names/default-grub-virtio-blk.txt",
                render(DeviceRefs.everyLine(input("grub-default"), map, "/etc/default/grub")));
        DebianGuestConversionTest.Golden.check("convert/device-names/bls-entry-virtio-blk.txt",
                render(BlsEntry.remapDevices(input("bls-entry.conf"), map, "/boot/loader/entries/x.conf")));
    }

    @Test
    void onlyWholeNamesMatch() {
        DeviceMap map = DeviceMap.of(DISKS, TargetBus.VIRTIO_BLK);
        DeviceMap.Remapped r = map.remap("root=/dev/sda1 a=/dev/sdaa1 b=/dev/sda-x c=x/dev/sda1 d=/dev/nvme0n1p1 "
                + "e=/dev/cciss/c0d1p2 f=/dev/hdb");
        assertThat(r.text()).isEqualTo("root=/dev/vda1 a=/dev/sdaa1 b=/dev/sda-x c=x/dev/sda1 d=/dev/nvme0n1p1 "
                + "e=/dev/vdb2 f=/dev/vdb");
        assertThat(r.unknown()).containsExactly("/dev/sdaa1", "/dev/nvme0n1p1");
    }
}
