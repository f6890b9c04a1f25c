package org.jv2v.fs.xfs;

import org.jv2v.Jv2vException;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystems;
import org.jv2v.fs.WritableFileSystem;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The host's XFS driver is the oracle: a v5 filesystem (mkfs.xfs defaults) that the kernel first
 * wrote to (SELinux labels, a 40 MiB initramfs), edited by jv2v (the conversion's edits, the
 * initramfs rewritten at 60 MiB, a labelled new file), is mounted read-only without log recovery
 * and everything is read back through the kernel: contents, link targets, owners and modes,
 * labels, every directory's listing. Then the kernel writes into jv2v's directories and files,
 * jv2v edits on top of that, and xfs_repair and both readers agree again. A log the kernel left
 * dirty (a forced shutdown) is refused without a byte of the image changing.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class XfsWriteKernelTest {
    private static final byte[] ETC_LABEL = "system_u:object_r:etc_t:s0".getBytes(StandardCharsets.UTF_8);
    private static final byte[] BOOT_LABEL = "system_u:object_r:boot_t:s0".getBytes(StandardCharsets.UTF_8);
    private static final String BIG = "/boot/initramfs-big.img";

    @TempDir
    Path dir;

    @Test
    void theKernelReadsAndWritesWhatJv2vWrote() throws Exception {
        XfsTools.require();
        XfsMount.require();
        Path image = XfsTools.mkfs(dir, XfsEditScenario.tree(dir), XfsTools.IMAGE_SIZE, List.of());
        Random random = new Random(3);
        byte[] big = new byte[40 << 20];
        random.nextBytes(big);
        try (XfsMount m = XfsMount.readWrite(image, dir.resolve("mnt"))) {
            Files.write(m.path(BIG), big);
            // every inode labelled, as on an SELinux guest: each has an attribute fork, so directories
            // and block maps have less room in the inode
            m.sh("find . -exec setfattr -h -n security.selinux -v " + new String(ETC_LABEL, StandardCharsets.UTF_8)
                    + " {} + && setfattr -n security.selinux -v " + new String(BOOT_LABEL, StandardCharsets.UTF_8) + " ."
                    + BIG + " && setfattr -n user.note -v kept etc/hostname");
        }
        XfsWriteChecks.repairClean(image);

        XfsEditScenario s = new XfsEditScenario();
        byte[] bigger = new byte[60 << 20];
        random.nextBytes(bigger);
        byte[] labelled = "[main]\nplugins=keyfile\n".getBytes(StandardCharsets.UTF_8);
        List<Instant> bigTimes;
        try (FileDevice dev = FileDevice.openWritable(image);
             WritableFileSystem fs = FileSystems.probe(dev).orElseThrow().openWritable(dev)) {
            assertThat(fs).isInstanceOf(XfsWritableFileSystem.class);
            s.apply(fs);
            FileStat before = fs.stat(BIG);
            fs.rewrite(BIG, bigger);
            FileStat after = fs.stat(BIG);
            assertThat(List.of(after.inode(), after.mode(), after.uid(), after.gid(), after.links()))
                    .isEqualTo(List.of(before.inode(), before.mode(), before.uid(), before.gid(), before.links()));
            assertThat(List.of(after.atime(), after.mtime(), after.ctime()))
                    .as("timestamps of a rewritten file").isEqualTo(List.of(before.atime(), before.mtime(), before.ctime()));
            bigTimes = List.of(before.mtime(), before.ctime());
            fs.create("/etc/labelled.conf", labelled, 0644, 0, 0, Map.of("security.selinux", ETC_LABEL));
            assertThat(fs.xattrs("/etc/labelled.conf")).containsOnlyKeys("security.selinux");
            assertThat(fs.xattrs("/etc/labelled.conf").get("security.selinux")).isEqualTo(ETC_LABEL);
        }
        XfsWriteChecks.repairClean(image);
        XfsWriteChecks.readBack(image, s);
        XfsWriteChecks.dbAgrees(image, s);
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            assertThat(fs.readAll(BIG, 64 << 20)).isEqualTo(bigger);
            assertThat(fs.xattrs("/etc/fstab").get("security.selinux")).isEqualTo(ETC_LABEL);
            assertThat(fs.xattrs(BIG).get("security.selinux")).isEqualTo(BOOT_LABEL);
        }

        // the kernel reads every edited path, label and directory
        try (XfsMount m = XfsMount.readOnly(image, dir.resolve("mnt"))) {
            kernelSees(m, s);
            assertThat(Files.readAllBytes(m.path(BIG))).isEqualTo(bigger);
            assertThat(Files.getLastModifiedTime(m.path(BIG)).toInstant()).isEqualTo(bigTimes.get(0));
            assertThat(Files.getAttribute(m.path(BIG), "unix:ctime")).isEqualTo(FileTime.from(bigTimes.get(1)));
            assertThat(Files.readAllBytes(m.path("/etc/labelled.conf"))).isEqualTo(labelled);
            assertThat(m.xattr("/etc/labelled.conf", "security.selinux")).isEqualTo(new String(ETC_LABEL));
            assertThat(m.xattr("/etc/fstab", "security.selinux")).isEqualTo(new String(ETC_LABEL));
            assertThat(m.xattr(BIG, "security.selinux")).isEqualTo(new String(BOOT_LABEL));
            assertThat(m.xattr("/etc/hostname", "user.note")).isEqualTo("kept");
            sameListings(m, image, s.created.keySet());
            // the labels of everything that was there before the edits are intact
            for (String d : s.created.keySet()) {
                if (!s.expect.containsKey(d)) {
                    assertThat(m.xattr(d, "security.selinux")).as(d).isEqualTo(new String(ETC_LABEL));
                }
            }
            for (String f : s.rewritten) {
                assertThat(m.xattr(f, "security.selinux")).as(f).isEqualTo(new String(ETC_LABEL));
            }
        }

        // the kernel writes into what jv2v wrote: names added to and removed from every form of
        // directory jv2v changed, a rewritten file appended to, a new file removed
        try (XfsMount m = XfsMount.readWrite(image, dir.resolve("mnt"))) {
            m.sh("for d in short block leaf node; do for i in $(seq 1 150); do echo k$i > forms/$d/kernel-$i; done;"
                    + " rm -f forms/$d/new-y1 forms/$d/new-yy2; mkdir forms/$d/kdir; done;"
                    + " echo appended >> etc/fstab; rm etc/conf8.conf; ln -s /dev/null etc/klink; sync");
        }
        XfsWriteChecks.repairClean(image);
        try (FileDevice dev = FileDevice.openWritable(image); XfsWritableFileSystem fs = XfsWritableFileSystem.open(dev)) {
            assertThat(new String(fs.readAll("/etc/fstab", 4096), StandardCharsets.UTF_8)).endsWith("appended\n");
            assertThat(fs.readlink("/etc/klink")).isEqualTo("/dev/null");
            for (String d : XfsEditScenario.FORMS) {
                assertThat(fs.readAll("/forms/" + d + "/kernel-77", 100)).isEqualTo("k77\n".getBytes());
                fs.unlink("/forms/" + d + "/kernel-5");
                fs.create("/forms/" + d + "/after-the-kernel", "again".getBytes(), 0640, 7, 8);
                fs.rewrite("/forms/" + d + "/kernel-6", new byte[10_000]);
            }
            fs.rewrite(BIG, big); // and back to 40 MiB
        }
        XfsWriteChecks.repairClean(image);
        try (XfsMount m = XfsMount.readOnly(image, dir.resolve("mnt"))) {
            List<String> dirs = Stream.of(XfsEditScenario.FORMS).map(d -> "/forms/" + d).toList();
            sameListings(m, image, dirs);
            for (String d : dirs) {
                assertThat(Files.exists(m.path(d + "/kernel-5"), LinkOption.NOFOLLOW_LINKS)).isFalse();
                assertThat(Files.readAllBytes(m.path(d + "/after-the-kernel"))).isEqualTo("again".getBytes());
                assertThat(Files.getAttribute(m.path(d + "/after-the-kernel"), "unix:uid")).isEqualTo(7);
                assertThat(Files.readAllBytes(m.path(d + "/kernel-6"))).isEqualTo(new byte[10_000]);
                assertThat(Files.readAllBytes(m.path(d + "/kernel-150"))).isEqualTo("k150\n".getBytes());
            }
            assertThat(Files.readAllBytes(m.path(BIG))).isEqualTo(big);
            assertThat(m.xattr(BIG, "security.selinux")).isEqualTo(new String(BOOT_LABEL));
        }
    }

    /** Every path the scenario touched, as the kernel sees it. */
    private static void kernelSees(XfsMount m, XfsEditScenario s) throws Exception {
        for (var x : s.expect.entrySet()) {
            Path p = m.path(x.getKey());
            XfsEditScenario.Expect e = x.getValue();
            if (e == null) {
                assertThat(Files.exists(p, LinkOption.NOFOLLOW_LINKS)).as(x.getKey()).isFalse();
                continue;
            }
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            assertThat(mode & 07777).as(x.getKey()).isEqualTo(e.mode());
            assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).as(x.getKey()).isEqualTo(e.uid());
            assertThat(Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS)).as(x.getKey()).isEqualTo(e.gid());
            switch (e.kind()) {
                case REGULAR -> assertThat(Files.readAllBytes(p)).as(x.getKey()).isEqualTo(e.content());
                case SYMLINK -> assertThat(Files.readSymbolicLink(p).toString()).as(x.getKey()).isEqualTo(e.target());
                case DIRECTORY -> assertThat(Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).as(x.getKey()).isTrue();
                default -> throw new AssertionError(e.kind());
            }
        }
    }

    /** The kernel's listing of each directory is exactly jv2v's reader's, and every name resolves. */
    private static void sameListings(XfsMount m, Path image, Iterable<String> dirs) throws Exception {
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            for (String d : dirs) {
                Set<String> ours = new TreeSet<>();
                for (DirEntry e : fs.list(d)) {
                    ours.add(e.name());
                }
                ours.remove(".");
                ours.remove("..");
                Set<String> kernel;
                try (Stream<Path> l = Files.list(m.path(d))) {
                    kernel = l.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
                }
                assertThat(kernel).as("the kernel's listing of " + d).isEqualTo(ours);
                for (String n : kernel) {
                    assertThat(Files.exists(m.path(d + "/" + n), LinkOption.NOFOLLOW_LINKS)).as(d + "/" + n).isTrue();
                }
            }
        }
    }

    @Test
    void aLogTheKernelLeftDirtyIsRefused() throws Exception {
        XfsTools.require();
        XfsMount.require();
        SourceTree t = new SourceTree(dir, 5);
        t.file("/hello", 0644, 0, 0, "hello\n".getBytes());
        Path image = XfsTools.mkfs(dir, t, XfsTools.IMAGE_SIZE, List.of());
        try (XfsMount m = XfsMount.readWrite(image, dir.resolve("mnt"))) {
            m.sh("echo written > before && sync && echo more > in-the-log && mkdir d"
                    + " && xfs_io -x -c shutdown " + m.dir); // the log is not flushed: a crash
        }
        assertThat(XfsTools.logprint(image).clean()).as("xfs_logprint's verdict").isFalse();
        String sum = Checksums.sha256(image);
        try (FileDevice dev = FileDevice.openWritable(image)) {
            var refused = assertThatThrownBy(() -> FileSystems.probe(dev).orElseThrow().openWritable(dev))
                    .isInstanceOf(Jv2vException.class)
                    .hasMessageContaining("was not shut down cleanly")
                    .hasMessageContaining("shut it down cleanly");
            assertThat(refused.actual().getMessage()).startsWith(image.toString()).doesNotContain("\n");
        }
        assertThat(Checksums.sha256(image)).isEqualTo(sum);
    }
}
