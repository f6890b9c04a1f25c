package org.jv2v.convert.linux.initramfs;

import org.jv2v.convert.linux.kmod.GuestKernel;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Initramfs images made by the real tools at test time, all without any virtio module: Debian's
 * mkinitramfs (MODULES=list: ext4 and the SATA/SCSI drivers a VMware-like guest boots from), its
 * archive compressed again by gzip, xz, zstd, lz4, bzip2 and lzma exactly as mkinitramfs pipes it,
 * and a fake early microcode archive made by cpio in front.
 */
final class InitramfsFixtures {
    /** The modules a VMware-built Debian guest's initramfs would hold for its disk (no virtio). */
    static final List<String> GUEST_MODULES = List.of("ext4", "sd_mod", "ata_piix", "mptspi", "vmw_pvscsi");

    private InitramfsFixtures() {}

    /** mkinitramfs's image for the guest kernel, gzip-compressed, built in {@code dir}. */
    static Path mkinitramfs(Path dir) throws IOException, InterruptedException {
        Tools.require("mkinitramfs", "cpio");
        Path conf = dir.resolve("initramfs-tools");
        for (String d : List.of("conf.d", "hooks", "scripts")) {
            Files.createDirectories(conf.resolve(d));
        }
        Files.writeString(conf.resolve("initramfs.conf"), """
                MODULES=list
                BUSYBOX=auto
                KEYMAP=n
                COMPRESS=gzip
                FSTYPE=ext4
                RUNSIZE=10%
                """);
        Files.writeString(conf.resolve("modules"), String.join("\n", GUEST_MODULES) + "\n");
        Path out = dir.resolve("initrd.img-gzip");
        Run.Result r = Run.run(List.of("mkinitramfs", "-d", conf.toString(), "-o", out.toString(), GuestKernel.version()),
                null, Map.of(), 300);
        if (r.exitCode() != 0) {
            throw new AssertionError("mkinitramfs failed: " + r.all());
        }
        return out;
    }

    /** The uncompressed cpio stream inside a single-part gzip image. */
    static byte[] gunzip(Path gz) throws IOException, InterruptedException {
        Path raw = gz.resolveSibling(gz.getFileName() + ".cpio");
        shell("gzip -dc < '" + gz + "' > '" + raw + "'");
        return Files.readAllBytes(raw);
    }

    /**
     * An image: optionally the early archive, then {@code main} compressed by the real tool with
     * the options mkinitramfs uses ("none" leaves it uncompressed).
     */
    static Path compose(Path dir, String name, byte[] early, byte[] mainCpio, String compressor)
            throws IOException, InterruptedException {
        Path cpio = dir.resolve(name + ".main.cpio");
        Files.write(cpio, mainCpio);
        Path compressed = dir.resolve(name + ".main.z");
        String cmd = switch (compressor) {
            case "gzip" -> "gzip -n -9 -c";
            case "xz" -> "xz --check=crc32 -c";
            case "zstd" -> "zstd -q -1 -T0 -c";
            case "lz4" -> "lz4 -9 -l -c";
            case "bzip2" -> "bzip2 -9 -c";
            case "lzma" -> "lzma -9 -c";
            case "none" -> "cat";
            default -> throw new IllegalArgumentException(compressor);
        };
        shell(cmd + " < '" + cpio + "' > '" + compressed + "'");
        Path img = dir.resolve(name);
        try (var out = Files.newOutputStream(img)) {
            if (early != null) {
                out.write(early);
            }
            out.write(Files.readAllBytes(compressed));
        }
        return img;
    }

    /** An early archive as distributions make it: kernel/x86/microcode/GenuineIntel.bin by cpio -H newc. */
    static byte[] earlyMicrocode(Path dir) throws IOException, InterruptedException {
        Path root = dir.resolve("early-root");
        Files.createDirectories(root.resolve("kernel/x86/microcode"));
        byte[] blob = new byte[12345];
        new java.util.Random(7).nextBytes(blob);
        Files.write(root.resolve("kernel/x86/microcode/GenuineIntel.bin"), blob);
        Path out = dir.resolve("early.cpio");
        shell("cd '" + root + "' && find . kernel kernel/x86 kernel/x86/microcode kernel/x86/microcode/GenuineIntel.bin"
                + " -maxdepth 0 | cpio -o -H newc --reproducible --quiet > '" + out + "'");
        return Files.readAllBytes(out);
    }

    /** What lsinitramfs lists, sorted (its order follows the archive). */
    static List<String> lsinitramfs(Path img) throws IOException, InterruptedException {
        Tools.require("lsinitramfs");
        Run.Result r = Run.run(List.of("lsinitramfs", img.toString()), null, Map.of(), 120);
        if (r.exitCode() != 0) {
            throw new AssertionError("lsinitramfs failed on " + img + ": " + r.all());
        }
        List<String> lines = new ArrayList<>(r.stdout().lines().toList());
        lines.sort(null);
        return lines;
    }

    static void shell(String command) throws IOException, InterruptedException {
        Run.Result r = Run.run(List.of("sh", "-c", command), null, Map.of(), 300);
        if (r.exitCode() != 0) {
            throw new AssertionError("failed (" + r.exitCode() + "): " + command + "\n" + r.all());
        }
    }
}
