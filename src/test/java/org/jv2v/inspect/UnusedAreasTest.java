package org.jv2v.inspect;

import org.jv2v.fs.ByteRange;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystems;
import org.jv2v.image.BlockDevice;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.jv2v.volume.Volume;
import org.jv2v.volume.Volumes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The used-block map is never wrong in the unsafe direction: each test guest is copied the way the
 * copier copies with the map (the ranges no filesystem uses are not read, the target keeps zeros
 * there), then every file that went into the guest reads back identical from the copy, and the
 * filesystems' own checkers (e2fsck -fn, xfs_repair -n, fsck.fat -n, ntfsfix -n, btrfs check) find
 * the copy clean. And the
 * map is worth having: a thick disk holding little data copies about the data's size.
 */
class UnusedAreasTest {
    @TempDir
    Path dir;

    @Test
    void debianCopiedWithoutUnusedAreasIsIntact() throws Exception {
        Tools.require("e2fsck", "debugfs", "blkid");
        TestGuests.Guest guest = TestGuests.debian();
        long size = Files.size(guest.image());
        Path copy = copySkipping(guest, "most of a nearly empty 200 MiB disk is skipped", size / 2);
        // the MBR's boot code and what lies between the MBR and the first partition (grub's core.img)
        byte[] head = readRange(copy, 0, TestGuests.CORE_IMG_OFFSET + TestGuests.BOOT_CODE.length);
        assertThat(Arrays.copyOfRange(head, 0, TestGuests.BOOT_CODE.length)).isEqualTo(TestGuests.BOOT_CODE);
        assertThat(Arrays.copyOfRange(head, (int) TestGuests.CORE_IMG_OFFSET, head.length)).isEqualTo(TestGuests.BOOT_CODE);
        assertThat(readRange(copy, 0, 1 << 20)).as("the first MiB").isEqualTo(readRange(guest.image(), 0, 1 << 20));
        // each ext4: its checker is happy, and every file is what went in (read by debugfs, not by jv2v)
        checkExt4(copy, TestGuests.DEBIAN_BOOT[0], TestGuests.DEBIAN_BOOT[1], guest.trees().get("/boot"));
        checkExt4(copy, TestGuests.DEBIAN_SRV[0], TestGuests.DEBIAN_SRV[1], guest.trees().get("/srv"));
        checkExt4(copy, TestGuests.DEBIAN_ROOT_START, size / 512 - TestGuests.DEBIAN_ROOT_START,
                guest.trees().get("/"));
        // the extended partition's boot record, and the swap header
        assertThat(readRange(copy, TestGuests.DEBIAN_EXTENDED[0] * 512, 512))
                .isEqualTo(readRange(guest.image(), TestGuests.DEBIAN_EXTENDED[0] * 512, 512));
        Path swap = extract(copy, TestGuests.DEBIAN_SWAP[0] * 512, TestGuests.DEBIAN_SWAP[1] * 512, "swap");
        assertThat(Tools.run("blkid", "-p", "-o", "value", "-s", "UUID", swap.toString()).stdout().strip())
                .isEqualTo(TestGuests.DEBIAN_SWAP_UUID);
    }

    @Test
    void rockyCopiedWithoutUnusedAreasIsIntact() throws Exception {
        Tools.require("xfs_repair", "fsck.fat");
        TestGuests.Guest guest = TestGuests.rocky();
        Path copy = copySkipping(guest, "most of two nearly empty XFS filesystems", 400L << 20);
        try (FileDevice d = FileDevice.open(copy)) {
            var scan = Volumes.scan(List.of(d));
            for (String name : List.of("/dev/sda2", "/dev/rl/root")) {
                Volume v = scan.volume(name).orElseThrow();
                Path fsImage = extractVolume(v.device(), name.replace('/', '_'));
                Run.Result r = Run.run(List.of("xfs_repair", "-n", "-f", fsImage.toString()), dir, Map.of(), 300);
                assertThat(r.exitCode()).as("xfs_repair -n " + name + ":\n" + r.all()).isZero();
            }
            assertThat(filesOf(scan.volume("/dev/rl/root").orElseThrow().device()))
                    .containsAllEntriesOf(guest.trees().get("/").files());
            assertThat(filesOf(scan.volume("/dev/sda2").orElseThrow().device()))
                    .containsAllEntriesOf(guest.trees().get("/boot").files());
            Path esp = extractVolume(scan.volume("/dev/sda1").orElseThrow().device(), "esp");
            Run.Result r = Run.run(List.of("fsck.fat", "-n", esp.toString()), dir, Map.of(), 120);
            assertThat(r.exitCode()).as("fsck.fat -n:\n" + r.all()).isZero();
        }
    }

    @Test
    void fedoraOnBtrfsCopiedWithoutUnusedAreasIsIntact() throws Exception {
        Tools.require("btrfs");
        TestGuests.Guest guest = TestGuests.fedora();
        Path part = copiedBtrfs(guest, TestGuests.FEDORA_ROOT_START, 100L << 20, "btrfs");
        assertRestored(part, List.of(), "restored", "/", guest.trees().get("/"));
    }

    @Test
    void btrfsSubvolumesCopiedWithoutUnusedAreasAreIntact() throws Exception {
        Tools.require("btrfs");
        TestGuests.Guest guest = BtrfsGuests.opensuse();
        Path part = copiedBtrfs(guest, BtrfsGuests.START, 60L << 20, "suse");
        Map<String, Long> ids = Map.of("/", BtrfsGuests.SUSE_ROOT_ID, "/home", BtrfsGuests.SUSE_HOME_ID,
                "/var", BtrfsGuests.SUSE_VAR_ID);
        for (Map.Entry<String, Long> e : ids.entrySet()) {
            assertRestored(part, List.of("-r", e.getValue().toString()), "restored-" + e.getValue(), e.getKey(),
                    guest.trees().get(e.getKey()));
        }
    }

    /**
     * Copies the guest without its unused areas (asserting that at least {@code minUnused} bytes were
     * skipped) and returns the copy's btrfs partition, from {@code startSector} to the end of the
     * disk, after btrfs check has passed it.
     */
    private Path copiedBtrfs(TestGuests.Guest guest, long startSector, long minUnused, String name) throws Exception {
        Path copy = copySkipping(guest, "most of a nearly empty btrfs", minUnused);
        long size = Files.size(guest.image());
        Path part = extract(copy, startSector * 512, size - startSector * 512, name);
        Run.Result check = Run.run(List.of("btrfs", "check", "--readonly", part.toString()), dir, Map.of(), 120);
        assertThat(check.exitCode()).as("btrfs check --readonly:\n" + check.all()).isZero();
        return part;
    }

    /**
     * Reads a btrfs (the subvolume that {@code options} name, if any) back by btrfs-progs (btrfs
     * restore), not by jv2v, and checks it holds every file of {@code tree} with the same bytes.
     */
    private void assertRestored(Path part, List<String> options, String outName, String mountPoint, GuestTree tree)
            throws Exception {
        Path out = Files.createDirectories(dir.resolve(outName));
        List<String> cmd = new ArrayList<>(List.of("btrfs", "restore", "-i"));
        cmd.addAll(options);
        cmd.addAll(List.of(part.toString(), out.toString()));
        Run.Result r = Run.run(cmd, dir, Map.of(), 120);
        assertThat(r.exitCode()).as(String.join(" ", cmd) + ":\n" + r.all()).isZero();
        for (Map.Entry<String, byte[]> f : tree.files().entrySet()) {
            assertThat(Files.readAllBytes(out.resolve(f.getKey()))).as(mountPoint + " " + f.getKey())
                    .isEqualTo(f.getValue());
        }
    }

    @Test
    void windowsCopiedWithoutUnusedAreasIsIntact() throws Exception {
        Tools.require("ntfscat", "ntfsfix");
        TestGuests.Guest guest = TestGuests.windows();
        Path copy = copySkipping(guest, "most of two nearly empty NTFS volumes", 20L << 20);
        long size = Files.size(guest.image());
        Path c = extract(copy, TestGuests.WIN_C_START * 512, size - TestGuests.WIN_C_START * 512, "c");
        Path sysres = extract(copy, TestGuests.WIN_SYSRES[0] * 512, TestGuests.WIN_SYSRES[1] * 512, "sysres");
        for (Path part : List.of(c, sysres)) {
            Run.Result r = Run.run(List.of("ntfsfix", "-n", part.toString()), dir, Map.of(), 120);
            assertThat(r.exitCode()).as("ntfsfix -n:\n" + r.all()).isZero();
        }
        // read back by ntfs-3g's ntfscat, not by jv2v
        checkNtfs(c, guest.trees().get("/"));
        checkNtfs(sysres, guest.trees().get("/sysres"));
    }

    private void checkNtfs(Path part, GuestTree tree) throws Exception {
        for (Map.Entry<String, byte[]> f : tree.files().entrySet()) {
            Path out = dir.resolve("ntfscat.out");
            Run.Result r = Run.run(List.of("sh", "-c", "ntfscat \"$0\" \"$1\" > \"$2\"", part.toString(), "/" + f.getKey(),
                    out.toString()), dir, Map.of(), 60);
            assertThat(r.exitCode()).as("ntfscat " + f.getKey() + ": " + r.all()).isZero();
            assertThat(Files.readAllBytes(out)).as(f.getKey()).isEqualTo(f.getValue());
        }
    }

    /**
     * A 128 MiB disk full of old random data (as a used thick disk is) holding 6 MiB of files,
     * converted by the pipeline: about the data's size is read and written, every byte the map
     * skipped is zero in the copy although the source holds old data there, and the copy is whole.
     */
    @Test
    void thickDiskWithLittleDataCopiesAboutTheDataSize() throws Exception {
        Tools.require("sfdisk", "mkfs.ext4", "e2fsck");
        Path image = Files.createDirectories(dir.resolve("src")).resolve("thick.img");
        long size = 128L << 20;
        Random rnd = new Random(5);
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            byte[] junk = new byte[1 << 20];
            for (long at = 0; at < size; at += junk.length) {
                rnd.nextBytes(junk);
                ch.write(ByteBuffer.wrap(junk), at);
            }
        }
        Run.Result t = Run.run(List.of("sh", "-c", "printf 'label: dos\\nstart=2048, type=83\\n' | sfdisk -q "
                + image), dir, Map.of(), 60);
        assertThat(t.exitCode()).as(t.all()).isZero();
        GuestTree data = new GuestTree();
        long dataBytes = 0;
        for (int i = 0; i < 6; i++) {
            byte[] b = new byte[1 << 20];
            rnd.nextBytes(b);
            data.file("data/f" + i, b);
            dataBytes += b.length;
        }
        Path tree = dir.resolve("tree");
        data.writeTo(tree);
        // no discard: the old data stays under the free blocks, as on a real disk
        Run.Result m = Run.run(List.of("mkfs.ext4", "-q", "-F", "-N", "256", "-J", "size=4", "-E",
                "offset=1048576,nodiscard", "-d", tree.toString(), image.toString(), ((size >> 10) - 1024) + "k"), dir,
                Map.of(), 60);
        assertThat(m.exitCode()).as(m.all()).isZero();
        Copied c = copySkipping(image);
        Matcher report = COPY_REPORT.matcher(c.log());
        assertThat(report.find()).isTrue();
        long read = (long) (Double.parseDouble(report.group(1)) * 1048576);
        long written = (long) (Double.parseDouble(report.group(2)) * 1048576);
        System.out.printf("thick 128 MiB disk, %d MiB of files: %.1f MiB read, %.1f MiB written (map: %.1f MiB "
                + "unused)%n", dataBytes >> 20, read / 1048576.0, written / 1048576.0, c.map().unusedBytes() / 1048576.0);
        assertThat(Double.parseDouble(report.group(4))).as("a thick disk: every unused byte of the map skipped")
                .isCloseTo(c.map().unusedBytes() / 1048576.0, org.assertj.core.data.Offset.offset(0.1));
        assertThat(read).as("data plus metadata and journal: about the data's size").isBetween(dataBytes,
                dataBytes + (8L << 20));
        assertThat(written).isBetween(dataBytes, read);
        for (ByteRange r : c.map().unused()) {
            for (long at = r.offset(); at < r.end(); at += 1 << 20) {
                int n = (int) Math.min(1 << 20, r.end() - at);
                assertThat(Arrays.equals(readRange(c.image(), at, n), new byte[n]))
                        .as("the skipped bytes at " + at + " are zeros in the copy").isTrue();
                assertThat(Arrays.equals(readRange(image, at, n), new byte[n])).as("the source's old data at " + at)
                        .isFalse();
            }
        }
        checkExt4(c.image(), 2048, size / 512 - 2048, data);
    }

    @Test
    void aJournalWaitingForReplayKeepsItsFilesystemWhole() throws Exception {
        Tools.require("mkfs.ext4", "debugfs");
        Path image = dir.resolve("dirty.img");
        Path tree = dir.resolve("tree");
        new GuestTree().file("a", "a\n").writeTo(tree);
        Run.Result m = Run.run(List.of("mkfs.ext4", "-q", "-F", "-d", tree.toString(), image.toString(), "16M"), dir,
                Map.of(), 60);
        assertThat(m.exitCode()).as(m.all()).isZero();
        UnusedAreas.DiskMap clean = map(image);
        assertThat(clean.unusedBytes()).isGreaterThan(8L << 20);
        Run.Result f = Run.run(List.of("debugfs", "-w", "-R", "feature needs_recovery", image.toString()), dir,
                Map.of(), 60);
        assertThat(f.exitCode()).as(f.all()).isZero();
        assertThat(map(image).unusedBytes()).as("nothing of a filesystem whose journal must be replayed").isZero();
    }

    @Test
    void rangeArithmetic() {
        List<ByteRange> a = List.of(new ByteRange(0, 10), new ByteRange(20, 10));
        List<ByteRange> b = List.of(new ByteRange(5, 20), new ByteRange(28, 1));
        assertThat(UnusedAreas.subtract(a, b)).containsExactly(new ByteRange(0, 5), new ByteRange(25, 3),
                new ByteRange(29, 1));
        assertThat(UnusedAreas.merge(List.of(new ByteRange(10, 5), new ByteRange(0, 10), new ByteRange(30, 0))))
                .containsExactly(new ByteRange(0, 15));
        assertThat(UnusedAreas.complement(List.of(new ByteRange(2, 3)), 10)).containsExactly(new ByteRange(0, 2),
                new ByteRange(5, 5));
        UnusedAreas.DiskMap m = new UnusedAreas.DiskMap("/dev/sda", 100, List.of(new ByteRange(10, 10),
                new ByteRange(50, 5)));
        assertThat(m.isUnused(10, 10)).isTrue();
        assertThat(m.isUnused(12, 9)).isFalse();
        assertThat(m.isUnused(50, 5)).isTrue();
        assertThat(m.isUnused(0, 1)).isFalse();
        assertThat(m.unusedBytes()).isEqualTo(15);
    }

    // ---- helpers ----

    private static UnusedAreas.DiskMap map(Path image) throws IOException {
        try (FileDevice d = FileDevice.open(image)) {
            Inspection in = Inspector.inspect(List.of(d), InspectOptions.defaults());
            return UnusedAreas.compute(in).getFirst();
        }
    }

    /** A pipeline copy: the target image, the map inspection made, and what the copy stage said. */
    record Copied(Path image, UnusedAreas.DiskMap map, String log) {}

    /** The guest's disk copied without its unused areas, of which more than {@code minUnused} bytes ({@code what}). */
    private Path copySkipping(TestGuests.Guest guest, String what, long minUnused) throws IOException {
        Copied copied = copySkipping(guest.image());
        assertThat(copied.map().unusedBytes()).as(what).isGreaterThan(minUnused);
        return copied.image();
    }

    /**
     * The whole conversion pipeline ({@code jv2v -i disk SOURCE -o local}) with the disk engine it
     * finds (org.jv2v.copy): inspection maps the unused areas, the copier skips them. The source is
     * checked untouched, the copy stage's report is checked to say it skipped what the map says.
     */
    Copied copySkipping(Path source) throws IOException {
        Map<String, String> before = Checksums.of(source.getParent());
        Path out = Files.createDirectories(dir.resolve("out"));
        // --no-convert: the synthetic guests' kernels are stand-ins, which the conversion would refuse
        Jv2vRun.Result r = Jv2vRun.ok("-i", "disk", source.toString(), "-o", "local", "-os", out.toString(),
                "--no-convert");
        assertThat(Checksums.of(source.getParent())).as("source untouched").isEqualTo(before);
        assertThat(r.stdout()).contains("Mapping filesystem data to avoid copying unused and blank areas");
        String name = source.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        UnusedAreas.DiskMap map = map(source);
        Matcher m = COPY_REPORT.matcher(r.stdout());
        assertThat(m.find()).as("the copy stage's report:\n" + r.stdout()).isTrue();
        // the map's ranges that lie in holes of a sparse source count as blank, not as unused
        assertThat(Double.parseDouble(m.group(4))).as("MiB skipped as unused: some, and no more than mapped")
                .isPositive().isLessThanOrEqualTo(map.unusedBytes() / 1048576.0 + 0.1);
        return new Copied(out.resolve(name + "-sda"), map, r.stdout());
    }

    /** "R MiB read, W MiB written of S MiB (U MiB of stale data in unused areas, not read; Z MiB blank, not written)". */
    static final Pattern COPY_REPORT = Pattern.compile("([0-9.]+) MiB read, ([0-9.]+) MiB written of ([0-9.]+) MiB "
            + "\\(([0-9.]+) MiB of stale data in unused areas, not read; ([0-9.]+) MiB blank, not written\\)");

    private void checkExt4(Path disk, long startSector, long sectors, GuestTree tree) throws Exception {
        Path part = extract(disk, startSector * 512, sectors * 512, "part" + startSector);
        Run.Result fsck = Run.run(List.of("e2fsck", "-fn", part.toString()), dir, Map.of(), 120);
        assertThat(fsck.exitCode()).as("e2fsck -fn:\n" + fsck.all()).isZero();
        Path out = dir.resolve("rdump" + startSector);
        Files.createDirectories(out);
        Run.Result d = Run.run(List.of("debugfs", "-R", "rdump / " + out, part.toString()), dir, Map.of(), 120);
        assertThat(d.exitCode()).as(d.all()).isZero();
        for (Map.Entry<String, byte[]> f : tree.files().entrySet()) {
            assertThat(Files.readAllBytes(out.resolve(f.getKey()))).as(f.getKey()).isEqualTo(f.getValue());
        }
    }

    private Path extract(Path disk, long offset, long length, String name) throws IOException {
        Path out = dir.resolve(name + ".img");
        Files.write(out, readRange(disk, offset, length));
        return out;
    }

    /** A logical volume's bytes, gathered from where Volumes.place says they lie. */
    private Path extractVolume(BlockDevice dev, String name) throws IOException {
        Path out = dir.resolve(name + ".img");
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            for (long at = 0; at < dev.size(); at += buf.capacity()) {
                buf.clear().limit((int) Math.min(buf.capacity(), dev.size() - at));
                dev.read(buf, at);
                ch.write(buf.flip(), at);
            }
        }
        return out;
    }

    private static Map<String, byte[]> filesOf(BlockDevice dev) throws IOException {
        Map<String, byte[]> out = new java.util.TreeMap<>();
        try (FileSystem fs = FileSystems.open(dev).orElseThrow()) {
            walk(fs, "", out);
        }
        return out;
    }

    private static void walk(FileSystem fs, String dir, Map<String, byte[]> out) throws IOException {
        for (var e : fs.list(dir.isEmpty() ? "/" : dir)) {
            String p = dir + "/" + e.name();
            switch (e.kind()) {
                case DIRECTORY -> walk(fs, p, out);
                case REGULAR -> out.put(p.substring(1), fs.readAll(p, 64 << 20));
                default -> { }
            }
        }
    }

    static byte[] readRange(Path file, long offset, long length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate((int) length);
            while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
                // keep reading
            }
            return b.array();
        }
    }
}
