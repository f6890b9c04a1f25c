package org.jv2v.fs.ext;

import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.WritableFileSystem;
import org.jv2v.testing.Run;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The edits a conversion makes, on a small guest-like tree: files rewritten larger, smaller and
 * empty (one with SELinux and user attributes, one with an attribute block), new files (one in a
 * new directory, hundreds in an indexed directory), short and long symbolic links, directories, and
 * removals of a file, a symlink and one of two hard links. Knows what every path must read back as.
 */
final class ExtEditScenario {
    static final int MANY_BEFORE = 400;
    static final int MANY_ADDED = 300;
    static final String LONG_TARGET = "/usr/lib/systemd/system/" + "a-rather-long-unit-name-".repeat(5) + ".service";
    static final String LONG_NAME = "n".repeat(255);

    /** Regular files and their content after the edits. */
    final Map<String, byte[]> files = new LinkedHashMap<>();
    /** Symbolic links and their targets after the edits. */
    final Map<String, String> links = new LinkedHashMap<>();
    /** New paths with {mode, uid, gid}. */
    final Map<String, int[]> owners = new LinkedHashMap<>();
    /** Directories that must exist. */
    final Set<String> dirs = new TreeSet<>();
    /** Paths the edits removed. */
    final Set<String> gone = new TreeSet<>();
    /** Files rewritten in place: inode, owner, mode, times and attributes as before. */
    final List<String> rewritten = new ArrayList<>();
    private final Random rnd;

    ExtEditScenario(long seed) {
        this.rnd = new Random(seed);
    }

    byte[] random(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    static byte[] text(String line, int bytes) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < bytes) {
            sb.append(line).append(' ').append(sb.length()).append('\n');
        }
        return sb.substring(0, bytes).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The tree mkfs -d copies in, and the expectations for what the edits leave alone. With a null
     * root only the expectations are recorded (scenarios with the same seed share one tree).
     */
    void build(Path root) throws Exception {
        Path etc = root == null ? null : Files.createDirectories(root.resolve("etc"));
        write(root, "/etc/fstab", text("UUID=0a1b2c3d / ext4 defaults 0 1", 3000));
        write(root, "/etc/hostname", "vmware-guest\n".getBytes(StandardCharsets.UTF_8));
        write(root, "/etc/big.bin", random(300_000));
        write(root, "/etc/empty-me", text("soon empty", 1000));
        write(root, "/etc/labelled", text("selinux labelled", 500));
        write(root, "/etc/unchanged", text("left alone", 5000));
        write(root, "/etc/remove-me", random(20_000));
        write(root, "/etc/hard1", text("two names", 100));
        write(root, "/etc/grows", text("small, inline where it can be", 40));
        write(root, "/etc/shrinks", text("inline with an extension in system.data", 100));
        write(root, "/etc/remove-attrs", text("has an attribute block", 3000));
        files.put("/etc/hard2", files.get("/etc/hard1"));
        if (root != null) {
            Files.createLink(etc.resolve("hard2"), etc.resolve("hard1"));
            Files.createSymbolicLink(etc.resolve("old-link"), Path.of("fstab"));
            setfattr(etc.resolve("labelled"), "security.selinux", "system_u:object_r:etc_t:s0");
            setfattr(etc.resolve("labelled"), "user.comment", "kept across the rewrite");
            setfattr(etc.resolve("big.bin"), "user.big", "b".repeat(700)); // too big for the inode: a block
            setfattr(etc.resolve("remove-attrs"), "user.big", "r".repeat(700));
            Files.createDirectories(etc.resolve("many"));
            Files.createDirectories(etc.resolve("tiny")); // an inline directory where inline_data is on
        }
        for (int i = 0; i < MANY_BEFORE; i++) {
            String name = String.format("existing-entry-%04d.conf", i);
            write(root, "/etc/many/" + name, ("entry " + i + "\n").getBytes(StandardCharsets.UTF_8));
        }
        for (String n : List.of("a", "b")) {
            write(root, "/etc/tiny/" + n, n.getBytes(StandardCharsets.UTF_8));
        }
        dirs.add("/etc");
        dirs.add("/etc/many");
        dirs.add("/etc/tiny");
    }

    private void write(Path root, String path, byte[] content) throws Exception {
        if (root != null) {
            Files.write(root.resolve(path.substring(1)), content);
        }
        files.put(path, content);
    }

    private static void setfattr(Path p, String name, String value) throws Exception {
        Run.checked(List.of("setfattr", "-h", "-n", name, "-v", value, p.toString()));
    }

    /** The edits, through the shared interface only. */
    void apply(WritableFileSystem fs) throws Exception {
        rewrite(fs, "/etc/fstab", text("UUID=0a1b2c3d / ext4 defaults,noatime 0 1", 20_000)); // larger
        rewrite(fs, "/etc/big.bin", random(5000));                                         // smaller
        rewrite(fs, "/etc/empty-me", new byte[0]);                                          // empty
        rewrite(fs, "/etc/labelled", text("relabel me not", 9000));                         // with xattrs
        rewrite(fs, "/etc/hostname", "kvm-guest\n".getBytes(StandardCharsets.UTF_8));      // tiny
        rewrite(fs, "/etc/grows", text("no longer inline", 5000));
        rewrite(fs, "/etc/shrinks", text("back into i_block", 30));

        create(fs, "/etc/new.conf", text("new configuration", 777), 0640, 1000, 1001);
        create(fs, "/etc/empty-new", new byte[0], 0600, 0, 0);
        for (int i = 0; i < MANY_ADDED; i++) {
            create(fs, String.format("/etc/many/added-by-jv2v-%04d", i), ("added " + i).getBytes(StandardCharsets.UTF_8),
                    0644, 0, 0);
        }
        create(fs, "/etc/many/" + LONG_NAME, text("long name", 10), 0644, 0, 0);

        fs.symlink("/etc/short-link", "/dev/null", 0, 0);
        links.put("/etc/short-link", "/dev/null");
        fs.symlink("/etc/long-link", LONG_TARGET, 0, 0);
        links.put("/etc/long-link", LONG_TARGET);

        fs.mkdir("/etc/newdir", 0750, 5, 6);
        dirs.add("/etc/newdir");
        owners.put("/etc/newdir", new int[] {0750, 5, 6});
        create(fs, "/etc/newdir/inside", text("in a new directory", 50), 0644, 5, 6);
        fs.mkdir("/etc/newdir/sub", 0755, 0, 0);
        dirs.add("/etc/newdir/sub");
        fs.symlink("/etc/newdir/sub/up", "..", 0, 0);
        links.put("/etc/newdir/sub/up", "..");

        // a small directory (inline with inline_data) that grows past the inode, and loses a name
        create(fs, "/etc/tiny/c", "c".getBytes(StandardCharsets.UTF_8), 0644, 0, 0);
        fs.unlink("/etc/tiny/b"); // from the inode, where inline_data is on
        gone.add("/etc/tiny/b");
        files.remove("/etc/tiny/b");
        for (int i = 0; i < 12; i++) {
            create(fs, "/etc/tiny/more-names-" + i, new byte[i], 0644, 0, 0);
        }
        for (String p : List.of("/etc/remove-me", "/etc/old-link", "/etc/hard1", "/etc/remove-attrs", "/etc/tiny/a")) {
            fs.unlink(p);
            gone.add(p);
            files.remove(p);
        }
    }

    private void rewrite(WritableFileSystem fs, String path, byte[] content) throws Exception {
        fs.rewrite(path, content);
        files.put(path, content);
        rewritten.add(path);
    }

    private void create(WritableFileSystem fs, String path, byte[] content, int mode, int uid, int gid)
            throws Exception {
        fs.create(path, content, mode, uid, gid);
        files.put(path, content);
        owners.put(path, new int[] {mode, uid, gid});
    }

    /** Everything reads back through jv2v's own reader. */
    void verify(FileSystem fs) throws Exception {
        for (var f : files.entrySet()) {
            assertThat(fs.readAll(f.getKey(), 1 << 24)).as("content of %s", f.getKey()).isEqualTo(f.getValue());
        }
        for (var l : links.entrySet()) {
            assertThat(fs.stat(l.getKey()).kind()).isEqualTo(FileKind.SYMLINK);
            assertThat(fs.readlink(l.getKey())).as("target of %s", l.getKey()).isEqualTo(l.getValue());
        }
        for (var o : owners.entrySet()) {
            FileStat st = fs.stat(o.getKey());
            assertThat(new int[] {st.mode(), st.uid(), st.gid()}).as("mode, uid, gid of %s", o.getKey())
                    .isEqualTo(o.getValue());
        }
        for (String d : dirs) {
            assertThat(fs.stat(d).kind()).as(d).isEqualTo(FileKind.DIRECTORY);
        }
        for (String g : gone) {
            assertThat(fs.list(g.substring(0, g.lastIndexOf('/'))).stream().map(e -> e.name()))
                    .doesNotContain(g.substring(g.lastIndexOf('/') + 1));
        }
        assertThat(fs.stat("/etc/hard2").links()).isEqualTo(1);
        assertThat(fs.list("/etc/many")).hasSize(MANY_BEFORE + MANY_ADDED + 1);
        assertThat(fs.list("/etc/tiny")).hasSize(1 + 12);
        assertThat(fs.stat("/etc/newdir").links()).isEqualTo(3);
        assertThat(fs.xattrs("/etc/labelled")).containsKeys("security.selinux", "user.comment");
        assertThat(fs.xattrs("/etc/big.bin")).containsKey("user.big");
    }
}
