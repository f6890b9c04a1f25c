package org.jv2v.fs.btrfs;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** btrfs-progs, blkid and guestfish, as fixture makers and oracles. */
final class BtrfsTools {
    private BtrfsTools() {}

    /** {@code mkfs.btrfs --rootdir SRC} on a new sparse image of {@code mib} MiB, with extra options. */
    static Path mkfs(Path img, long mib, Path rootdir, String... extra) throws IOException, InterruptedException {
        Tools.require("mkfs.btrfs");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(mib << 20);
        }
        List<String> cmd = new ArrayList<>(List.of("mkfs.btrfs", "-q"));
        cmd.addAll(List.of(extra));
        if (rootdir != null) {
            cmd.addAll(List.of("--rootdir", rootdir.toString()));
        }
        cmd.add(img.toString());
        Run.Result r = Run.run(cmd, null, Map.of(), 300);
        if (r.exitCode() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed:\n" + r.stdout() + r.stderr());
        }
        return img;
    }

    /** {@code btrfs check --readonly}: fails the test unless it exits 0; returns its output. */
    static String check(Path img) throws IOException, InterruptedException {
        Tools.require("btrfs");
        Run.Result r = Run.run(List.of("btrfs", "check", "--readonly", img.toString()), null, Map.of(), 300);
        if (r.exitCode() != 0) {
            throw new AssertionError("btrfs check --readonly " + img + " exited " + r.exitCode() + ":\n" + r.stdout()
                    + r.stderr());
        }
        return r.stdout() + r.stderr();
    }

    /** {@code btrfs restore -m -S [-r ROOT] IMG OUT}: btrfs-progs' own reader copies the files out. */
    static Path restore(Path img, long rootId, Path out) throws IOException, InterruptedException {
        Tools.require("btrfs");
        Files.createDirectories(out);
        List<String> cmd = new ArrayList<>(List.of("btrfs", "restore", "-m", "-S"));
        if (rootId > 0) {
            cmd.addAll(List.of("-r", Long.toString(rootId)));
        }
        cmd.addAll(List.of(img.toString(), out.toString()));
        Run.Result r = Run.run(cmd, null, Map.of(), 300);
        if (r.exitCode() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed:\n" + r.stdout() + r.stderr());
        }
        return out;
    }

    /** {@code btrfs inspect-internal dump-tree} of the whole filesystem. */
    static String dumpTree(Path img) throws IOException, InterruptedException {
        Tools.require("btrfs");
        return Run.run(List.of("btrfs", "inspect-internal", "dump-tree", img.toString()), null, Map.of(), 300)
                .stdout();
    }

    static Map<String, String> blkid(Path img) throws IOException, InterruptedException {
        Tools.require("blkid");
        Map<String, String> m = new TreeMap<>();
        for (String line : Run.checked(List.of("blkid", "-p", "-o", "export", img.toString())).stdout().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1).replaceAll("\\\\(.)", "$1"));
            }
        }
        return m;
    }

    /**
     * A sparse copy (cp --sparse=always): the images are mostly holes, and writing their zeros out
     * made the corruption tests spend most of their time copying.
     */
    static Path copy(Path img, Path copy) throws IOException {
        try {
            Run.checked(List.of("cp", "--sparse=always", img.toString(), copy.toString()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while copying " + img, e);
        }
        return copy;
    }

    /** Runs a guestfish script on the given disks (appliance under TCG: slow, so one session per class). */
    static String guestfish(String script, Path... disks) throws IOException, InterruptedException {
        Tools.require("guestfish");
        List<String> cmd = new ArrayList<>(List.of("guestfish", "--no-progress-bars"));
        for (Path d : disks) {
            cmd.addAll(List.of("-a", d.toString()));
        }
        Path scriptFile = Files.createTempFile(disks[0].getParent(), "gf", ".txt");
        Files.writeString(scriptFile, script);
        cmd.addAll(List.of("-f", scriptFile.toString()));
        Run.Result r = Run.run(cmd, null, Map.of("LIBGUESTFS_BACKEND", "direct",
                "LIBGUESTFS_BACKEND_SETTINGS", "force_tcg"), 600);
        if (r.exitCode() != 0) {
            throw new AssertionError("guestfish failed (exit " + r.exitCode() + "):\n" + r.stdout() + r.stderr());
        }
        return r.stdout();
    }
}
