package org.jv2v.volume.lvm;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystems;
import org.jv2v.fs.SourceTree;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.jv2v.image.BlockDevice;
import org.jv2v.volume.Placement;
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
                sync
                ! cp DIR/b.img DIR/b-old.img
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
                """.replace("SRC", dir.resolve("src").toString()).replace("DIR", dir.toString());
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
        // block status is told piece by piece: up to the end of the 64 KiB stripe chunk, then the next
        var first = v.device().blockStatus(60 * 1024, n);
        assertThat(first.getFirst().offset()).isEqualTo(60 * 1024);
        assertThat(first.getLast().end()).isEqualTo(64 * 1024);
        var second = v.device().blockStatus(64 * 1024, n);
        assertThat(second.getFirst().offset()).isEqualTo(64 * 1024);
        assertThat(second.getLast().end()).isEqualTo(128 * 1024);
        assertThatThrownBy(() -> v.device().read(ByteBuffer.allocate(10), v.device().size() - 5))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Over writable disks (a conversion's overlays) a logical volume takes writes, which land where LVM maps them. */
    @Test
    void writesThroughLinearAndStripedVolumesLandOnTheirPlacements() throws Exception {
        assertThat(scan.volume("/dev/vg0/linear").orElseThrow().device().isWritable()).as("over read-only files")
                .isFalse();
        List<org.jv2v.image.Overlay> overlays = new ArrayList<>();
        try {
            for (FileDevice d : devices) {
                overlays.add(org.jv2v.image.Overlay.create(d, dir));
            }
            VolumeScan over = Volumes.scan(new ArrayList<>(overlays));
            Random rnd = new Random(5);
            for (String lv : List.of("linear", "striped")) {
                BlockDevice v = over.volume("/dev/vg0/" + lv).orElseThrow().device();
                assertThat(v.isWritable()).isTrue();
                long start = lv.equals("linear") ? Volumes.place(v, 0, v.size()).getFirst().length() - 300_000 : 100_000;
                byte[] data = SourceTree.bytes(rnd, 600_000);
                v.write(ByteBuffer.wrap(data), start);
                ByteBuffer back = ByteBuffer.allocate(data.length);
                v.read(back, start);
                assertThat(back.array()).isEqualTo(data);
                List<Placement> places = Volumes.place(v, start, data.length);
                assertThat(places).hasSizeGreaterThan(1);
                ByteBuffer viaDisks = ByteBuffer.allocate(data.length);
                for (Placement p : places) {
                    p.disk().read(viaDisks.limit(viaDisks.position() + (int) p.length()), p.offset());
                }
                assertThat(viaDisks.array()).isEqualTo(data);
                // the files under the overlays did not change
                ByteBuffer base = ByteBuffer.allocate(data.length);
                scan.volume("/dev/vg0/" + lv).orElseThrow().device().read(base, start);
                assertThat(base.array()).isNotEqualTo(data);
            }
        } finally {
            for (org.jv2v.image.Overlay o : overlays) {
                o.close();
            }
        }
    }

    @Test
    void placementsOnTheDisksHoldTheSameBytes() throws Exception {
        for (String lv : List.of("linear", "striped")) {
            BlockDevice v = scan.volume("/dev/vg0/" + lv).orElseThrow().device();
            // a range crossing stripe chunks, and (linear) from one PV to the next
            List<Placement> whole = Volumes.place(v, 0, v.size());
            assertThat(whole).hasSizeGreaterThan(1);
            long start = lv.equals("linear") ? whole.getFirst().length() - (8 << 20) : 100_000;
            int n = lv.equals("linear") ? 16 << 20 : 300_000;
            ByteBuffer direct = ByteBuffer.allocate(n);
            v.read(direct, start);
            List<Placement> places = Volumes.place(v, start, n);
            assertThat(places).hasSizeGreaterThan(1);
            assertThat(places).allSatisfy(p -> assertThat(devices).contains((FileDevice) p.disk()));
            ByteBuffer viaDisks = ByteBuffer.allocate(n);
            for (Placement p : places) {
                p.disk().read(viaDisks.limit(viaDisks.position() + (int) p.length()), p.offset());
            }
            assertThat(viaDisks.array()).isEqualTo(direct.array());
        }
    }

    @Test
    void theNewestMetadataCopyWins() throws Exception {
        // b-old.img was copied before the thin pool was made: its metadata is older than a.img's
        try (FileDevice old = FileDevice.open(dir.resolve("b-old.img"))) {
            PvLabel label = PvLabel.read(old).orElseThrow();
            long[] mda = label.metadataAreas().getFirst();
            String text = MetadataArea.text(old, mda[0], mda[1]).orElseThrow();
            long oldSeqno = (Long) ((Map<?, ?>) LvmText.parse(text, "b-old").get("vg0")).get("seqno");
            long newest = scan.groups().getFirst().seqno();
            assertThat(oldSeqno).isLessThan(newest);
            VolumeScan mixed = Volumes.scan(List.of(devices.getFirst(), old));
            assertThat(mixed.groups().getFirst().seqno()).isEqualTo(newest);
            assertThat(mixed.groups().getFirst().logicalVolumes()).contains("thin");
            VolumeScan reversed = Volumes.scan(List.of(old, devices.getFirst()));
            assertThat(reversed.groups().getFirst().seqno()).isEqualTo(newest);
        }
    }

    @Test
    void metadataWrappingAroundTheCircularBufferIsRead() throws Exception {
        Path copy = dir.resolve("b-wrapped.img");
        Files.copy(disks.get(1), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        long mdaStart;
        long mdaSize;
        String original;
        try (FileDevice d = FileDevice.open(copy)) {
            long[] mda = PvLabel.read(d).orElseThrow().metadataAreas().getFirst();
            mdaStart = mda[0];
            mdaSize = mda[1];
            original = MetadataArea.text(d, mdaStart, mdaSize).orElseThrow();
        }
        // move the current text so that it starts 100 bytes before the end of the area and wraps
        try (var ch = java.nio.channels.FileChannel.open(copy, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer h = ByteBuffer.allocate(512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(h, mdaStart);
            long size = h.getLong(0x30);
            byte[] text = new byte[(int) size];
            ch.read(ByteBuffer.wrap(text), mdaStart + h.getLong(0x28));
            long newOffset = mdaSize - 100;
            ch.write(ByteBuffer.wrap(text, 0, 100), mdaStart + newOffset);
            ch.write(ByteBuffer.wrap(text, 100, text.length - 100), mdaStart + 512);
            h.putLong(0x28, newOffset);
            h.putInt(0, LvmCrc.update(LvmCrc.INITIAL, h.array(), 4, 508));
            ch.write(h.position(0), mdaStart);
        }
        try (FileDevice d = FileDevice.open(copy)) {
            assertThat(MetadataArea.text(d, mdaStart, mdaSize)).contains(original);
        }
    }

    @Test
    void corruptMetadataIsReportedWithTheFieldAndOffset() throws Exception {
        List<FileDevice> broken = new ArrayList<>();
        try {
            for (Path d : disks.subList(0, 2)) {
                Path copy = dir.resolve("broken-" + d.getFileName());
                Files.copy(d, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                long start = 0;
                try (FileDevice dev = FileDevice.open(copy)) {
                    var table = Volumes.table(dev);
                    if (table.isPresent()) {
                        start = table.get().partitions().getFirst().start();
                    }
                    var pv = new org.jv2v.image.SliceDevice(dev, start, dev.size() - start, "pv");
                    long[] mda = PvLabel.read(pv).orElseThrow().metadataAreas().getFirst();
                    ByteBuffer h = ByteBuffer.allocate(512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    dev.read(h, start + mda[0]);
                    long textAt = start + mda[0] + h.getLong(0x28);
                    try (var ch = java.nio.channels.FileChannel.open(copy, java.nio.file.StandardOpenOption.WRITE)) {
                        ch.write(ByteBuffer.wrap(new byte[] {'#'}), textAt + 1); // inside the VG name
                    }
                }
                broken.add(FileDevice.open(copy));
            }
            VolumeScan s = Volumes.scan(new ArrayList<>(broken));
            assertThat(s.groups()).isEmpty();
            assertThat(s.volumes()).isEmpty();
            assertThat(s.unsupported()).extracting(Unsupported::name).containsExactly("/dev/sda1", "/dev/sdb");
            assertThat(s.unsupported()).allSatisfy(u -> assertThat(u.detail())
                    .contains("LVM metadata text checksum at offset 0x").contains("stored 0x"));
        } finally {
            for (FileDevice d : broken) {
                d.close();
            }
        }
    }

    /**
     * Metadata whose checksums are right but whose content is absurd (as a crafted image has it):
     * each is a clear one-line error naming the metadata's place, never a hang or a huge allocation.
     */
    @Test
    void absurdMetadataWithRightChecksumsIsAnError() throws Exception {
        // an extent count of 2^32 in the linear volume's first segment
        assertThat(scanRewritten("count", t -> t.replaceFirst("(linear \\{[^}]*?segment1 \\{[^}]*?extent_count = )\\d+",
                "$14294967296"))).matches("/dev/sd[ab]1?: LVM metadata at offset 0x[0-9a-f]+, VG vg0, LV linear: extents \\[[0-9]+, "
                + "\\+4294967296\\) lie past the [0-9]+ extents of pv[01]");
        // a segment that starts far past the physical volume's end
        assertThat(scanRewritten("past", t -> t.replaceFirst("(linear \\{[^}]*?segment1 \\{[^}]*?stripes = \\[\\s*\"pv[01]\", )\\d+",
                "$1999999999"))).matches("/dev/sd[ab]1?: LVM metadata at offset 0x[0-9a-f]+, VG vg0, LV linear: extents "
                + "\\[999999999, \\+[0-9]+\\) lie past the [0-9]+ extents of pv[01]");
        // sections nested 10000 deep: refused at depth 32, no stack overflow
        assertThat(scanRewritten("deep", t -> t.replaceFirst("\\{", "{" + "x {".repeat(10_000) + "}".repeat(10_000))))
                .contains("sections nested deeper than 32");
        // a stripe count of 2^31
        assertThat(scanRewritten("stripes", t -> t.replaceFirst("(striped \\{[^}]*?segment1 \\{[^}]*?stripe_count = )\\d+",
                "$12147483648"))).contains("stripe_count 2147483648 is not within [1, 128]");
    }

    /**
     * Both metadata copies (a.img's partition, b.img) rewritten by {@code edit}, with their text and
     * header checksums recomputed; returns what the scan says (its error, or every unsupported detail).
     */
    private String scanRewritten(String name, java.util.function.UnaryOperator<String> edit) throws Exception {
        List<FileDevice> broken = new ArrayList<>();
        try {
            for (Path d : disks.subList(0, 2)) {
                Path copy = dir.resolve(name + "-" + d.getFileName());
                Files.copy(d, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                long start = 0;
                try (FileDevice dev = FileDevice.open(copy)) {
                    var table = Volumes.table(dev);
                    if (table.isPresent()) {
                        start = table.get().partitions().getFirst().start();
                    }
                }
                try (var ch = java.nio.channels.FileChannel.open(copy, java.nio.file.StandardOpenOption.READ,
                        java.nio.file.StandardOpenOption.WRITE)) {
                    ByteBuffer label = ByteBuffer.allocate(2048).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    ch.read(label, start);
                    long mdaStart;
                    try (FileDevice dev = FileDevice.open(copy)) {
                        var pv = new org.jv2v.image.SliceDevice(dev, start, dev.size() - start, "pv");
                        mdaStart = start + PvLabel.read(pv).orElseThrow().metadataAreas().getFirst()[0];
                    }
                    ByteBuffer h = ByteBuffer.allocate(512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    ch.read(h, mdaStart);
                    long textAt = mdaStart + h.getLong(0x28);
                    byte[] text = new byte[(int) h.getLong(0x30)];
                    ch.read(ByteBuffer.wrap(text), textAt);
                    boolean nul = text.length > 0 && text[text.length - 1] == 0;
                    String before = new String(text, 0, text.length - (nul ? 1 : 0), java.nio.charset.StandardCharsets.UTF_8);
                    String after = edit.apply(before);
                    assertThat(after).as("the edit applies").isNotEqualTo(before);
                    byte[] out = (after + (nul ? "\0" : "")).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    ch.write(ByteBuffer.wrap(out), textAt);
                    h.putLong(0x30, out.length);
                    h.putInt(0x38, LvmCrc.update(LvmCrc.INITIAL, out, 0, out.length));
                    h.putInt(0, LvmCrc.update(LvmCrc.INITIAL, h.array(), 4, 508));
                    ch.write(h.position(0), mdaStart);
                }
                broken.add(FileDevice.open(copy));
            }
            try {
                VolumeScan s = Volumes.scan(new ArrayList<>(broken));
                return String.join("\n", s.unsupported().stream().map(u -> u.name() + ": " + u.detail()).toList());
            } catch (org.jv2v.BadInputException e) {
                assertThat(e.getMessage()).as("one line").doesNotContain("\n");
                return e.getMessage();
            }
        } finally {
            for (FileDevice d : broken) {
                d.close();
            }
        }
    }

    @Test
    void aCorruptLabelIsAnError() throws Exception {
        Path copy = dir.resolve("bad-label.img");
        Files.copy(disks.get(1), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (var ch = java.nio.channels.FileChannel.open(copy, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {'x'}), 512 + 0x20 + 3); // a character of the PV UUID
        }
        try (FileDevice d = FileDevice.open(copy)) {
            assertThatThrownBy(() -> Volumes.scan(List.of(d))).isInstanceOf(org.jv2v.BadInputException.class)
                    .hasMessage(copy + ": LVM label checksum at offset 0x210: stored 0x%08x, computed 0x%08x",
                            crcAt(copy), actualCrc(copy));
        }
    }

    private static int crcAt(Path f) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        try (var ch = java.nio.channels.FileChannel.open(f)) {
            ch.read(b, 512 + 0x10);
        }
        return b.getInt(0);
    }

    private static int actualCrc(Path f) throws Exception {
        byte[] s = new byte[512];
        try (var ch = java.nio.channels.FileChannel.open(f)) {
            ch.read(ByteBuffer.wrap(s), 512);
        }
        return LvmCrc.update(LvmCrc.INITIAL, s, 0x14, 512 - 0x14);
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
