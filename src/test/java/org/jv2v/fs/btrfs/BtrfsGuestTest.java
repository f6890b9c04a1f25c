package org.jv2v.fs.btrfs;

import org.jv2v.BadInputException;
import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.SourceTree;
import org.jv2v.image.BlockDevice;
import org.jv2v.testing.FileBytes;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What only the kernel makes: one guestfish session (the libguestfs appliance, about a minute
 * under TCG) builds a btrfs with subvolumes @ (set as default), @home, @/nested and a snapshot
 * @snap, files compressed with zstd, zlib and LZO (regular and inline extents), symlinks, device
 * nodes, a FIFO, xattrs, nanosecond times, a sparse file and a preallocated one; three
 * multi-device filesystems (RAID0 data with RAID1 metadata on two disks, RAID10 on four, RAID5
 * data made by mkfs.btrfs on three); and a GPT disk with FAT and btrfs partitions.
 * Everything is compared with what went in and with btrfs restore; btrfs check judges the
 * used-block map.
 */
class BtrfsGuestTest {
    @TempDir
    static Path tmp;
    static Path src;
    static Path img;
    static Path[] raid0;
    static Path[] raid10;
    static Path[] raid5;
    static Path parts;
    static String gfOut;
    static String dump;

    static final String INLINE_TEXT = "small inline content\n";

    @BeforeAll
    static void build() throws Exception {
        Tools.require("guestfish", "btrfs", "mknod");
        src = tmp.resolve("src");
        Random rnd = new Random(5);
        String[] words = new String[400];
        for (int i = 0; i < words.length; i++) {
            StringBuilder w = new StringBuilder();
            for (int k = 2 + rnd.nextInt(8); k > 0; k--) {
                w.append((char) ('a' + rnd.nextInt(16)));
            }
            words[i] = w.toString();
        }
        for (String algo : List.of("zstd", "zlib", "lzo")) {
            Path d = Files.createDirectories(src.resolve(algo));
            Files.write(d.resolve("big.txt"), text(rnd, words, 1_000_000 + rnd.nextInt(5000)));
            Files.write(d.resolve("small.txt"), text(rnd, words, 3000));
            Files.write(d.resolve("tiny.txt"), text(rnd, words, 700));
            Files.write(d.resolve("random.bin"), SourceTree.bytes(rnd, 200_000));
            byte[] mixed = concat(text(rnd, words, 50_000), SourceTree.bytes(rnd, 10_000), text(rnd, words, 70_001));
            Files.write(d.resolve("mixed.bin"), mixed);
            Files.setAttribute(d.resolve("small.txt"), "unix:uid", 1234);
            Files.setAttribute(d.resolve("small.txt"), "unix:gid", 5678);
            Files.setAttribute(d.resolve("tiny.txt"), "unix:mode", 0600);
            Files.setLastModifiedTime(d.resolve("tiny.txt"), FileTime.from(Instant.parse("2001-09-09T01:46:40Z")));
        }
        img = sparse("main.img", 300);
        raid0 = new Path[] {sparse("r0a.img", 300), sparse("r0b.img", 300)};
        raid10 = new Path[] {sparse("r10a.img", 300), sparse("r10b.img", 300), sparse("r10c.img", 300),
                sparse("r10d.img", 300)};
        raid5 = new Path[] {sparse("r5a.img", 300), sparse("r5b.img", 300), sparse("r5c.img", 300)};
        // libguestfs's mkfs-btrfs refuses raid5: mkfs.btrfs makes it here, the kernel fills it
        Run.checked(List.of("mkfs.btrfs", "-q", "-f", "-d", "raid5", "-m", "raid1", "-L", "parity",
                raid5[0].toString(), raid5[1].toString(), raid5[2].toString()));
        String s = src.toString();
        String script = String.join("\n",
                "run",
                "mkfs-btrfs /dev/sda label:guestvol",
                "mount /dev/sda /",
                "btrfs-subvolume-create /@",
                "btrfs-subvolume-create /@home",
                "btrfs-subvolume-create /@/nested",
                "btrfs-subvolume-set-default 256 /",
                "mkdir /@/zstd",
                "setxattr btrfs.compression zstd 4 /@/zstd",
                "mkdir /@home/zlib",
                "setxattr btrfs.compression zlib 4 /@home/zlib",
                "mkdir /@/nested/lzo",
                "setxattr btrfs.compression lzo 3 /@/nested/lzo",
                "copy-in " + s + "/zstd /@/",
                "copy-in " + s + "/zlib /@home/",
                "copy-in " + s + "/lzo /@/nested/",
                "write /@/inline.txt \"small inline content\\n\"",
                "ln-s inline.txt /@/rel-link",
                "ln-s /etc/fstab /@/abs-link",
                "mknod-c 0644 4 5 /@/dev-c",
                "mknod-b 0600 259 300000 /@/dev-b",
                "mkfifo 0640 /@/fifo",
                "touch /@/sparse",
                "truncate-size /@/sparse 10485760",
                "pwrite /@/sparse \"middle data\" 5000000",
                "fallocate64 /@/prealloc 1048576",
                "setxattr user.comment greeting 8 /@/inline.txt",
                "setxattr security.selinux system_u:object_r:etc_t:s0 26 /@/inline.txt",
                "chown 1000 1001 /@home/zlib",
                "chmod 0750 /@home/zlib",
                "utimens /@/inline.txt 1000000000 123456789 1234567890 987654321",
                "btrfs-subvolume-snapshot /@ /@snap",
                "echo ==SUBVOLS==",
                "btrfs-subvolume-list /",
                "echo ==DEFAULT==",
                "btrfs-subvolume-get-default /",
                "echo ==END==",
                "umount /",
                "mkfs-btrfs \"/dev/sdb /dev/sdc\" datatype:raid0 metadata:raid1 label:stripes",
                "mount /dev/sdb /",
                "copy-in " + s + "/zstd /",
                "umount /",
                "mkfs-btrfs \"/dev/sdd /dev/sde /dev/sdf /dev/sdg\" datatype:raid10 metadata:raid10 label:mirrors",
                "mount /dev/sdd /",
                "copy-in " + s + "/zstd /",
                "umount /",
                // no device= options: they are passed to the kernel untranslated, and the appliance may
                // name its disks in another order than guestfish's; udev has registered all three
                "mount /dev/sdi /",
                "copy-in " + s + "/zstd /",
                "umount /",
                "echo ==IDS==",
                "vfs-type /dev/sdh1", "vfs-label /dev/sdh1", "vfs-uuid /dev/sdh1",
                "vfs-type /dev/sdh2", "vfs-label /dev/sdh2", "vfs-uuid /dev/sdh2",
                "vfs-type /dev/sdh3", "vfs-label /dev/sdh3", "vfs-uuid /dev/sdh3",
                "vfs-type /dev/sda", "vfs-label /dev/sda", "vfs-uuid /dev/sda",
                "echo ==IDSEND==",
                "");
        parts = partitionedDisk();
        List<Path> disks = new ArrayList<>(List.of(img));
        disks.addAll(List.of(raid0));
        disks.addAll(List.of(raid10));
        disks.add(parts);
        disks.addAll(List.of(raid5));
        gfOut = BtrfsTools.guestfish(script, disks.toArray(Path[]::new));
        dump = BtrfsTools.dumpTree(img);
    }

    /**
     * A GPT disk as a guest has it: an EFI system partition (FAT32, made by mkfs.fat, filled by
     * mcopy), a btrfs made by mkfs.btrfs --rootdir, and a FAT16 data partition. Each filesystem is
     * made in its own file and copied to its partition's offset (the host kernel has no loop
     * partitions to mkfs on).
     */
    private static Path partitionedDisk() throws Exception {
        Tools.require("sgdisk", "mkfs.fat", "mcopy", "mkfs.btrfs");
        Path disk = sparse("parts.img", 240);
        Run.checked(List.of("sgdisk", "-n", "1:2048:+40M", "-t", "1:ef00", "-n", "2:0:+170M", "-t", "2:8300",
                "-n", "3:0:+20M", "-t", "3:0700", disk.toString()));
        Path esp = tmp.resolve("esp.img");
        Run.checked(List.of("mkfs.fat", "-F", "32", "-s", "1", "-n", "ESP VOL", "-i", "1A2B3C4D", "-C",
                esp.toString(), Integer.toString(40 * 1024)));
        Path efi = Files.createDirectories(tmp.resolve("esp/EFI/debian"));
        Files.write(efi.resolve("grubx64.efi"), SourceTree.bytes(new Random(8), 300_000));
        Run.Result r = Run.run(List.of("mcopy", "-s", "-i", esp.toString(), tmp.resolve("esp/EFI").toString(), "::/"),
                null, Map.of("MTOOLS_SKIP_CHECK", "1"), 60);
        assertThat(r.exitCode()).as("mcopy: %s", r.stderr()).isZero();
        Path data = tmp.resolve("data.img");
        Run.checked(List.of("mkfs.fat", "-F", "16", "-n", "DATA16", "-C", data.toString(), Integer.toString(20 * 1024)));
        Path root = Files.createDirectories(tmp.resolve("partroot/etc"));
        Files.writeString(root.resolve("hostname"), "btrfs-guest\n");
        Path btrfs = BtrfsTools.mkfs(tmp.resolve("part-btrfs.img"), 170, tmp.resolve("partroot"), "-L", "root fs");
        long sector = 2048;
        for (Path p : List.of(esp, btrfs, data)) {
            Run.checked(List.of("dd", "if=" + p, "of=" + disk, "bs=512", "seek=" + sector, "conv=notrunc,sparse",
                    "status=none"));
            sector += Files.size(p) / 512;
        }
        return disk;
    }

    private static Path sparse(String name, int mib) throws Exception {
        Path p = tmp.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength((long) mib << 20);
        }
        return p;
    }

    private static byte[] text(Random rnd, String[] words, int n) {
        StringBuilder b = new StringBuilder(n + 16);
        while (b.length() < n) {
            b.append(words[rnd.nextInt(words.length)]).append(rnd.nextInt(9) == 0 ? '\n' : ' ');
        }
        return b.substring(0, n).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    /** The fixture really holds what the tests claim to cover (btrfs dump-tree as the witness). */
    @Test
    void fixtureHasEveryExtentKind() {
        for (String algo : List.of("1 \\(zlib\\)", "2 \\(lzo\\)", "3 \\(zstd\\)")) {
            assertThat(dump).as("regular extents compressed with %s", algo)
                    .containsPattern("extent compression " + algo);
            assertThat(dump).as("inline extents compressed with %s", algo)
                    .containsPattern("inline extent data size \\d+ ram_bytes \\d+ compression " + algo);
        }
        assertThat(dump).contains("type 2 (prealloc)");
        assertThat(dump).containsPattern("inline extent data size \\d+ ram_bytes \\d+ compression 0 \\(none\\)");
    }

    @Test
    void subvolumesAsGuestfishListsThem() throws Exception {
        String list = gfOut.substring(gfOut.indexOf("==SUBVOLS=="), gfOut.indexOf("==DEFAULT=="));
        Matcher m = Pattern.compile("btrfssubvolume_id: (\\d+)\\s+btrfssubvolume_top_level_id: (\\d+)\\s+"
                + "btrfssubvolume_path: (\\S+)").matcher(list);
        List<BtrfsFileSystem.Subvolume> expected = new ArrayList<>();
        while (m.find()) {
            expected.add(new BtrfsFileSystem.Subvolume(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
                    m.group(3), false, java.util.Optional.empty()));
        }
        assertThat(expected).hasSize(4);
        long def = Long.parseLong(gfOut.substring(gfOut.indexOf("==DEFAULT==") + 11, gfOut.indexOf("==END==")).trim());
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            assertThat(fs.subvolumes()).extracting(x -> x.id() + " " + x.parentId() + " " + x.path())
                    .containsExactlyInAnyOrderElementsOf(expected.stream()
                            .map(x -> x.id() + " " + x.parentId() + " " + x.path()).toList());
            assertThat(fs.subvolumes()).allSatisfy(x -> assertThat(x.uuid()).isPresent());
            assertThat(fs.defaultSubvolumeId()).isEqualTo(def).isEqualTo(256);
            assertThat(fs.subvolumeId()).isEqualTo(256);
            assertThat(fs.label()).contains("guestvol");
        }
    }

    /** "/" is the default subvolume @; @/nested shows inside it; other subvolumes open by subvol= path or id. */
    @Test
    void subvolumesWhereTheyAreMounted() throws Exception {
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            assertThat(fs.list("/")).extracting(DirEntry::name).containsExactlyInAnyOrder("nested", "zstd",
                    "inline.txt", "rel-link", "abs-link", "dev-c", "dev-b", "fifo", "sparse", "prealloc");
            DirEntry nested = fs.list("/").stream().filter(e -> e.name().equals("nested")).findFirst().orElseThrow();
            assertThat(nested.kind()).isEqualTo(FileKind.DIRECTORY);
            assertThat(nested.inode()).isEqualTo(256);
            assertThat(fs.stat("/nested").inode()).isEqualTo(256);
            assertSameTree(src.resolve("lzo"), fs, "/nested/lzo");
            assertSameTree(src.resolve("zstd"), fs, "/zstd");

            BtrfsFileSystem home = fs.openSubvolume("@home");
            assertThat(home.subvolumeId()).isEqualTo(257);
            assertSameTree(src.resolve("zlib"), home, "/zlib");
            assertThat(fs.openSubvolume("/@home/").subvolumeId()).isEqualTo(257);
            assertThat(fs.openSubvolume(257).list("/zlib")).hasSize(5);

            BtrfsFileSystem top = fs.openSubvolume("/");
            assertThat(top.subvolumeId()).isEqualTo(5);
            assertThat(top.list("/")).extracting(DirEntry::name).containsExactlyInAnyOrder("@", "@home", "@snap");
            assertThat(top.readAll("/@/nested/lzo/tiny.txt", 1 << 20))
                    .isEqualTo(Files.readAllBytes(src.resolve("lzo/tiny.txt")));
            assertThat(fs.openSubvolume("@/nested").list("/")).extracting(DirEntry::name).containsExactly("lzo");

            assertThatThrownBy(() -> fs.openSubvolume("@nothing")).isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> fs.openSubvolume(4711)).isInstanceOf(NoSuchFileException.class);
        }
    }

    /** A snapshot keeps the entry of the nested subvolume, which reads as an empty directory, as on Linux. */
    @Test
    void snapshotShowsNestedSubvolumeAsEmptyDirectory() throws Exception {
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            BtrfsFileSystem snap = fs.openSubvolume("@snap");
            assertThat(snap.stat("/nested").kind()).isEqualTo(FileKind.DIRECTORY);
            assertThat(snap.list("/nested")).isEmpty();
            assertSameTree(src.resolve("zstd"), snap, "/zstd");
            assertThat(snap.readAll("/inline.txt", 100)).isEqualTo(INLINE_TEXT.getBytes());
        }
    }

    @Test
    void whatGuestfishWrote() throws Exception {
        Path hostNodes = Files.createDirectories(tmp.resolve("nodes"));
        Run.checked(List.of("mknod", hostNodes.resolve("c").toString(), "c", "4", "5"));
        Run.checked(List.of("mknod", hostNodes.resolve("b").toString(), "b", "259", "300000"));
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            FileStat inline = fs.stat("/inline.txt");
            assertThat(fs.readAll("/inline.txt", 100)).isEqualTo(INLINE_TEXT.getBytes());
            assertThat(inline.atime()).isEqualTo(Instant.ofEpochSecond(1_000_000_000, 123_456_789));
            assertThat(inline.mtime()).isEqualTo(Instant.ofEpochSecond(1_234_567_890, 987_654_321));
            Map<String, byte[]> x = fs.xattrs("/inline.txt");
            assertThat(x.keySet()).containsExactlyInAnyOrder("user.comment", "security.selinux");
            assertThat(new String(x.get("user.comment"))).isEqualTo("greeting");
            assertThat(new String(x.get("security.selinux"))).isEqualTo("system_u:object_r:etc_t:s0");

            assertThat(fs.readlink("/rel-link")).isEqualTo("inline.txt");
            assertThat(fs.readlink("/abs-link")).isEqualTo("/etc/fstab");
            assertThat(fs.stat("/rel-link").kind()).isEqualTo(FileKind.SYMLINK);

            FileStat c = fs.stat("/dev-c");
            assertThat(c.kind()).isEqualTo(FileKind.CHAR_DEVICE);
            assertThat(c.mode()).isEqualTo(0644);
            assertThat(c.rdev()).isEqualTo(Files.getAttribute(hostNodes.resolve("c"), "unix:rdev"));
            FileStat b = fs.stat("/dev-b");
            assertThat(b.kind()).isEqualTo(FileKind.BLOCK_DEVICE);
            assertThat(b.mode()).isEqualTo(0600);
            assertThat(b.rdev()).isEqualTo(Files.getAttribute(hostNodes.resolve("b"), "unix:rdev"));
            assertThat(fs.stat("/fifo").kind()).isEqualTo(FileKind.FIFO);
            assertThat(fs.stat("/fifo").mode()).isEqualTo(0640);

            byte[] sparse = fs.readAll("/sparse", 20 << 20);
            byte[] want = new byte[10 << 20];
            System.arraycopy("middle data".getBytes(), 0, want, 5_000_000, 11);
            assertThat(sparse).isEqualTo(want);
            assertThat(fs.readAll("/prealloc", 2 << 20)).isEqualTo(new byte[1 << 20]);

            assertThat(fs.xattrs("/zstd/big.txt")).containsOnlyKeys("btrfs.compression");
            assertThat(new String(fs.xattrs("/zstd/big.txt").get("btrfs.compression"))).isEqualTo("zstd");

            BtrfsFileSystem home = fs.openSubvolume("@home");
            FileStat zlib = home.stat("/zlib");
            assertThat(zlib.uid()).isEqualTo(1000);
            assertThat(zlib.gid()).isEqualTo(1001);
            assertThat(zlib.mode()).isEqualTo(0750);
        }
    }

    /** btrfs restore, subvolume by subvolume, copies out what jv2v reads. */
    @Test
    void btrfsRestoreAgrees() throws Exception {
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            int files = 0;
            for (long id : List.of(256L, 257L, 258L)) {
                Path out = BtrfsTools.restore(img, id, tmp.resolve("restore-" + id));
                files += compareRestored(out, fs.openSubvolume(id));
            }
            assertThat(files).isGreaterThanOrEqualTo(18);
        }
    }

    private static int compareRestored(Path out, FileSystem fs) throws Exception {
        int files = 0;
        try (Stream<Path> s = Files.walk(out)) {
            for (Path p : (Iterable<Path>) s.filter(q -> !q.equals(out))::iterator) {
                String path = "/" + out.relativize(p);
                if (Files.isSymbolicLink(p)) {
                    assertThat(fs.readlink(path)).isEqualTo(Files.readSymbolicLink(p).toString());
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    files++;
                    FileStat st = fs.stat(path);
                    Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime",
                            LinkOption.NOFOLLOW_LINKS);
                    assertThat(st.mode()).as("mode of %s", path).isEqualTo((Integer) a.get("mode") & 07777);
                    assertThat(st.uid()).as("uid of %s", path).isEqualTo(a.get("uid"));
                    assertThat(st.gid()).as("gid of %s", path).isEqualTo(a.get("gid"));
                    assertThat(st.mtime()).as("mtime of %s", path)
                            .isEqualTo(((FileTime) a.get("lastModifiedTime")).toInstant());
                    assertThat(fs.readAll(path, 1 << 24)).as("content of %s", path).isEqualTo(Files.readAllBytes(p));
                }
            }
        }
        return files;
    }

    /** Zero what jv2v calls unused: btrfs check stays clean, btrfs restore and jv2v read everything as before. */
    @Test
    void zeroingUnusedRangesKeepsEveryFile() throws Exception {
        List<ByteRange> used;
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            assertThat(fs.hasLogTree()).isFalse();
            used = fs.usedRanges();
        }
        assertThat(used.stream().mapToLong(ByteRange::length).sum()).isLessThan(Files.size(img) / 2);
        BtrfsTools.check(img);
        Path zeroed = FileBytes.copyOnly(img, used, tmp.resolve("zeroed.img"));
        BtrfsTools.check(zeroed);
        try (FileDevice dev = FileDevice.open(zeroed); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            int files = 0;
            for (long id : List.of(256L, 257L, 258L)) {
                Path out = BtrfsTools.restore(zeroed, id, tmp.resolve("restore-zeroed-" + id));
                files += compareRestored(out, fs.openSubvolume(id));
            }
            assertThat(files).isGreaterThanOrEqualTo(18);
            assertSameTree(src.resolve("zstd"), fs, "/zstd");
            assertSameTree(src.resolve("lzo"), fs, "/nested/lzo");
            assertSameTree(src.resolve("zlib"), fs.openSubvolume("@home"), "/zlib");
            assertThat(fs.readAll("/inline.txt", 100)).isEqualTo(INLINE_TEXT.getBytes());
        }
    }

    /** RAID0 data striped over two disks (RAID1 metadata): every file reads whole; one disk alone cannot. */
    @Test
    void raid0OverTwoDevices() throws Exception {
        try (FileDevice a = FileDevice.open(raid0[0]); FileDevice b = FileDevice.open(raid0[1])) {
            BtrfsFormat.Member ma = BtrfsFormat.member(a);
            BtrfsFormat.Member mb = BtrfsFormat.member(b);
            assertThat(ma.fsid()).isEqualTo(mb.fsid()).isEqualTo(BtrfsTools.blkid(raid0[0]).get("UUID"));
            assertThat(List.of(ma.devId(), mb.devId())).containsExactlyInAnyOrder(1L, 2L);
            assertThat(ma.numDevices()).isEqualTo(2);
            try (BtrfsFileSystem fs = new BtrfsFormat().open(List.<BlockDevice>of(b, a))) {
                assertThat(fs.label()).contains("stripes");
                assertSameTree(src.resolve("zstd"), fs, "/zstd");
                for (BlockDevice d : List.of(a, b)) {
                    long used = fs.usedRanges(d).stream().mapToLong(ByteRange::length).sum();
                    assertThat(used).as("used on %s", d.describe()).isGreaterThan(1 << 20);
                }
            }
            try (BtrfsFileSystem fs = BtrfsFileSystem.open(a)) {
                assertThat(fs.list("/zstd")).hasSize(5); // metadata is mirrored: listing works
                assertThatThrownBy(() -> fs.readAll("/zstd/random.bin", 1 << 20))
                        .isInstanceOf(BadInputException.class).hasMessageContaining("which was not given");
            }
        }
    }

    /** RAID10 over four disks; with one missing, every stripe still has its mirror. */
    @Test
    void raid10OverFourDevices() throws Exception {
        List<FileDevice> devs = new ArrayList<>();
        try {
            for (Path p : raid10) {
                devs.add(FileDevice.open(p));
            }
            try (BtrfsFileSystem fs = BtrfsFileSystem.open(List.of(devs.get(2), devs.get(0), devs.get(3),
                    devs.get(1)))) {
                assertThat(fs.label()).contains("mirrors");
                assertSameTree(src.resolve("zstd"), fs, "/zstd");
            }
            try (BtrfsFileSystem fs = BtrfsFileSystem.open(List.of(devs.get(0), devs.get(1), devs.get(2)))) {
                assertSameTree(src.resolve("zstd"), fs, "/zstd");
            }
        } finally {
            for (FileDevice d : devs) {
                d.close();
            }
        }
    }

    /**
     * Inspection finds btrfs and FAT inside partitions through the FileSystems registry, and names
     * their type, label and UUID as libguestfs does (vfs-type, vfs-label, vfs-uuid: what
     * virt-inspector prints); the filesystems it opened read their files at the partitions' offsets.
     */
    @Test
    void inspectionProbesPartitionsAsLibguestfsNamesThem() throws Exception {
        String ids = gfOut.substring(gfOut.indexOf("==IDS==") + 8, gfOut.indexOf("==IDSEND=="));
        List<String> lines = ids.lines().toList();
        assertThat(lines).as("guestfish printed type, label and uuid of 4 filesystems").hasSize(12);
        List<String> seen = new ArrayList<>();
        try (FileDevice whole = FileDevice.open(img); FileDevice disk = FileDevice.open(parts)) {
            var inspection = org.jv2v.inspect.Inspector.inspect(List.of(disk, whole),
                    org.jv2v.inspect.InspectOptions.defaults());
            for (String dev : List.of("/dev/sda1", "/dev/sda2", "/dev/sda3", "/dev/sdb")) {
                var info = inspection.volume(dev).orElseThrow().info();
                seen.add(info.type());
                seen.add(info.label().orElse(""));
                seen.add(info.uuid().orElse(""));
            }
            assertThat(seen).containsExactlyElementsOf(lines);
            assertThat(seen).containsSubsequence("vfat", "ESP VOL", "1A2B-3C4D", "btrfs", "root fs", "vfat", "DATA16",
                    "btrfs", "guestvol");
            FileSystem esp = inspection.volume("/dev/sda1").orElseThrow().fs().orElseThrow();
            assertThat(esp.readAll("/EFI/debian/grubx64.efi", 1 << 20))
                    .isEqualTo(SourceTree.bytes(new Random(8), 300_000));
            FileSystem root = inspection.volume("/dev/sda2").orElseThrow().fs().orElseThrow();
            assertThat(root).isInstanceOf(BtrfsFileSystem.class);
            assertThat(root.readAll("/etc/hostname", 100)).isEqualTo("btrfs-guest\n".getBytes());
            assertThat(root.usedRanges().getLast().end()).as("used map within the partition")
                    .isLessThanOrEqualTo(170L << 20);
        }
    }

    /**
     * RAID5 data is refused with a clear error when read (metadata in RAID1 still lists); the
     * used-block map counts the RAID5 chunks whole on every device, never less.
     */
    @Test
    void raid5IsRefusedAndCountedWhole() throws Exception {
        List<FileDevice> devs = new ArrayList<>();
        try {
            for (Path p : raid5) {
                devs.add(FileDevice.open(p));
            }
            try (BtrfsFileSystem fs = BtrfsFileSystem.open(List.<BlockDevice>copyOf(devs))) {
                assertThat(fs.label()).contains("parity");
                assertThat(fs.list("/zstd")).hasSize(5);
                assertThatThrownBy(() -> fs.readAll("/zstd/random.bin", 1 << 20))
                        .isInstanceOf(BadInputException.class).hasMessageContaining("RAID5, which jv2v does not read");
                Volume v = Volume.open(List.<BlockDevice>copyOf(devs));
                List<ChunkMap.Chunk> parity = v.chunks.all().stream()
                        .filter(c -> (c.type() & ChunkMap.RAID5) != 0).toList();
                assertThat(parity).as("the fixture has RAID5 chunks").isNotEmpty();
                for (BlockDevice d : devs) {
                    long devId = BtrfsFormat.member(d).devId();
                    List<ByteRange> used = fs.usedRanges(d);
                    for (ChunkMap.Chunk c : parity) {
                        for (ChunkMap.Stripe st : c.stripes()) {
                            if (st.devId() == devId) {
                                long from = st.offset();
                                long to = st.offset() + c.stripeLength();
                                assertThat(used).as("stripe [%d, %d) of dev %d", from, to, devId)
                                        .anySatisfy(r -> assertThat(r.offset() <= from && r.end() >= to).isTrue());
                            }
                        }
                    }
                }
            }
        } finally {
            for (FileDevice d : devs) {
                d.close();
            }
        }
    }

    /** Damaged compressed data (data has no metadata checksum) is a clear error naming the extent. */
    @Test
    void damagedCompressedExtent() throws Exception {
        Path copy = tmp.resolve("damaged.img");
        BtrfsTools.copy(img, copy);
        long logical;
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            Volume v = Volume.open(List.of(dev));
            Volume.Root r = v.treeRoot(257);
            long ino = fs.openSubvolume("@home").stat("/zlib/big.txt").inode();
            Volume.Item it = v.find(r, new Key(ino, Key.EXTENT_DATA, 0));
            Items.FileExtent e = Items.FileExtent.read(it, "x");
            assertThat(e.compression()).isEqualTo(Decompress.ZLIB);
            logical = e.diskBytenr();
            try (RandomAccessFile f = new RandomAccessFile(copy.toFile(), "rw")) {
                for (ChunkMap.Copy c : v.chunks.copies(logical, 64)) {
                    f.seek(c.offset() + 10);
                    f.write(new byte[40]); // zeros in the middle of the deflate stream
                }
            }
        }
        try (FileDevice dev = FileDevice.open(copy); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            BtrfsFileSystem home = fs.openSubvolume("@home");
            assertThatThrownBy(() -> home.readAll("/zlib/big.txt", 2 << 20)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("file extent (").hasMessageContaining(" 108 0)")
                    .hasMessageContaining("zlib data is damaged");
            assertThat(home.readAll("/zlib/small.txt", 1 << 20))
                    .isEqualTo(Files.readAllBytes(src.resolve("zlib/small.txt")));
        }
    }

    /** Every file under {@code dir} matches {@code fs} at {@code at}: names, content, size, mode, owner, mtime. */
    static void assertSameTree(Path dir, FileSystem fs, String at) throws Exception {
        List<String> names;
        try (Stream<Path> s = Files.list(dir)) {
            names = s.map(p -> p.getFileName().toString()).toList();
        }
        assertThat(fs.list(at)).extracting(DirEntry::name).containsExactlyInAnyOrderElementsOf(names);
        for (String n : names) {
            Path p = dir.resolve(n);
            String path = at + "/" + n;
            FileStat st = fs.stat(path);
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime,size");
            assertThat(st.size()).as("size of %s", path).isEqualTo(a.get("size"));
            assertThat(st.mode()).as("mode of %s", path).isEqualTo((Integer) a.get("mode") & 07777);
            assertThat(st.uid()).as("uid of %s", path).isEqualTo(a.get("uid"));
            assertThat(st.gid()).as("gid of %s", path).isEqualTo(a.get("gid"));
            assertThat(st.mtime().getEpochSecond()).as("mtime of %s", path)
                    .isEqualTo(((FileTime) a.get("lastModifiedTime")).toInstant().getEpochSecond());
            assertThat(SourceTree.readInChunks(fs, path, 100_003)).as("content of %s", path)
                    .isEqualTo(Files.readAllBytes(p));
        }
    }
}
