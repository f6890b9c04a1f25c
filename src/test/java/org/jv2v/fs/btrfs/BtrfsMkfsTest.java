package org.jv2v.fs.btrfs;

import org.jv2v.fs.ByteRange;
import org.jv2v.fs.FileSystems;
import org.jv2v.fs.SourceTree;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileBytes;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * btrfs images made by {@code mkfs.btrfs --rootdir} from a host tree, one per checksum type
 * (crc32c, xxhash, sha256, blake2) and with small and large nodes, SINGLE and DUP metadata. Every
 * file must read back as it went in; btrfs restore, btrfs check and blkid are the second opinions.
 * The btrfs-progs of Debian 12 (6.2) has neither mkfs.btrfs --compress nor --subvol, so compressed
 * extents, subvolumes and the default subvolume come from the kernel instead (BtrfsGuestTest).
 */
class BtrfsMkfsTest {
    @TempDir
    static Path tmp;
    static Path src;
    private static final Map<String, Path> IMAGES = new HashMap<>();

    /** Checksum type, then the other mkfs options of that image. */
    private static final Map<String, List<String>> VARIANTS = Map.of(
            "crc32c", List.of("-L", "crc label"),
            "xxhash", List.of("-n", "4096", "-L", "small nodes"),
            "sha256", List.of("-m", "single", "-L", "single"),
            "blake2", List.of("-m", "dup", "-n", "65536"));

    @BeforeAll
    static void build() throws Exception {
        Tools.require("mkfs.btrfs", "btrfs", "blkid");
        src = tmp.resolve("src");
        BtrfsSourceTree.build(src, 11, 600);
        for (var v : VARIANTS.entrySet()) {
            List<String> opts = new java.util.ArrayList<>(List.of("--csum", v.getKey()));
            opts.addAll(v.getValue());
            IMAGES.put(v.getKey(), BtrfsTools.mkfs(tmp.resolve(v.getKey() + ".img"), 160, src,
                    opts.toArray(String[]::new)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"crc32c", "xxhash", "sha256", "blake2"})
    void everyFileReadsBackAsItWentIn(String csum) throws Exception {
        Path img = IMAGES.get(csum);
        String before = Checksums.sha256(img);
        try (FileDevice dev = FileDevice.open(img)) {
            assertThat(FileSystems.probe(dev)).get().extracting(f -> f.name()).isEqualTo("btrfs");
            try (BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
                assertThat(fs.checksumType().name().toLowerCase()).isEqualTo(csum);
                assertThat(fs.subvolumeId()).isEqualTo(5);
                assertThat(fs.subvolumes()).isEmpty();
                BtrfsSourceTree.assertSame(src, fs, "", false);
                // a symlink in the middle of a path is followed, the last one is not
                assertThat(fs.readAll("/dir-link/a", 100)).isEqualTo("tiny".getBytes());
                assertThat(fs.stat("/abs-link").isSymlink()).isTrue();
                assertThat(fs.stat("/d0/d1/../../small/a").size()).isEqualTo(4);
            }
        }
        assertThat(Checksums.sha256(img)).as("the image is never written").isEqualTo(before);
    }

    @ParameterizedTest
    @ValueSource(strings = {"crc32c", "xxhash", "sha256", "blake2"})
    void labelAndUuidAsBlkidPrintsThem(String csum) throws Exception {
        Path img = IMAGES.get(csum);
        Map<String, String> blkid = BtrfsTools.blkid(img);
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            assertThat(fs.uuid()).contains(blkid.get("UUID"));
            assertThat(fs.deviceUuid()).isEqualTo(blkid.get("UUID_SUB"));
            if (blkid.containsKey("LABEL")) {
                assertThat(fs.label()).contains(blkid.get("LABEL"));
            } else {
                assertThat(fs.label()).isEmpty();
            }
        }
    }

    /**
     * btrfstune -m changes the fsid but leaves the tree blocks stamped with the old one, kept as
     * metadata_uuid (incompat METADATA_UUID): blkid shows the new fsid, the trees still read.
     */
    @Test
    void changedFsidWithMetadataUuid() throws Exception {
        Tools.require("btrfstune");
        Path img = tmp.resolve("tuned.img");
        BtrfsTools.copy(IMAGES.get("crc32c"), img);
        Run.checked(List.of("btrfstune", "-m", img.toString()));
        Map<String, String> blkid = BtrfsTools.blkid(img);
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev);
             FileDevice old = FileDevice.open(IMAGES.get("crc32c")); BtrfsFileSystem before = BtrfsFileSystem.open(old)) {
            assertThat(fs.uuid()).contains(blkid.get("UUID")).isNotEqualTo(before.uuid());
            BtrfsSourceTree.assertSame(src, fs, "", false);
        }
    }

    /** The 4 KiB-node image has a multi-level FS tree, so the walks go through interior nodes. */
    @Test
    void smallNodesMakeADeepTree() throws Exception {
        String dump = Run.checked(List.of("btrfs", "inspect-internal", "dump-tree", "-t", "5",
                IMAGES.get("xxhash").toString())).stdout();
        assertThat(dump).containsPattern("node \\d+ level [12]");
    }

    /** btrfs restore (btrfs-progs' own reader) copies out the same content, modes, owners and times. */
    @Test
    void btrfsRestoreAgrees() throws Exception {
        Path img = IMAGES.get("crc32c");
        Path out = BtrfsTools.restore(img, 0, tmp.resolve("restored"));
        int files = 0;
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            for (Path p : SourceTree.walk(out)) {
                String path = "/" + out.relativize(p);
                var st = fs.stat(path);
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime",
                        LinkOption.NOFOLLOW_LINKS);
                if (Files.isSymbolicLink(p)) {
                    assertThat(fs.readlink(path)).isEqualTo(Files.readSymbolicLink(p).toString());
                    continue;
                }
                assertThat(st.mode()).as("mode of %s", path).isEqualTo((Integer) a.get("mode") & 07777);
                assertThat(st.uid()).as("uid of %s", path).isEqualTo(a.get("uid"));
                assertThat(st.gid()).as("gid of %s", path).isEqualTo(a.get("gid"));
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    files++;
                    assertThat(st.mtime()).as("mtime of %s", path)
                            .isEqualTo(((FileTime) a.get("lastModifiedTime")).toInstant());
                    assertThat(fs.readAll(path, 1 << 24)).as("content of %s", path).isEqualTo(Files.readAllBytes(p));
                }
            }
        }
        assertThat(files).isGreaterThan(600);
    }

    /**
     * Zero every range jv2v calls unused in a copy: btrfs check stays clean, and both btrfs restore
     * and jv2v read every file as it went in.
     */
    @ParameterizedTest
    @ValueSource(strings = {"crc32c", "xxhash"})
    void zeroingUnusedRangesKeepsEveryFile(String csum) throws Exception {
        Path img = IMAGES.get(csum);
        List<ByteRange> used;
        try (FileDevice dev = FileDevice.open(img); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            used = fs.usedRanges();
            var space = fs.space();
            assertThat(space.totalBytes()).isEqualTo(Files.size(img));
            assertThat(space.freeBytes()).isBetween(space.totalBytes() / 2, space.totalBytes());
        }
        for (int i = 1; i < used.size(); i++) {
            assertThat(used.get(i).offset()).as("sorted and merged").isGreaterThan(used.get(i - 1).end());
        }
        long usedBytes = used.stream().mapToLong(ByteRange::length).sum();
        assertThat(usedBytes).as("most of the image is unused, so zeroing proves something")
                .isLessThan(Files.size(img) / 2);
        BtrfsTools.check(img);
        Path zeroed = FileBytes.copyOnly(img, used, tmp.resolve("zeroed-" + csum + ".img"));
        BtrfsTools.check(zeroed);
        Path out = BtrfsTools.restore(zeroed, 0, tmp.resolve("restored-zeroed-" + csum));
        for (Path p : SourceTree.walk(src)) {
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                assertThat(Files.readAllBytes(out.resolve(src.relativize(p).toString())))
                        .as("btrfs restore reads %s from the zeroed copy", p).isEqualTo(Files.readAllBytes(p));
            }
        }
        try (FileDevice dev = FileDevice.open(zeroed); BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
            BtrfsSourceTree.assertSame(src, fs, "", false);
        }
    }
}
