package org.jv2v.fs.xfs;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * An image mounted by the host's own XFS driver on a loop device (root only): the kernel as the
 * oracle of what jv2v wrote. Read-only mounts use norecovery, so the kernel reads exactly what is
 * on disk and never replays or writes anything.
 */
final class XfsMount implements AutoCloseable {
    final Path dir;
    private boolean mounted;

    private XfsMount(Path dir) {
        this.dir = dir;
    }

    /** Skips (fails in CI) unless loop mounts of XFS are possible: root, mount, an XFS driver. */
    static void require() throws Exception {
        Tools.require("mount", "umount", "losetup", "setfattr", "getfattr", "xfs_io");
        String why = null;
        if (!"0".equals(Run.run(List.of("id", "-u")).stdout().strip())) {
            why = "mounting XFS images on loop devices needs root";
        } else if (!Files.readString(Path.of("/proc/filesystems")).contains("\txfs")
                && Run.run(List.of("modprobe", "xfs")).exitCode() != 0) {
            why = "the host kernel has no XFS driver";
        }
        if (why != null) {
            if (Tools.inCi()) {
                throw new AssertionError(why);
            }
            System.err.println("NOTICE: skipping: " + why);
            Assumptions.abort(why);
        }
    }

    static XfsMount readOnly(Path image, Path dir) throws Exception {
        return mount(image, dir, "loop,ro,norecovery,nouuid");
    }

    static XfsMount readWrite(Path image, Path dir) throws Exception {
        return mount(image, dir, "loop,nouuid");
    }

    private static XfsMount mount(Path image, Path dir, String options) throws Exception {
        Files.createDirectories(dir);
        XfsMount m = new XfsMount(dir);
        Run.Result r = Run.run(List.of("mount", "-t", "xfs", "-o", options, image.toString(), dir.toString()), null,
                Map.of(), 120);
        if (r.exitCode() != 0) {
            String dmesg = Run.run(List.of("dmesg")).stdout();
            throw new AssertionError("mount -o " + options + " " + image + " failed:\n" + r.all() + "\n"
                    + dmesg.substring(Math.max(0, dmesg.length() - 2000)));
        }
        m.mounted = true;
        return m;
    }

    Path path(String p) {
        return dir.resolve(p.substring(1));
    }

    /** A value as getfattr prints it, or null when the file has no such attribute. */
    String xattr(String p, String name) throws Exception {
        Run.Result r = Run.run(List.of("getfattr", "-h", "--only-values", "-n", name, path(p).toString()), null,
                Map.of(), 60);
        return r.exitCode() == 0 ? r.stdout() : null;
    }

    void sh(String script) throws Exception {
        Run.Result r = Run.run(List.of("sh", "-ec", script), dir, Map.of(), 300);
        if (r.exitCode() != 0) {
            throw new AssertionError("in " + dir + ": " + script + "\n" + r.all());
        }
    }

    @Override
    public void close() throws Exception {
        if (mounted) {
            mounted = false;
            Run.Result r = Run.run(List.of("umount", dir.toString()), null, Map.of(), 120);
            if (r.exitCode() != 0) {
                throw new AssertionError("umount " + dir + " failed: " + r.all());
            }
        }
    }
}
