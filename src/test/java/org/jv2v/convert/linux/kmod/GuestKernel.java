package org.jv2v.convert.linux.kmod;

import org.junit.jupiter.api.Assumptions;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A Debian kernel's module tree to play the guest: the one {@code linux-image-amd64} installs in
 * {@code /lib/modules} (.ci/run installs the package), used read-only. Tests never write there.
 */
public final class GuestKernel {
    private GuestKernel() {}

    /** {@code /lib/modules/KVER} of a kernel that ships virtio_blk as a module, or the test is skipped (failed in CI). */
    public static Path moduleDir() {
        Optional<Path> found = find();
        if (found.isEmpty()) {
            String msg = "no Debian kernel module tree with virtio modules under /lib/modules (.ci/run installs linux-image-amd64)";
            if (Tools.inCi()) {
                throw new AssertionError(msg);
            }
            System.err.println("NOTICE: skipping: " + msg);
            Assumptions.abort(msg);
        }
        return found.get();
    }

    public static String version() {
        return moduleDir().getFileName().toString();
    }

    /** The kernel image beside the modules, for boot tests. */
    public static Path vmlinuz() {
        Path k = Path.of("/boot/vmlinuz-" + version());
        if (!Files.isReadable(k)) {
            String msg = k + " is missing (.ci/run installs linux-image-amd64)";
            if (Tools.inCi()) {
                throw new AssertionError(msg);
            }
            Assumptions.abort(msg);
        }
        return k;
    }

    private static Optional<Path> find() {
        Path modules = Path.of("/lib/modules");
        if (!Files.isDirectory(modules)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(modules)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("kernel/drivers/block/virtio_blk.ko"))
                            && Files.isRegularFile(p.resolve("modules.dep")))
                    .max(Comparator.comparing(Path::toString));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
