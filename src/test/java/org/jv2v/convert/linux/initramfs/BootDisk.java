package org.jv2v.convert.linux.initramfs;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

/**
 * A tiny ext4 root for boot tests: busybox with its libraries and an /sbin/init that prints a
 * marker with the kernel command line and powers off. Booted with QEMU (TCG) on virtio-blk.
 */
final class BootDisk {
    static final String MARKER = "JV2V-BOOT-OK";

    private BootDisk() {}

    static Path make(Path dir) throws IOException, InterruptedException {
        Path root = dir.resolve("rootfs");
        for (String d : List.of("sbin", "bin", "proc", "sys", "dev", "run")) {  // switch_root moves these mounts
            Files.createDirectories(root.resolve(d));
        }
        Path busybox = Path.of(Run.checked(List.of("sh", "-c", "command -v busybox")).stdout().trim()).toRealPath();
        Files.copy(busybox, root.resolve("bin/busybox"));
        // The dynamic loader and libraries busybox needs, at the paths the loader looks for them.
        for (String line : Run.checked(List.of("ldd", busybox.toString())).stdout().lines().toList()) {
            String lib = line.contains("=>") ? line.substring(line.indexOf("=>") + 2).trim() : line.trim();
            lib = lib.replaceAll("\\s*\\(0x[0-9a-f]+\\)$", "");
            if (lib.startsWith("/")) {
                Path dst = root.resolve(lib.substring(1));
                Files.createDirectories(dst.getParent());
                Files.copy(Path.of(lib).toRealPath(), dst);
            }
        }
        // systemd in an initramfs switches only into a root that has an os-release.
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/os-release"), "ID=jv2v-boot-disk\nNAME=\"jv2v boot disk\"\n");
        Path init = root.resolve("sbin/init");
        Files.writeString(init, """
                #!/bin/busybox sh
                /bin/busybox mount -t proc proc /proc
                /bin/busybox echo "%s $(/bin/busybox cat /proc/cmdline)"
                /bin/busybox poweroff -f
                """.formatted(MARKER).replace("$(/bin/busybox cat /proc/cmdline)",
                "$(/bin/busybox cat /proc/cmdline | /bin/busybox sed 's/.*\\(root=[^ ]*\\).*/\\1/')"));
        init.toFile().setExecutable(true, false);
        Path disk = dir.resolve("root.ext4");
        Tools.run("truncate", "-s", "16M", disk.toString());
        Tools.run("mkfs.ext4", "-q", "-d", root.toString(), "-L", "jv2vroot", disk.toString());
        return disk;
    }

    /** Boots in the background; the future gives the serial console's output. */
    static Future<String> boot(Path kernel, Path initrd, Path disk) {
        return boot(kernel, initrd, disk, "");
    }

    /** As {@link #boot(Path, Path, Path)} with more kernel arguments. */
    static Future<String> boot(Path kernel, Path initrd, Path disk, String extraArgs) {
        return boot(kernel, initrd, disk, extraArgs, 300);
    }

    /** As {@link #boot(Path, Path, Path, String)} with another limit for the whole boot. */
    static Future<String> boot(Path kernel, Path initrd, Path disk, String extraArgs, int timeoutSeconds) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                Run.Result r = Run.run(List.of("qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-nographic",
                        "-no-reboot", "-net", "none", "-snapshot", "-kernel", kernel.toString(), "-initrd", initrd.toString(),
                        "-append", ("console=ttyS0 root=/dev/vda panic=-1 " + extraArgs).trim(),
                        "-drive", "file=" + disk + ",if=virtio,format=raw"), null, Map.of(), timeoutSeconds);
                return r.stdout() + r.stderr();
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
