package org.jv2v.image.qcow2;

import org.jv2v.BadInputException;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Broken and malicious images, made by patching images qemu-img made: each is refused with one
 * line naming the file, the field and its offset, without allocating from the bad value, without
 * opening files outside the image's folder, and without changing any file.
 */
class Qcow2MaliciousTest {
    @TempDir
    Path dir;

    @BeforeEach
    void tools() {
        Tools.require("qemu-img", "qemu-io");
    }

    /** A small image with data, a zero cluster and holes. */
    private Path image(String name, String... options) throws Exception {
        Path img = dir.resolve(name);
        String[] args = new String[options.length + 6];
        args[0] = "create";
        args[1] = "-q";
        args[2] = "-f";
        args[3] = "qcow2";
        System.arraycopy(options, 0, args, 4, options.length);
        args[args.length - 2] = img.toString();
        args[args.length - 1] = "2M";
        Qemu.img(args);
        Qemu.io(img, "write -P 0x5a 0 128k", "write -z 512k 64k", "write -P 0x5b 1M 64k");
        return img;
    }

    private Path compressed(String name, String type) throws Exception {
        Path src = dir.resolve(name + ".src");
        Files.write(src, Qemu.mixed(7, 1 << 20));
        Path img = dir.resolve(name);
        Qemu.img("convert", "-c", "-O", "qcow2", "-o", "compression_type=" + type, src.toString(), img.toString());
        Files.delete(src);
        return img;
    }

    /** Opening and reading all of {@code img} fails with one line holding every fragment. */
    private String refused(Path img, String... fragments) throws IOException {
        Map<String, String> before = Checksums.of(dir);
        BadInputException e = catchThrowableOfType(BadInputException.class, () -> {
            try (OpenedImage o = Images.open(img, OpenContext.of(PathGuard.folderOf(img)))) {
                Qemu.status(o.device());
                ByteBuffer buf = ByteBuffer.allocate(1 << 20);
                for (long off = 0; off < o.device().size(); off += buf.capacity()) {
                    buf.clear().limit((int) Math.min(buf.capacity(), o.device().size() - off));
                    o.device().read(buf, off);
                }
            }
        });
        assertThat(e).as("refused").isNotNull();
        assertThat(e.getMessage()).doesNotContain("\n").contains(fragments);
        assertThat(Checksums.of(dir)).as("no file changed").isEqualTo(before);
        return e.getMessage();
    }

    @Test
    void l1EntryPastTheEnd() throws Exception {
        Path img = image("l1.qcow2");
        long l1 = Patch.u64(img, 0x28);
        Patch.u64(img, l1, Geometry.COPIED | 0x7fff_0000L);
        refused(img, img.toString(), "L1 entry 0", "offset 0x" + Long.toHexString(l1), "past the end of the file");
    }

    @Test
    void l1SizeFarBeyondTheCap() throws Exception {
        Path img = image("l1size.qcow2");
        Patch.u32(img, 0x24, 0xffff_ffffL);
        refused(img, img.toString(), "l1_size at offset 0x24", "4294967295 entries is more than");
    }

    @Test
    void l1TooSmallForAHugeVirtualSize() throws Exception {
        Path img = image("huge.qcow2");
        Patch.u64(img, 0x18, 1L << 40); // 1 TiB needs 2048 L1 entries; the table has 1
        refused(img, img.toString(), "l1_size at offset 0x24", "cannot map the virtual size 1099511627776");
    }

    @Test
    void virtualSizeBeyondWhatQcow2Maps() throws Exception {
        Path img = image("size.qcow2");
        Patch.u64(img, 0x18, -1L);
        refused(img, img.toString(), "size at offset 0x18");
    }

    @Test
    void clusterBitsOutOfRange() throws Exception {
        Path img = image("cb.qcow2");
        Patch.u32(img, 0x14, 30);
        refused(img, img.toString(), "cluster_bits at offset 0x14", "30 is outside 9..21");
        Patch.u32(img, 0x14, 8);
        refused(img, "cluster_bits at offset 0x14");
    }

    @Test
    void headerLengthNonsense() throws Exception {
        Path img = image("hl.qcow2");
        Patch.u32(img, 0x64, 0xffff_fff8L);
        refused(img, img.toString(), "header_length at offset 0x64");
    }

    @Test
    void unsupportedVersion() throws Exception {
        Path img = image("ver.qcow2");
        Patch.u32(img, 0x04, 4);
        refused(img, img.toString(), "version at offset 0x4", "qcow version 4 is not supported");
        assertThat(Images.probe(img).name()).isEqualTo("qcow2"); // claimed, so it is refused rather than read as raw
    }

    @Test
    void snapshotCountNonsense() throws Exception {
        Path img = image("snap.qcow2");
        Patch.u32(img, 0x3c, 0xffff_ffffL);
        refused(img, img.toString(), "nb_snapshots at offset 0x3c");
    }

    @Test
    void headerExtensionRunningOutOfTheCluster() throws Exception {
        Path img = image("ext.qcow2");
        long at = Patch.findExtension(img, HeaderExtensions.FEATURE_TABLE);
        assertThat(at).isPositive();
        Patch.u32(img, at + 4, 0x7fff_0000L);
        refused(img, img.toString(), "header extension 0x6803f857 length at offset 0x" + Long.toHexString(at + 4));
    }

    @Test
    void unknownIncompatibleFeature() throws Exception {
        Path img = image("feature.qcow2");
        Patch.u64(img, 0x48, 1L << 5);
        refused(img, img.toString(), "incompatible_features at offset 0x48", "unknown feature bit 5");
    }

    @Test
    void compressionTypeWithoutItsFeatureBit() throws Exception {
        Path img = compressed("ctype.qcow2", "zstd");
        Patch.u64(img, 0x48, 0);
        refused(img, img.toString(), "compression_type at offset 0x68");
    }

    @Test
    void backingFileNameTooLong() throws Exception {
        Path base = image("base.qcow2");
        Path img = image("top.qcow2", "-b", base.getFileName().toString(), "-F", "qcow2");
        Patch.u32(img, 0x10, 5000);
        refused(img, img.toString(), "backing_file_size at offset 0x10");
    }

    @Test
    void backingFileLoop() throws Exception {
        Path a = image("a.qcow2");
        Path b = image("b.qcow2", "-b", "a.qcow2", "-F", "qcow2");
        Qemu.img("rebase", "-u", "-b", "b.qcow2", "-F", "qcow2", a.toString());
        refused(b, "backing file loop");
        Path self = image("self.qcow2");
        Qemu.img("rebase", "-u", "-b", "self.qcow2", "-F", "qcow2", self.toString());
        refused(self, self.toString(), "backing file loop");
    }

    @Test
    void backingFileOutsideTheFolder() throws Exception {
        Path img = image("escape.qcow2");
        Qemu.img("rebase", "-u", "-b", "../../../../../../etc/shadow", "-F", "raw", img.toString());
        String msg = refused(img, img.toString(), "backing file name", "offset 0x", "outside the allowed folders");
        assertThat(msg).contains("../../../../../../etc/shadow");
    }

    @Test
    void missingBackingFile() throws Exception {
        Path img = image("orphan.qcow2");
        Qemu.img("rebase", "-u", "-b", "gone.qcow2", "-F", "qcow2", img.toString());
        refused(img, img.toString(), "backing file name at offset 0x", "'gone.qcow2' does not exist");
    }

    @Test
    void truncatedFiles() throws Exception {
        Path img = image("trunc.qcow2");
        long size = Files.size(img);
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.truncate(size - 64 * 1024); // loses the last data cluster
        }
        refused(img, img.toString(), "L2 table entry 16 at offset 0x", "data cluster at 0x", "past the end of the file");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.truncate(50);
        }
        refused(img, img.toString(), "too short for a qcow2 header");
    }

    @Test
    void misalignedDataCluster() throws Exception {
        Path img = image("align.qcow2");
        long l2 = Patch.firstL2(img);
        Patch.u64(img, l2, Patch.u64(img, l2) + 512);
        refused(img, img.toString(), "L2 table entry 0 at offset 0x" + Long.toHexString(l2), "not aligned");
    }

    @Test
    void compressedClusterRunningPastTheEnd() throws Exception {
        Path img = compressed("clen.qcow2", "zlib");
        long l2 = Patch.firstL2(img);
        long entry = Patch.u64(img, l2);
        assertThat(entry & Geometry.COMPRESSED).isNotZero();
        Geometry geo = new Geometry(16, 1 << 20, false);
        // the last compressed cluster, claiming the largest length the descriptor allows
        long last = l2 + 8L * 15;
        long e = Patch.u64(img, last);
        long off = geo.compressedOffset(e);
        Patch.u64(img, last, Geometry.COMPRESSED | (((1L << 8) - 1) << geo.compressedShift()) | off);
        refused(img, img.toString(), "L2 table entry 15 at offset 0x" + Long.toHexString(last),
                "compressed cluster at 0x" + Long.toHexString(off), "runs past the end of the file");
    }

    @Test
    void corruptDeflateAndZstdStreams() throws Exception {
        for (String type : new String[] {"zlib", "zstd"}) {
            Path img = compressed("bad-" + type + ".qcow2", type);
            long l2 = Patch.firstL2(img);
            long off = new Geometry(16, 1 << 20, false).compressedOffset(Patch.u64(img, l2 + 8));
            Patch.bytes(img, off, Qemu.filled(0xff, 64));
            refused(img, img.toString(), "compressed cluster of guest offset 0x10000 at offset 0x"
                    + Long.toHexString(off), type.equals("zlib") ? "deflate" : "zstd");
        }
    }

    @Test
    void subclusterBothAllocatedAndZero() throws Exception {
        Path img = image("sub.qcow2", "-o", "extended_l2=on");
        long l2 = Patch.firstL2(img);
        Patch.u64(img, l2 + 8, 0x0000_0001_0000_0001L);
        refused(img, img.toString(), "L2 table entry 0 at offset 0x" + Long.toHexString(l2 + 8),
                "both allocated and zero");
    }

    /**
     * Random damage to the metadata of a real image (header, extensions, L1 and L2 tables): opening
     * and reading it either works or fails with a clear error, never with another exception, a hang
     * or an allocation sized from the damage.
     */
    @Test
    void randomDamageGivesCleanErrorsOnly() throws Exception {
        Path good = compressed("fuzz-base.qcow2", "zlib");
        Qemu.io(good, "write -P 0x21 200k 64k", "write -z 300k 128k");
        byte[] original = Files.readAllBytes(good);
        long l1 = Patch.u64(good, 0x28);
        long l2 = Patch.firstL2(good);
        java.util.Random rnd = new java.util.Random(Long.getLong("fuzz.seed", 2024));
        Path img = dir.resolve("fuzz.qcow2");
        int refused = 0;
        for (int round = 0; round < Integer.getInteger("fuzz.rounds", 300); round++) {
            byte[] b = original.clone();
            for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                long at = switch (rnd.nextInt(4)) {
                    case 0 -> rnd.nextInt(0x70); // header fields
                    case 1 -> 0x70 + rnd.nextInt(0x200); // extensions
                    case 2 -> l1 + rnd.nextInt(16);
                    default -> l2 + rnd.nextInt(8 * 40);
                };
                b[(int) at] = (byte) (rnd.nextBoolean() ? rnd.nextInt(256) : b[(int) at] ^ (1 << rnd.nextInt(8)));
            }
            Files.write(img, b);
            try (OpenedImage o = Images.open(img, OpenContext.of(PathGuard.folderOf(img)))) {
                long size = Math.min(o.device().size(), 4 << 20); // a damaged size may be huge
                ByteBuffer buf = ByteBuffer.allocate(1 << 20);
                for (long off = 0; off < size; off += buf.capacity()) {
                    buf.clear().limit((int) Math.min(buf.capacity(), size - off));
                    o.device().read(buf, off);
                }
                for (long off = 0; off < size; ) {
                    off = o.device().blockStatus(off, size - off).getLast().end();
                }
            } catch (BadInputException e) {
                assertThat(e.getMessage()).doesNotContain("\n").contains(img.toString());
                refused++;
            } catch (IOException e) {
                assertThat(e.getMessage()).contains(img.getFileName().toString());
                refused++;
            }
        }
        assertThat(refused).as("most damage is noticed").isGreaterThan(50);
    }

    @Test
    void encryptedImagesAreRefused() throws Exception {
        Path img = dir.resolve("aes.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "--object", "secret,id=s0,data=jv2v-test",
                "-o", "encrypt.format=aes,encrypt.key-secret=s0", img.toString(), "1M");
        refused(img, img.toString(), "crypt_method at offset 0x20", "encrypted images (AES) are not supported");
        // qemu-img takes seconds to make a LUKS image; its header says crypt_method 2
        Path luks = image("luks.qcow2");
        Patch.u32(luks, 0x20, 2);
        refused(luks, luks.toString(), "crypt_method at offset 0x20", "encrypted images (LUKS) are not supported");
    }

    @Test
    void externalDataFilesAreRefused() throws Exception {
        Path img = dir.resolve("datafile.qcow2");
        Qemu.img("create", "-q", "-f", "qcow2", "-o", "data_file=" + dir.resolve("data.raw"), img.toString(), "1M");
        refused(img, img.toString(), "incompatible_features at offset 0x48", "external data file");
    }
}
