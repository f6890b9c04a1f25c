package org.jv2v.fs.ext;

import org.jv2v.Jv2vException;
import org.jv2v.fs.WritableFileSystem;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Linux kernel reads what jv2v wrote: filesystems edited by jv2v are mounted in libguestfs's
 * appliance (one boot for all of them), where every file is hashed, every link read, every owner
 * and mode listed, and thousands of names looked up in a directory whose htree jv2v split and
 * deepened. The kernel then writes to one of them (names added to and removed from jv2v's htree,
 * a file appended, a directory made), and e2fsck and jv2v agree with it afterwards. The same boot
 * leaves a filesystem with a journal to replay (a forced shutdown), which jv2v refuses.
 */
class ExtWriteKernelTest {

    private static final String LABEL = "system_u:object_r:etc_t:s0";

    /** One edited image: its tag in the appliance's output and its scenario. */
    record Disk(String tag, Path image, ExtEditScenario scenario) {}

    @Test
    void theKernelReadsAndWritesWhatJv2vWrote(@TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "debugfs", "guestfish", "setfattr", "tune2fs");
        List<Disk> disks = new ArrayList<>();
        for (String[] c : new String[][] {{"A", "-t ext4"}, {"C", "-t ext3"}, {"D", "-t ext4 -O inline_data"},
                {"E", "-t ext4 -b 1024 -O ^metadata_csum,uninit_bg"}}) {
            disks.add(scenarioDisk(dir, c[0], List.of(c[1].split(" "))));
        }
        try (FileDevice dev = FileDevice.openWritable(disks.getFirst().image());
             WritableFileSystem fs = new ExtFormat().openWritable(dev)) {
            fs.create("/etc/labelled-new", "label".getBytes(StandardCharsets.UTF_8), 0644, 0, 0,
                    Map.of("security.selinux", LABEL.getBytes(StandardCharsets.UTF_8)));
        }
        Path htree = htreeDisk(dir);
        Path written = dir.resolve("W.img");
        Files.copy(disks.getFirst().image(), written);
        Path dirty = dir.resolve("X.img");
        ExtTools.mkfs(dirty, null, "16M", List.of("-t", "ext4"));
        Path kernelMade = dir.resolve("K.img");
        ExtTools.mkfs(kernelMade, null, "16M", List.of("-t", "ext4", "-O", "inline_data", "-I", "256"));

        StringBuilder gf = new StringBuilder();
        List<String> expected = new ArrayList<>();
        char dev = 'a';
        for (Disk d : disks) {
            gf.append("add-ro ").append(d.image()).append('\n');
        }
        gf.append("add-ro ").append(htree).append('\n');
        gf.append("add ").append(written).append('\n');
        gf.append("add ").append(dirty).append('\n');
        gf.append("add ").append(kernelMade).append('\n');
        gf.append("run\n");
        for (Disk d : disks) {
            gf.append(uploads(dir, d.tag(), d.scenario()));
            gf.append("mount-ro /dev/sd").append(dev++).append(" /\n");
            gf.append("debug sh \"sh /tmp/check.sh ").append(d.tag()).append(" 2>&1\"\n");
            if (d == disks.getFirst()) {
                gf.append("lgetxattr /etc/labelled-new security.selinux\necho\n"); // the value ends without a newline
            }
            gf.append("umount /\n");
            expected.addAll(expectedLines(d.tag(), d.scenario()));
        }
        // the htree directory: every name looked up by the kernel
        List<String> present = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            (i % 50 == 0 ? absent : present).add(ExtWriteLayoutTest.name(i));
        }
        gf.append("debug-upload ").append(Files.write(dir.resolve("present"), present)).append(" /tmp/present 0644\n");
        gf.append("debug-upload ").append(Files.write(dir.resolve("absent"), absent)).append(" /tmp/absent 0644\n");
        gf.append("mount-ro /dev/sd").append(dev++).append(" /\n");
        gf.append("debug sh \"cd /sysroot/big && n=0; while IFS= read -r f; do [ -e \\\"$f\\\" ] && n=$((n+1));"
                + " done < /tmp/present; echo H present $n; n=0; while IFS= read -r f; do [ -e \\\"$f\\\" ] && n=$((n+1));"
                + " done < /tmp/absent; echo H absent $n; echo H listed $(ls -A | wc -l)\"\n");
        gf.append("umount /\n");
        expected.add("H present " + present.size());
        expected.add("H absent 0");
        expected.add("H listed " + present.size());
        // the kernel writes into a jv2v-edited filesystem
        gf.append("mount /dev/sd").append(dev++).append(" /\n");
        gf.append("debug sh \"cd /sysroot/etc && for i in $(seq 1 400); do echo k$i > many/kernel-$i; done"
                + " && rm many/added-by-jv2v-000* && echo appended >> new.conf && mkdir newdir/kdir"
                + " && ln -s kernel-1 many/klink && rm short-link && sync && echo W done\"\n");
        gf.append("umount /\n");
        expected.add("W done");
        // structures only the kernel makes, for jv2v to edit afterwards: an inline directory whose
        // entries spill into system.data, and an attribute block two files share
        gf.append("mount /dev/sd").append((char) (dev + 1)).append(" /\n");
        gf.append("debug sh \"mkdir /sysroot/k && cd /sysroot/k && for i in 1 2 3 4 5 6; do echo $i > n$i; done"
                + " && echo shared > s1 && echo shared > s2 && echo K done\"\n");
        gf.append("setxattr user.big ").append("v".repeat(700)).append(" 700 /k/s1\n");
        gf.append("setxattr user.big ").append("v".repeat(700)).append(" 700 /k/s2\n");
        gf.append("umount /\n");
        expected.add("K done");
        // and a journal left to replay
        gf.append("mount /dev/sd").append(dev).append(" /\n");
        gf.append("write /written-before-the-crash \"data\"\nsync\n");
        gf.append("write /in-the-journal \"more\"\n");
        gf.append("debug sh \"xfs_io -x -c 'shutdown -f' /sysroot/in-the-journal\"\n");
        Path script = Files.writeString(dir.resolve("gf.script"), gf);

        Run.Result r = Run.run(List.of("guestfish", "--rw", "-f", script.toString()), dir,
                Map.of("LIBGUESTFS_BACKEND", "direct", "LIBGUESTFS_BACKEND_SETTINGS", "force_tcg"), 600);
        assertThat(r.exitCode()).as("guestfish%n%s", r.all()).isZero();
        List<String> got = r.stdout().lines().map(String::strip)
                .filter(l -> l.matches("[A-Z] .*")).toList();
        assertThat(got).as("what the kernel read").containsExactlyInAnyOrderElementsOf(expected);
        assertThat(r.stdout().lines()).as("the label the kernel reads").contains(LABEL);

        // after the kernel's own writes: e2fsck clean, and jv2v reads them
        ExtTools.assertFsckClean(written);
        try (FileDevice devW = FileDevice.openWritable(written); ExtWritableFileSystem fs = ExtWritableFileSystem.open(devW)) {
            assertThat(fs.list("/etc/many").stream().filter(e -> e.name().startsWith("kernel-"))).hasSize(400);
            assertThat(fs.readAll("/etc/many/kernel-77", 100)).isEqualTo("k77\n".getBytes(StandardCharsets.UTF_8));
            assertThat(fs.list("/etc/many").stream().filter(e -> e.name().startsWith("added-by-jv2v-000"))).isEmpty();
            assertThat(new String(fs.readAll("/etc/new.conf", 10_000), StandardCharsets.UTF_8)).endsWith("appended\n");
            assertThat(fs.readlink("/etc/many/klink")).isEqualTo("kernel-1");
            // and jv2v edits on top of the kernel's
            fs.create("/etc/many/after-the-kernel", "again".getBytes(StandardCharsets.UTF_8), 0644, 0, 0);
            fs.unlink("/etc/many/kernel-5");
        }
        ExtTools.assertFsckClean(written);

        // jv2v edits what the kernel made
        assertThat(ExtTools.debugfs(kernelMade, "stat /k")).containsPattern("system.data \\([1-9]\\d*\\)"); // entries past i_block
        String shared = ExtTools.debugfs(kernelMade, "stat /k/s1");
        long aclBlock = ExtTools.number(shared, "File ACL: (\\d+)");
        assertThat(ExtTools.number(ExtTools.debugfs(kernelMade, "stat /k/s2"), "File ACL: (\\d+)")).isEqualTo(aclBlock);
        try (FileDevice devK = FileDevice.openWritable(kernelMade); ExtWritableFileSystem fs = ExtWritableFileSystem.open(devK)) {
            fs.unlink("/k/n6");                        // from system.data
            fs.create("/k/m1", new byte[1], 0644, 0, 0); // into the room it left
            fs.unlink("/k/n1");                        // from i_block
            fs.unlink("/k/s1");                        // the shared attribute block keeps one reference
            assertThat(fs.xattrs("/k/s2")).containsKey("user.big");
        }
        ExtTools.assertFsckClean(kernelMade);
        assertThat(ExtTools.debugfs(kernelMade, "stat /k")).contains("Size of inline data");
        try (FileDevice devK = FileDevice.openWritable(kernelMade); ExtWritableFileSystem fs = ExtWritableFileSystem.open(devK)) {
            for (int i = 0; i < 10; i++) {
                fs.create("/k/grow" + i, new byte[0], 0644, 0, 0); // past the inode: a block directory
            }
            fs.unlink("/k/s2");                        // the attribute block's last reference
        }
        ExtTools.assertFsckClean(kernelMade);
        assertThat(ExtTools.debugfs(kernelMade, "stat /k")).doesNotContain("Size of inline data");
        String ls = ExtTools.debugfs(kernelMade, "ls /k");
        for (String n : List.of("n2", "n3", "n4", "n5", "m1", "grow0", "grow9")) {
            assertThat(ls).containsPattern("\\s" + n + "\\s");
        }
        assertThat(ExtTools.debugfs(kernelMade, "testb " + aclBlock)).contains("not in use");

        // the crashed one is refused
        assertThat(ExtTools.debugfs(dirty, "features")).contains("needs_recovery");
        try (FileDevice devX = FileDevice.openWritable(dirty)) {
            assertThatThrownBy(() -> new ExtFormat().openWritable(devX)).isInstanceOf(Jv2vException.class)
                    .hasMessageContaining("was not shut down cleanly (its journal needs recovery)");
        }
    }

    private static Disk scenarioDisk(Path dir, String tag, List<String> mkfs) throws Exception {
        ExtEditScenario s = new ExtEditScenario(ExtWriteTest.SEED);
        Path tree = dir.resolve("tree");
        s.build(Files.exists(tree) ? null : tree);
        Path image = dir.resolve(tag + ".img");
        ExtTools.mkfs(image, tree, "32M", mkfs);
        ExtWriteTest.indexDirectories(image);
        try (FileDevice dev = FileDevice.openWritable(image); WritableFileSystem fs = new ExtFormat().openWritable(dev)) {
            s.apply(fs);
        }
        ExtTools.assertFsckClean(image);
        return new Disk(tag, image, s);
    }

    /** The directory of ExtWriteLayoutTest's htree test: 2000 names from mkfs, 3000 more and 100 removals by jv2v. */
    private static Path htreeDisk(Path dir) throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree-H/big"));
        for (int i = 0; i < 2000; i++) {
            Files.createFile(tree.resolve(ExtWriteLayoutTest.name(i)));
        }
        Path image = dir.resolve("H.img");
        ExtTools.mkfs(image, tree.getParent(), "16M", List.of("-t", "ext4", "-b", "1024", "-N", "8192"));
        ExtWriteTest.indexDirectories(image);
        try (FileDevice dev = FileDevice.openWritable(image); ExtWritableFileSystem fs = ExtWritableFileSystem.open(dev)) {
            for (int i = 2000; i < 5000; i++) {
                fs.create("/big/" + ExtWriteLayoutTest.name(i), new byte[0], 0644, 0, 0);
            }
            for (int i = 0; i < 5000; i += 50) {
                fs.unlink("/big/" + ExtWriteLayoutTest.name(i));
            }
        }
        ExtTools.assertFsckClean(image);
        assertThat(ExtTools.debugfs(image, "htree /big")).contains("Indirect levels: 1");
        return image;
    }

    /** Lists of paths the check script reads, uploaded into the appliance. */
    private static String uploads(Path dir, String tag, ExtEditScenario s) throws Exception {
        StringBuilder gf = new StringBuilder();
        Map<String, List<String>> lists = Map.of(
                "files", rel(s.files.keySet()), "links", rel(s.links.keySet()), "owners", rel(s.owners.keySet()),
                "gone", rel(s.gone));
        for (var l : lists.entrySet()) {
            Path f = Files.write(dir.resolve(tag + "." + l.getKey()), l.getValue());
            gf.append("debug-upload ").append(f).append(" /tmp/").append(tag).append('.').append(l.getKey())
                    .append(" 0644\n");
        }
        Path check = dir.resolve("check.sh");
        if (!Files.exists(check)) {
            Files.writeString(check, """
                    T=$1
                    cd /sysroot
                    xargs -d '\\n' sha256sum < /tmp/$T.files | sed "s/^/$T F /"
                    while IFS= read -r p; do echo "$T L $p $(readlink "$p")"; done < /tmp/$T.links
                    xargs -d '\\n' stat -c "$T O %n %a %u %g" < /tmp/$T.owners
                    while IFS= read -r p; do
                      if [ -e "$p" ] || [ -L "$p" ]; then echo "$T G $p present"; else echo "$T G $p absent"; fi
                    done < /tmp/$T.gone
                    echo "$T N etc/many $(ls -A etc/many | wc -l)"
                    """);
            gf.append("debug-upload ").append(check).append(" /tmp/check.sh 0755\n");
        }
        return gf.toString();
    }

    private static List<String> rel(java.util.Collection<String> paths) {
        return paths.stream().map(p -> p.substring(1)).toList();
    }

    private static List<String> expectedLines(String tag, ExtEditScenario s) throws Exception {
        List<String> out = new ArrayList<>();
        for (var f : s.files.entrySet()) {
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(f.getValue()));
            out.add(tag + " F " + sha + "  " + f.getKey().substring(1));
        }
        s.links.forEach((p, t) -> out.add(tag + " L " + p.substring(1) + " " + t));
        s.owners.forEach((p, o) -> out.add(tag + " O " + p.substring(1) + " " + Integer.toOctalString(o[0]) + " " + o[1]
                + " " + o[2]));
        s.gone.forEach(p -> out.add(tag + " G " + p.substring(1) + " absent"));
        out.add(tag + " N etc/many " + (ExtEditScenario.MANY_BEFORE + ExtEditScenario.MANY_ADDED + 1));
        return out;
    }
}
