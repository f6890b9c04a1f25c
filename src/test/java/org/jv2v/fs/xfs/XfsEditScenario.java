package org.jv2v.fs.xfs;

import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.WritableFileSystem;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The edits a conversion makes, on a tree built for them: text files and an initramfs rewritten
 * (bigger, smaller, empty), files, links and directories created in directories of every form
 * (enough of them to push each directory into its next form), names removed. It remembers what
 * every touched path must read back as, for jv2v's reader, xfs_db and the kernel to check.
 */
final class XfsEditScenario {
    /** What a path must be after the edits: a file's content, a link's target, or a directory; null: gone. */
    record Expect(FileKind kind, byte[] content, String target, int mode, int uid, int gid) {}

    final Map<String, Expect> expect = new TreeMap<>();
    /** Names created in each directory, for listing checks. */
    final Map<String, List<String>> created = new LinkedHashMap<>();
    final List<String> removed = new ArrayList<>();
    /** Files that were there before and were rewritten. */
    final List<String> rewritten = new ArrayList<>();
    private final Random random = new Random(7);

    static final String[] FORMS = {"short", "block", "leaf", "node"};
    /** Entries mkfs puts in each form directory (as in SourceTree.standard). */
    static final int[] FORM_SIZES = {4, 40, 300, 3000};

    /** The tree the edits start from: a guest-like /etc and /boot plus one directory per form. */
    static SourceTree tree(Path dir) throws IOException {
        SourceTree t = new SourceTree(dir, 3);
        t.dir("/etc", 0755, 0, 0);
        t.file("/etc/fstab", 0644, 0, 0, ("/dev/sda1 / xfs defaults 0 0\n/dev/sda2 /boot xfs defaults 0 0\n"
                + "# " + "x".repeat(3000) + "\n").getBytes(StandardCharsets.UTF_8));
        t.file("/etc/hostname", 0644, 0, 0, "guest\n".getBytes(StandardCharsets.UTF_8));
        t.file("/etc/empty", 0600, 5, 6, new byte[0]);
        t.dir("/etc/sysconfig", 0755, 0, 0);
        t.dir("/etc/sysconfig/network-scripts", 0755, 0, 0);
        t.file("/etc/sysconfig/network-scripts/ifcfg-ens192", 0644, 0, 0,
                "DEVICE=ens192\nBOOTPROTO=static\nIPADDR=10.0.0.5\n".getBytes(StandardCharsets.UTF_8));
        t.dir("/etc/systemd", 0755, 0, 0);
        t.dir("/etc/systemd/system", 0755, 0, 0);
        t.dir("/etc/systemd/system/multi-user.target.wants", 0755, 0, 0);
        for (String unit : List.of("vmtoolsd.service", "sshd.service", "crond.service")) {
            t.symlink("/etc/systemd/system/multi-user.target.wants/" + unit, "/usr/lib/systemd/system/" + unit);
        }
        for (int i = 0; i < 120; i++) {
            t.file("/etc/conf" + i + ".conf", 0644, 0, 0, ("setting" + i + "=yes\n").getBytes(StandardCharsets.UTF_8));
        }
        t.dir("/boot", 0555, 0, 0);
        byte[] initramfs = new byte[3 << 20];
        new Random(1).nextBytes(initramfs);
        t.file("/boot/initramfs-5.14.0.img", 0600, 0, 0, initramfs);
        t.dir("/boot/loader", 0700, 0, 0);
        t.dir("/boot/loader/entries", 0700, 0, 0);
        t.file("/boot/loader/entries/a.conf", 0644, 0, 0, "title RHEL\nlinux /vmlinuz\n".getBytes(StandardCharsets.UTF_8));
        t.dir("/forms", 0755, 0, 0);
        for (int d = 0; d < FORMS.length; d++) {
            String base = "/forms/" + FORMS[d];
            t.dir(base, 0750, 0, 0);
            for (int i = 0; i < FORM_SIZES[d]; i++) {
                t.file(base + "/entry-" + "x".repeat(i % 17) + i, 0644, 0, 0, new byte[0]);
            }
        }
        return t;
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private void rewrite(WritableFileSystem fs, String path, byte[] content) throws IOException {
        FileStat before = fs.stat(path);
        fs.rewrite(path, content);
        rewritten.add(path);
        expect.put(path, new Expect(FileKind.REGULAR, content, null, before.mode(), before.uid(), before.gid()));
    }

    private void create(WritableFileSystem fs, String path, byte[] content, int mode, int uid, int gid)
            throws IOException {
        fs.create(path, content, mode, uid, gid);
        expect.put(path, new Expect(FileKind.REGULAR, content, null, mode, uid, gid));
        created.computeIfAbsent(parent(path), k -> new ArrayList<>()).add(path);
    }

    private void symlink(WritableFileSystem fs, String path, String target) throws IOException {
        fs.symlink(path, target, 0, 0);
        expect.put(path, new Expect(FileKind.SYMLINK, null, target, 0777, 0, 0));
        created.computeIfAbsent(parent(path), k -> new ArrayList<>()).add(path);
    }

    private void mkdir(WritableFileSystem fs, String path, int mode) throws IOException {
        fs.mkdir(path, mode, 0, 0);
        expect.put(path, new Expect(FileKind.DIRECTORY, null, null, mode, 0, 0));
        created.computeIfAbsent(parent(path), k -> new ArrayList<>()).add(path);
    }

    private void unlink(WritableFileSystem fs, String path) throws IOException {
        fs.unlink(path);
        expect.put(path, null);
        removed.add(path);
    }

    static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i == 0 ? "/" : path.substring(0, i);
    }

    /** Applies every edit. */
    void apply(WritableFileSystem fs) throws IOException {
        // the conversion's rewrites
        rewrite(fs, "/boot/initramfs-5.14.0.img", bytes(5 << 20));
        rewrite(fs, "/etc/fstab", "UUID=abc / xfs defaults 0 0\n".getBytes(StandardCharsets.UTF_8));
        rewrite(fs, "/etc/empty", "now has content\n".getBytes(StandardCharsets.UTF_8));
        rewrite(fs, "/etc/hostname", new byte[0]);
        rewrite(fs, "/boot/loader/entries/a.conf", bytes(9000));
        rewrite(fs, "/etc/sysconfig/network-scripts/ifcfg-ens192",
                "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=10.0.0.5\n".getBytes(StandardCharsets.UTF_8));
        // new files where a conversion puts them
        fs.mkdir("/etc/NetworkManager", 0755, 0, 0);
        expect.put("/etc/NetworkManager", new Expect(FileKind.DIRECTORY, null, null, 0755, 0, 0));
        mkdir(fs, "/etc/NetworkManager/system-connections", 0700);
        create(fs, "/etc/NetworkManager/system-connections/eth0.nmconnection",
                "[connection]\nid=eth0\n".getBytes(StandardCharsets.UTF_8), 0600, 0, 0);
        symlink(fs, "/etc/systemd/system/vmtoolsd.service", "/dev/null");
        unlink(fs, "/etc/systemd/system/multi-user.target.wants/vmtoolsd.service");
        create(fs, "/etc/modules-load.d.conf", bytes(100), 0644, 0, 0);
        unlink(fs, "/etc/conf7.conf");
        unlink(fs, "/etc/conf8.conf");
        create(fs, "/etc/conf8.conf", bytes(5000), 0640, 0, 10);
        // enough new names to push every form into the next one
        int[] adds = {30, 150, 700, 60};
        for (int d = 0; d < FORMS.length; d++) {
            String base = "/forms/" + FORMS[d];
            for (int i = 0; i < adds[d]; i++) {
                String name = base + "/new-" + "y".repeat(i % 23) + i;
                switch (i % 10) {
                    case 3 -> symlink(fs, name, "target-" + i);
                    case 7 -> symlink(fs, name, "/" + "long/".repeat(60) + i); // too long for the inode
                    case 5 -> mkdir(fs, name, 0711);
                    default -> create(fs, name, bytes(i % 4 == 0 ? 6000 : 40), 0644, 1000, 1000);
                }
                if (i % 3 == 0 && i < FORM_SIZES[d]) {
                    unlink(fs, base + "/entry-" + "x".repeat(i % 17) + i);
                }
            }
            create(fs, base + "/new-" + "y".repeat(5) + "5/inside", bytes(10), 0600, 0, 0);
            unlink(fs, base + "/new-" + "y".repeat(3) + "3"); // a symlink just made
        }
    }
}
