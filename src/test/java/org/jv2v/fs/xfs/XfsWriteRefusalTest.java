package org.jv2v.fs.xfs;

import org.jv2v.Jv2vException;
import org.jv2v.fs.FileSystems;
import org.jv2v.fs.WritableFileSystem;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the XFS editor refuses, with a one-line message naming the image and without changing a
 * byte of it: a filesystem marked as needing repair, features it does not keep consistent, a
 * read-only device, blocks shared by reflink copies, attributes it cannot store, and an edit that
 * does not fit. (A log left dirty by the kernel: {@link XfsWriteKernelTest}.)
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class XfsWriteRefusalTest {
    @TempDir
    Path dir;

    private Path image(String... mkfsOptions) throws Exception {
        XfsTools.require();
        SourceTree t = new SourceTree(dir, 5);
        t.dir("/etc", 0755, 0, 0);
        t.file("/etc/hello", 0644, 0, 0, "hello\n".getBytes(StandardCharsets.UTF_8));
        return XfsTools.mkfs(dir, t, XfsTools.IMAGE_SIZE, List.of(mkfsOptions));
    }

    @FunctionalInterface
    interface EditOf {
        void apply(WritableFileSystem fs) throws Exception;
    }

    /** Opening (and, if given, the edit) fails with a message holding every fragment; the image is untouched. */
    private static void assertRefused(Path image, EditOf edit, String... fragments) throws Exception {
        String sum = Checksums.sha256(image);
        try (FileDevice dev = FileDevice.openWritable(image)) {
            var a = assertThatThrownBy(() -> {
                try (WritableFileSystem fs = FileSystems.probe(dev).orElseThrow().openWritable(dev)) {
                    if (edit != null) {
                        edit.apply(fs);
                    }
                }
            }).isInstanceOf(Jv2vException.class);
            for (String f : fragments) {
                a.hasMessageContaining(f);
            }
            assertThat(a.actual().getMessage()).doesNotContain("\n");
            if (edit == null) {
                assertThat(a.actual().getMessage()).startsWith(image.toString());
            }
        }
        assertThat(Checksums.sha256(image)).as("the image after a refusal").isEqualTo(sum);
    }

    @Test
    void needsRepairIsRefused() throws Exception {
        Path image = image();
        long incompat = Long.decode(XfsTools.field(XfsTools.db(image, "sb 0", "p features_incompat"),
                "features_incompat"));
        XfsTools.db(image, true, List.of("sb 0", "write features_incompat " + (incompat | 0x10)));
        assertRefused(image, null, "marked as needing repair", "xfs_repair");
    }

    @Test
    void reverseMappingIsRefused() throws Exception {
        Path image = image("-m", "rmapbt=1");
        assertRefused(image, null, "editing XFS with rmapbt is not supported");
    }

    @Test
    void readOnlyDeviceIsRefused() throws Exception {
        Path image = image();
        try (FileDevice dev = FileDevice.open(image)) {
            assertThatThrownBy(() -> new XfsFormat().openWritable(dev)).isInstanceOf(Jv2vException.class)
                    .hasMessageContaining("read-only");
        }
    }

    @Test
    void attributesItCannotStoreAreRefused() throws Exception {
        Path image = image();
        assertRefused(image, fs -> fs.create("/etc/acl", new byte[1], 0644, 0, 0,
                Map.of("system.posix_acl_access", new byte[28])), "system.posix_acl_access", "namespace");
        assertRefused(image, fs -> fs.create("/etc/long", new byte[1], 0644, 0, 0,
                Map.of("user.long", new byte[300])), "300-byte value");
        Path old = image("-m", "crc=0", "-i", "attr=1");
        assertRefused(old, fs -> fs.create("/etc/new", new byte[1], 0644, 0, 0,
                Map.of("security.selinux", "system_u:object_r:etc_t:s0".getBytes(StandardCharsets.UTF_8))),
                "v4 filesystem without attr2");
    }

    @Test
    void anEditThatDoesNotFitChangesNothing() throws Exception {
        Path image = image();
        assertRefused(image, fs -> fs.rewrite("/etc/hello", new byte[(int) (XfsTools.IMAGE_SIZE - (8 << 20))]),
                "no space left on the XFS filesystem");
    }

    @Test
    void filesSharingBlocksAreNotChanged() throws Exception {
        XfsMount.require();
        Path image = image();
        try (XfsMount m = XfsMount.readWrite(image, dir.resolve("mnt"))) {
            m.sh("head -c 100000 /dev/urandom > etc/original && cp --reflink=always etc/original etc/copy"
                    + " && echo alone > etc/alone && cp --reflink=always etc/alone etc/alone2 && rm etc/alone2");
        }
        XfsWriteChecks.repairClean(image);
        assertRefused(image, fs -> fs.rewrite("/etc/copy", new byte[5]), "shares blocks", "reflink");
        assertRefused(image, fs -> fs.unlink("/etc/original"), "shares blocks", "reflink");
        // the file whose copy is gone carries the reflink flag but shares nothing: it is edited
        try (FileDevice dev = FileDevice.openWritable(image); WritableFileSystem fs = new XfsFormat().openWritable(dev)) {
            fs.rewrite("/etc/alone", "changed\n".getBytes(StandardCharsets.UTF_8));
        }
        XfsWriteChecks.repairClean(image);
        try (XfsMount m = XfsMount.readOnly(image, dir.resolve("mnt"))) {
            assertThat(Files.readString(m.path("/etc/alone"))).isEqualTo("changed\n");
            assertThat(Files.readAllBytes(m.path("/etc/copy"))).isEqualTo(Files.readAllBytes(m.path("/etc/original")));
        }
    }

    @Test
    void externalLogAndRealtimeSectionAreRefused() throws Exception {
        Path log = dir.resolve("log.img");
        try (var f = new java.io.RandomAccessFile(log.toFile(), "rw")) {
            f.setLength(80L << 20);
        }
        Path image = image("-l", "logdev=" + log + ",size=64m");
        assertRefused(image, null, "keeps its log on another device");
        Path rt = dir.resolve("rt.img");
        try (var f = new java.io.RandomAccessFile(rt.toFile(), "rw")) {
            f.setLength(20L << 20);
        }
        image = image("-r", "rtdev=" + rt);
        assertRefused(image, null, "realtime section");
    }
}
