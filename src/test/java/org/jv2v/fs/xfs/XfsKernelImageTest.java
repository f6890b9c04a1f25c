package org.jv2v.fs.xfs;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.jv2v.BadInputException;
import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.testing.FileBytes;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Filesystems written by the Linux kernel (in libguestfs's appliance, one boot for four disks):
 * holes, unwritten (preallocated) extents, files fragmented into B+tree block maps, a directory
 * with deletions, xattrs in every form with real values, remote symlinks with their v5 headers,
 * timestamps before 1970 and after 2038, and a log left dirty by a forced shutdown.
 */
class XfsKernelImageTest {
    private static final String LONG_TARGET = "/" + "abcdefghi/".repeat(100) + "end";

    /** What one path must read back as. Null fields are not checked. */
    record Expect(FileKind kind, Integer mode, Integer uid, Integer gid, byte[] content, String target,
                  Map<String, byte[]> xattrs, Set<String> xattrNames, Instant atime, Instant mtime, Long links) {
        static Expect of(FileKind kind) {
            return new Expect(kind, null, null, null, null, null, Map.of(), null, null, null, null);
        }

        Expect content(byte[] c) {
            return new Expect(kind, mode, uid, gid, c, target, xattrs, xattrNames, atime, mtime, links);
        }

        Expect owner(int m, int u, int g) {
            return new Expect(kind, m, u, g, content, target, xattrs, xattrNames, atime, mtime, links);
        }

        Expect target(String t) {
            return new Expect(kind, mode, uid, gid, content, t, xattrs, xattrNames, atime, mtime, links);
        }

        Expect xattrs(Map<String, byte[]> x) {
            return new Expect(kind, mode, uid, gid, content, target, x, xattrNames, atime, mtime, links);
        }

        Expect xattrNames(Set<String> names) {
            return new Expect(kind, mode, uid, gid, content, target, null, names, atime, mtime, links);
        }

        Expect times(Instant a, Instant m) {
            return new Expect(kind, mode, uid, gid, content, target, xattrs, xattrNames, a, m, links);
        }

        Expect links(long n) {
            return new Expect(kind, mode, uid, gid, content, target, xattrs, xattrNames, atime, mtime, n);
        }
    }

    /** One disk: its mkfs options, block size and the tree the appliance builds on it. */
    static final class Disk {
        final String name;
        final int blockSize;
        final boolean v4;
        final Map<String, Expect> expect = new TreeMap<>();
        final StringBuilder script = new StringBuilder("set -e\ncd /sysroot\n");
        final StringBuilder attrDump = new StringBuilder();
        Path image;

        Disk(String name, int blockSize, boolean v4) {
            this.name = name;
            this.blockSize = blockSize;
            this.v4 = v4;
        }

        void sh(String line) {
            script.append(line).append('\n');
        }
    }

    @Test
    void readsWhatTheKernelWrote(@TempDir Path dir) throws Exception {
        XfsTools.require();
        Tools.require("guestfish");
        Random random = new Random(11);
        Disk a = new Disk("a", 4096, false);
        Disk b = new Disk("b", 1024, true);
        Disk c = new Disk("c", 1024, false);
        List<Disk> clean = List.of(a, b, c);
        for (Disk d : clean) {
            d.image = dir.resolve(d.name + ".img");
            Files.createFile(d.image);
            try (var f = new java.io.RandomAccessFile(d.image.toFile(), "rw")) {
                f.setLength(XfsTools.IMAGE_SIZE);
            }
            List<String> mkfs = new ArrayList<>(List.of("mkfs.xfs", "-q", "-K", "-b", "size=" + d.blockSize));
            if (d.v4) {
                mkfs.addAll(List.of("-m", "crc=0"));
            }
            mkfs.add(d.image.toString());
            XfsTools.run(mkfs);
            build(d, dir, random);
        }
        Path dirty = dir.resolve("d.img");
        try (var f = new java.io.RandomAccessFile(dirty.toFile(), "rw")) {
            f.setLength(XfsTools.IMAGE_SIZE);
        }
        XfsTools.run(List.of("mkfs.xfs", "-q", "-K", dirty.toString()));

        StringBuilder gf = new StringBuilder("run\n");
        String[] devices = {"/dev/sda", "/dev/sdb", "/dev/sdc"};
        for (int i = 0; i < clean.size(); i++) {
            Disk d = clean.get(i);
            gf.append("mount ").append(devices[i]).append(" /\n");
            gf.append("tar-in ").append(dir.resolve(d.name + ".tar")).append(" /\n");
            gf.append("debug-upload ").append(Files.writeString(dir.resolve(d.name + ".sh"), d.script))
                    .append(" /tmp/").append(d.name).append(".sh 0755\n");
            gf.append("debug-upload ").append(Files.writeString(dir.resolve(d.name + ".attrs"), d.attrDump))
                    .append(" /tmp/").append(d.name).append(".attrs 0644\n");
            gf.append("debug sh \"sh /tmp/").append(d.name).append(".sh 2>&1\"\n");
            gf.append("acl-set-file /data/f5 access \"u::rw-,g::r--,o::---,u:1000:rwx,m::rwx\"\n");
            if (d.v4) {
                gf.append("utimens /data/f0 -2147483648 0 2147483646 999999999\n");
            } else {
                gf.append("utimens /data/f0 -2000000000 5 4102444800 999999999\n");
            }
            gf.append("umount /\n");
        }
        gf.append("mount /dev/sdd /\nwrite /dirty \"not yet written back\"\nsync\n");
        gf.append("debug sh \"xfs_io -x -c 'shutdown -f' /sysroot/dirty\"\n");
        Path gfScript = Files.writeString(dir.resolve("guestfish.script"), gf);
        List<String> cmd = new ArrayList<>(List.of("guestfish", "--rw"));
        for (Disk d : clean) {
            cmd.addAll(List.of("-a", d.image.toString()));
        }
        cmd.addAll(List.of("-a", dirty.toString(), "-f", gfScript.toString()));
        Run.Result r = Run.run(cmd, dir, Map.of("LIBGUESTFS_BACKEND", "direct",
                "LIBGUESTFS_BACKEND_SETTINGS", "force_tcg"), 600);
        assertThat(r.exitCode()).as("guestfish\n" + r.all()).isZero();

        assertThat(XfsTools.field(XfsTools.db(a.image, "path /data/left", "p core.aformat"), "core.aformat"))
                .as("interleaved attribute blocks make a B+tree attribute fork").startsWith("3");
        for (Disk d : clean) {
            XfsTools.assertRepairClean(d.image);
            assertThat(XfsTools.field(XfsTools.db(d.image, "path /data/frag", "p core.format"), "core.format"))
                    .as("a fragmented file has a B+tree block map").startsWith("3");
            List<ByteRange> used;
            try (FileDevice dev = FileDevice.open(d.image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
                assertThat(fs.logState().clean()).as(fs.logState().detail()).isTrue();
                checkAll(fs, d);
                used = fs.usedRanges();
                assertThat(fs.space().freeBytes()).isEqualTo(Long.parseLong(XfsTools.field(XfsTools.db(d.image,
                        "sb 0", "p fdblocks"), "fdblocks")) * d.blockSize);
            }
            Path copy = FileBytes.copyOnly(d.image, used, dir.resolve(d.name + "-used.img"));
            XfsTools.assertRepairClean(copy);
            try (FileDevice dev = FileDevice.open(copy); XfsFileSystem fs = XfsFileSystem.open(dev)) {
                checkAll(fs, d);
            }
            Files.delete(copy);
        }
        checkDirtyLog(dirty);
        checkBmbtLoop(a.image, dir);
    }

    /** Host files (through tar) and a shell script run in the appliance that builds the rest. */
    private static void build(Disk d, Path dir, Random random) throws Exception {
        int bs = d.blockSize;
        Map<String, byte[]> tarFiles = new LinkedHashMap<>();
        tarFiles.put("etc/hostname", "kernel-guest\n".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 12; i++) {
            byte[] content = new byte[i == 0 ? 0 : random.nextInt(i < 3 ? 1 << 20 : 50_000)];
            random.nextBytes(content);
            tarFiles.put("data/f" + i, content);
        }
        try (OutputStream os = Files.newOutputStream(dir.resolve(d.name + ".tar"));
             TarArchiveOutputStream tar = new TarArchiveOutputStream(os)) {
            for (String dirName : List.of("etc", "data")) {
                TarArchiveEntry e = new TarArchiveEntry(dirName + "/");
                e.setMode(040755);
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
            }
            for (var f : tarFiles.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(f.getValue().length);
                e.setMode(0100644);
                tar.putArchiveEntry(e);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        }
        d.expect.put("/", Expect.of(FileKind.DIRECTORY));
        d.expect.put("/etc", Expect.of(FileKind.DIRECTORY).owner(0755, 0, 0));
        d.expect.put("/data", Expect.of(FileKind.DIRECTORY).owner(0755, 0, 0));
        for (var f : tarFiles.entrySet()) {
            d.expect.put("/" + f.getKey(), Expect.of(FileKind.REGULAR).content(f.getValue()).owner(0644, 0, 0));
        }

        // owners, modes, a hard link, timestamps (set by guestfish after the script; on v4 the kernel
        // zeroes the nanoseconds of the very last 32-bit second, so stay one second below it)
        d.sh("chown 1000:100 data/f1 && chmod 4755 data/f2 && chown 65534:65534 data/f3 && chmod 0600 data/f3");
        d.sh("ln data/f4 data/f4-hardlink");
        d.expect.put("/data/f1", d.expect.get("/data/f1").owner(0644, 1000, 100));
        d.expect.put("/data/f2", d.expect.get("/data/f2").owner(04755, 0, 0));
        d.expect.put("/data/f3", d.expect.get("/data/f3").owner(0600, 65534, 65534));
        d.expect.put("/data/f4", d.expect.get("/data/f4").links(2));
        d.expect.put("/data/f4-hardlink", d.expect.get("/data/f4").links(2));
        Instant atime = d.v4 ? Instant.ofEpochSecond(-2147483648L) : Instant.ofEpochSecond(-2000000000L, 5);
        Instant mtime = d.v4 ? Instant.ofEpochSecond(2147483646L, 999999999) : Instant.ofEpochSecond(4102444800L, 999999999);
        d.expect.put("/data/f0", d.expect.get("/data/f0").times(atime, mtime));
        // the ACL's mask becomes the group bits: rw-,rwx,--- is 0670
        d.expect.put("/data/f5", d.expect.get("/data/f5").owner(0670, 0, 0).xattrNames(Set.of("trusted.SGI_ACL_FILE")));

        // symbolic links: short (in the inode) and long (remote blocks; on v5 with a header per extent)
        d.sh("mkdir links && ln -s ../etc/hostname links/relative && ln -s " + LONG_TARGET + " links/long");
        d.expect.put("/links", Expect.of(FileKind.DIRECTORY));
        d.expect.put("/links/relative", Expect.of(FileKind.SYMLINK).target("../etc/hostname"));
        d.expect.put("/links/long", Expect.of(FileKind.SYMLINK).target(LONG_TARGET));

        // devices
        d.sh("mkdir dev && mknod dev/sda1 b 8 1 && mknod -m 0620 dev/tty1 c 4 1 && mkfifo dev/fifo");
        d.expect.put("/dev", Expect.of(FileKind.DIRECTORY));
        d.expect.put("/dev/sda1", Expect.of(FileKind.BLOCK_DEVICE));
        d.expect.put("/dev/tty1", Expect.of(FileKind.CHAR_DEVICE).owner(0620, 0, 0));
        d.expect.put("/dev/fifo", Expect.of(FileKind.FIFO));

        // holes, written and unwritten extents
        byte[] sparse = new byte[8 << 20];
        java.util.Arrays.fill(sparse, 0, 4096, (byte) 0x61);
        java.util.Arrays.fill(sparse, 1 << 20, (1 << 20) + 8192, (byte) 0x62);
        java.util.Arrays.fill(sparse, (2 << 20) + 65536, (2 << 20) + 65536 + 4096, (byte) 0x63);
        d.sh("xfs_io -f -c 'pwrite -S 0x61 0 4096' -c 'pwrite -S 0x62 1048576 8192' -c 'falloc 2097152 1048576'"
                + " -c 'pwrite -S 0x63 2162688 4096' -c 'truncate 8388608' data/sparse > /dev/null");
        d.expect.put("/data/sparse", Expect.of(FileKind.REGULAR).content(sparse));
        d.sh("xfs_io -f -c 'falloc 0 1048576' data/prealloc > /dev/null");
        d.expect.put("/data/prealloc", Expect.of(FileKind.REGULAR).content(new byte[1 << 20]));
        d.sh("xfs_io -f -c 'pwrite -S 0x7a 4294967296 4096' -c 'truncate 4294971392' data/beyond4g > /dev/null");
        d.expect.put("/data/beyond4g", Expect.of(FileKind.REGULAR)); // content checked by checkBeyond4g

        // a fragmented file: one block written, one skipped, 700 times: a multi-leaf B+tree block map
        int writes = 700;
        byte[] frag = new byte[(writes - 1) * 2 * bs + bs];
        StringBuilder xfsIo = new StringBuilder("xfs_io -f");
        for (int i = 0; i < writes; i++) {
            int pattern = i % 250 + 1;
            java.util.Arrays.fill(frag, i * 2 * bs, i * 2 * bs + bs, (byte) pattern);
            xfsIo.append(" -c 'pwrite -S ").append(pattern).append(' ').append((long) i * 2 * bs).append(' ').append(bs)
                    .append('\'');
        }
        d.sh(xfsIo + " data/frag > /dev/null");
        d.expect.put("/data/frag", Expect.of(FileKind.REGULAR).content(frag));

        // a big directory, then deletions: stale entries, emptied and freed data blocks
        d.sh("mkdir many && cd many && i=0; while [ $i -lt 3000 ]; do : > file-with-a-longer-name-$i; i=$((i+1)); done");
        d.sh("rm -f file-with-a-longer-name-1???");
        StringBuilder rm = new StringBuilder("rm -f");
        Set<String> many = new TreeSet<>();
        for (int i = 0; i < 3000; i++) {
            if (i >= 1000 && i < 2000) {
                continue;
            }
            if (i % 3 == 0) {
                rm.append(" file-with-a-longer-name-").append(i);
            } else {
                many.add("file-with-a-longer-name-" + i);
            }
        }
        d.sh(rm + " && cd ..");
        d.expect.put("/many", Expect.of(FileKind.DIRECTORY));
        for (String n : many) {
            d.expect.put("/many/" + n, Expect.of(FileKind.REGULAR).content(new byte[0]));
        }

        // xattrs: real SELinux label, trusted, many (node form), a remote value
        byte[] label = "system_u:object_r:etc_t:s0\0".getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> hostnameAttrs = new TreeMap<>(Map.of("security.selinux", label,
                "trusted.overlay.opaque", "y".getBytes(StandardCharsets.UTF_8)));
        Map<String, byte[]> manyAttrs = new TreeMap<>();
        for (int i = 0; i < 300; i++) {
            manyAttrs.put("user.attribute-number-" + i, ("value of attribute " + i).getBytes(StandardCharsets.UTF_8));
        }
        byte[] big = new byte[40_000];
        random.nextBytes(big);
        Map<String, byte[]> remoteAttrs = new TreeMap<>(Map.of("user.big", big, "user.small", new byte[] {1}));
        d.sh("touch data/attrs data/remote data/left data/right && cd / && setfattr --restore=/tmp/" + d.name
                + ".attrs && cd /sysroot");
        dumpAttrs(d.attrDump, "sysroot/etc/hostname", hostnameAttrs);
        dumpAttrs(d.attrDump, "sysroot/data/attrs", manyAttrs);
        dumpAttrs(d.attrDump, "sysroot/data/remote", remoteAttrs);
        d.expect.put("/etc/hostname", d.expect.get("/etc/hostname").xattrs(hostnameAttrs));
        d.expect.put("/data/attrs", Expect.of(FileKind.REGULAR).content(new byte[0]).xattrs(manyAttrs));
        d.expect.put("/data/remote", Expect.of(FileKind.REGULAR).content(new byte[0]).xattrs(remoteAttrs));
        if (d.name.equals("a")) {
            // two files whose attributes are set in turn: their attribute blocks interleave on disk, so
            // each attribute fork needs more extents than the inode holds (a B+tree attribute fork)
            Map<String, byte[]> left = new TreeMap<>();
            Map<String, byte[]> right = new TreeMap<>();
            for (int i = 0; i < 1500; i++) {
                byte[] value = new byte[700];
                java.util.Arrays.fill(value, (byte) ('a' + i % 26));
                Map<String, byte[]> one = Map.of("user.interleaved-" + i, value);
                dumpAttrs(d.attrDump, "sysroot/data/left", one);
                dumpAttrs(d.attrDump, "sysroot/data/right", one);
                left.putAll(one);
                right.putAll(one);
            }
            d.expect.put("/data/left", Expect.of(FileKind.REGULAR).content(new byte[0]).xattrs(left));
            d.expect.put("/data/right", Expect.of(FileKind.REGULAR).content(new byte[0]).xattrs(right));
        } else {
            d.expect.put("/data/left", Expect.of(FileKind.REGULAR).content(new byte[0]));
            d.expect.put("/data/right", Expect.of(FileKind.REGULAR).content(new byte[0]));
        }
        d.sh("sync");
    }

    private static void dumpAttrs(StringBuilder out, String file, Map<String, byte[]> attrs) {
        out.append("# file: ").append(file).append('\n');
        for (var e : attrs.entrySet()) {
            out.append(e.getKey()).append("=0x").append(HexFormat.of().formatHex(e.getValue())).append('\n');
        }
        out.append('\n');
    }

    private static void checkAll(XfsFileSystem fs, Disk d) throws Exception {
        // every directory lists exactly the expected names
        Map<String, Set<String>> children = new TreeMap<>();
        for (String p : d.expect.keySet()) {
            if (!p.equals("/")) {
                String parent = p.substring(0, Math.max(1, p.lastIndexOf('/')));
                children.computeIfAbsent(parent, k -> new TreeSet<>()).add(p.substring(p.lastIndexOf('/') + 1));
            }
        }
        for (var e : children.entrySet()) {
            assertThat(fs.list(e.getKey()).stream().map(DirEntry::name).toList()).as(d.name + ":" + e.getKey())
                    .containsExactlyInAnyOrderElementsOf(e.getValue());
        }
        for (var e : d.expect.entrySet()) {
            String p = e.getKey();
            Expect x = e.getValue();
            String what = d.name + ":" + p;
            FileStat st = fs.stat(p);
            assertThat(st.kind()).as(what).isEqualTo(x.kind());
            if (x.mode() != null) {
                assertThat(st.mode()).as(what + " mode").isEqualTo(x.mode());
                assertThat(st.uid()).as(what + " uid").isEqualTo(x.uid());
                assertThat(st.gid()).as(what + " gid").isEqualTo(x.gid());
            }
            if (x.content() != null) {
                assertThat(st.size()).as(what + " size").isEqualTo(x.content().length);
                assertThat(fs.readAll(p, 64 << 20)).as(what + " content").isEqualTo(x.content());
            }
            if (x.target() != null) {
                assertThat(fs.readlink(p)).as(what).isEqualTo(x.target());
            }
            if (x.xattrs() != null) {
                Map<String, byte[]> got = fs.xattrs(p);
                assertThat(got.keySet()).as(what + " xattrs").containsExactlyInAnyOrderElementsOf(x.xattrs().keySet());
                for (var a : x.xattrs().entrySet()) {
                    assertThat(got.get(a.getKey())).as(what + " " + a.getKey()).isEqualTo(a.getValue());
                }
            }
            if (x.xattrNames() != null) {
                assertThat(fs.xattrs(p).keySet()).as(what + " xattrs").containsExactlyInAnyOrderElementsOf(x.xattrNames());
            }
            if (x.atime() != null) {
                assertThat(st.atime()).as(what + " atime").isEqualTo(x.atime());
                assertThat(st.mtime()).as(what + " mtime").isEqualTo(x.mtime());
            }
            if (x.links() != null) {
                assertThat(st.links()).as(what + " links").isEqualTo(x.links());
            }
        }
        assertThat(fs.stat("/data/f4").inode()).isEqualTo(fs.stat("/data/f4-hardlink").inode());
        assertThat(fs.stat("/dev/sda1").rdev()).isEqualTo(XfsReadTest.makedev(8, 1));
        assertThat(fs.readAll("/links/relative", 100)).isEqualTo("kernel-guest\n".getBytes(StandardCharsets.UTF_8));
        checkBeyond4g(fs);
    }

    private static void checkBeyond4g(XfsFileSystem fs) throws Exception {
        FileStat st = fs.stat("/data/beyond4g");
        assertThat(st.size()).isEqualTo(4294971392L);
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8192);
        assertThat(fs.read("/data/beyond4g", buf, 4294967296L - 4096)).isEqualTo(8192);
        byte[] want = new byte[8192];
        java.util.Arrays.fill(want, 4096, 8192, (byte) 0x7a);
        assertThat(buf.array()).isEqualTo(want);
        buf.clear();
        assertThat(fs.read("/data/beyond4g", buf, 12345)).as("a hole").isEqualTo(8192);
        assertThat(buf.array()).isEqualTo(new byte[8192]);
    }

    private static void checkDirtyLog(Path image) throws Exception {
        XfsTools.LogPrint lp = XfsTools.logprint(image);
        assertThat(lp.clean()).as("xfs_logprint on the shut-down filesystem").isFalse();
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            XfsLogState s = fs.logState();
            assertThat(s.clean()).isFalse();
            assertThat(s.headBlock()).isEqualTo(lp.head());
            assertThat(s.tailBlock()).isEqualTo(lp.tail());
            assertThat(s.detail()).contains("replay");
            assertThat(fs.usedRanges()).containsExactly(new ByteRange(0, XfsTools.IMAGE_SIZE));
        }
        Run.Result repair = Run.run(List.of("xfs_repair", "-n", image.toString()), null, Map.of(), 300);
        assertThat(repair.all()).contains("valuable metadata changes in a log");
    }

    /** A B+tree block map whose leaf claims to be a node pointing at itself: an error, not a hang. */
    private static void checkBmbtLoop(Path image, Path dir) throws Exception {
        Path copy = dir.resolve("loop.img");
        XfsTools.run(List.of("cp", "--sparse=always", image.toString(), copy.toString()));
        String root = XfsTools.db(copy, "path /data/frag", "p u3.bmbt.level u3.bmbt.ptrs");
        assertThat(XfsTools.field(root, "u3.bmbt.level")).isEqualTo("1");
        String ptrs = root.substring(root.indexOf("u3.bmbt.ptrs"));
        String child = ptrs.replaceAll("(?s).*?[\\s=]1:(\\d+).*", "$1");
        XfsTools.db(copy, true, List.of("path /data/frag", "write -d u3.bmbt.level 2", "addr u3.bmbt.ptrs[1]",
                "write -d level 1", "write -d numrecs 1", "write -d ptrs[1] " + child));
        try (FileDevice dev = FileDevice.open(copy); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            assertThatThrownBy(() -> fs.readAll("/data/frag", 64 << 20)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("block map B+tree block of inode")
                    .hasMessageContaining("B+tree loop or misplaced block");
        }
        Files.delete(copy);
    }
}
