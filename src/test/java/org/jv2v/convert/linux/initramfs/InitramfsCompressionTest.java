package org.jv2v.convert.linux.initramfs;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import org.jv2v.convert.linux.compress.Compression;
import org.jv2v.convert.linux.kmod.Depmod;
import org.jv2v.convert.linux.kmod.GuestKernel;
import org.jv2v.convert.linux.kmod.Kmod;
import org.jv2v.convert.linux.kmod.ModuleFixtures;
import org.jv2v.convert.linux.kmod.ModuleFixtures.Packing;
import org.jv2v.convert.linux.kmod.ModuleTree;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every compression the kernel reads, on a small initramfs made by the real tools (GNU cpio, the
 * real depmod, gzip/xz/zstd/lz4/bzip2/lzma with mkinitramfs's options) behind an early microcode
 * archive: the early archive survives byte for byte, the main archive is rewritten with the same
 * compression, initramfs-tools lists and extracts it as before plus the new files, hard links stay
 * hard links, and the real depmod agrees with the index files.
 */
class InitramfsCompressionTest {

    @ParameterizedTest(name = "{0}, cpio -H {1}, modules {2}")
    @CsvSource({
            "gzip, newc, PLAIN",         // Debian/Ubuntu modules are plain .ko
            "xz, newc, XZ",              // RHEL ships .ko.xz
            "zstd, newc, ZSTD",          // Fedora ships .ko.zst
            "lz4, crc, PLAIN",
            "bzip2, newc, PLAIN",
            "lzma, newc, PLAIN",
            "none, newc, PLAIN",
    })
    void roundTrips(String compressor, String cpioFormat, Packing packing, @TempDir Path tmp) throws Exception {
        Tools.require("cpio", "depmod", "lsinitramfs", "unmkinitramfs", compressor.equals("none") ? "cat" : compressor);
        String kver = GuestKernel.version();
        List<String> virtio = ModuleFixtures.withDependencies(GuestKernel.moduleDir(),
                Kmod.VIRTIO_MODULES.toArray(String[]::new));

        Guest g = guest(packing);
        ModuleTree guest = ModuleTree.ofDirectory(g.tree());
        Path guestTree = g.tree();
        Path mainCpio = mainArchive(packing, cpioFormat);
        byte[] early = InitramfsFixtures.earlyMicrocode(tmp);
        Path original = InitramfsFixtures.compose(tmp, "initrd.img", early, Files.readAllBytes(mainCpio), compressor);
        byte[] before = Files.readAllBytes(original);

        VirtioInitramfs.Result r = VirtioInitramfs.addDrivers(before, original.toString(), guest, Kmod.VIRTIO_MODULES);

        Compression expected = switch (compressor) {
            case "gzip" -> Compression.GZIP;
            case "xz" -> Compression.XZ;
            case "zstd" -> Compression.ZSTD;
            case "lz4" -> Compression.LZ4_LEGACY;
            case "bzip2" -> Compression.BZIP2;
            case "lzma" -> Compression.LZMA;
            default -> Compression.NONE;
        };
        assertThat(r.changed()).isTrue();
        assertThat(r.compression()).isEqualTo(expected);
        byte[] after = r.image();
        assertThat(Arrays.copyOf(after, early.length)).as("early archive byte for byte").isEqualTo(early);
        assertThat(r.plan()).anyMatch(l -> l.contains("early microcode") && l.contains("keep"));
        if (expected != Compression.NONE) {
            assertThat(Compression.detect(after, early.length, after.length - early.length)).isEqualTo(expected);
            Path part = tmp.resolve("part");
            Files.write(part, Arrays.copyOfRange(after, early.length, after.length));
            InitramfsFixtures.shell(switch (compressor) {
                case "lz4" -> "lz4 -t < '" + part + "'";
                case "lzma" -> "xz --format=lzma -t < '" + part + "'";
                default -> compressor + " -t < '" + part + "'";
            });
        }
        Path edited = tmp.resolve("initrd.img-edited");
        Files.write(edited, after);

        // initramfs-tools' unmkinitramfs cannot read an image whose main archive is not compressed:
        // GNU cpio lists and extracts that one, from where the early archive ends.
        boolean plainCpio = expected == Compression.NONE;
        List<String> listing = new ArrayList<>(plainCpio ? cpioList(original, early.length) : InitramfsFixtures.lsinitramfs(original));
        listing.addAll(r.addedFiles());
        listing.sort(null);
        assertThat(plainCpio ? cpioList(edited, early.length) : InitramfsFixtures.lsinitramfs(edited)).isEqualTo(listing);

        Path x = plainCpio ? cpioExtract(edited, early.length, tmp.resolve("x"))
                : InitramfsEditorTest.unpack(edited, tmp.resolve("x"));
        Path modDir = x.resolve("usr/lib/modules/" + kver);
        for (String rel : virtio) {
            String stored = rel + (packing == Packing.XZ ? ".xz" : packing == Packing.ZSTD ? ".zst" : "");
            assertThat(modDir.resolve(stored)).as(stored).exists();
            assertThat(Files.readAllBytes(modDir.resolve(stored))).as(stored)
                    .isEqualTo(Files.readAllBytes(guestTree.resolve(stored)));
        }
        assertThat(Files.isSameFile(x.resolve("etc/hard1"), x.resolve("etc/hard2"))).as("hard link kept").isTrue();
        assertThat(Files.readString(x.resolve("etc/hard2"))).isEqualTo("the same file under two names\n");

        // The real depmod over the unpacked result writes what we wrote.
        Path check = tmp.resolve("check");
        Files.createDirectories(check);
        Run.checked(List.of("cp", "-a", x.resolve("usr").toString(), check.resolve("usr").toString()));
        ModuleFixtures.depmod(check.resolve("usr"), kver);
        for (String f : Depmod.OUTPUT_FILES) {
            assertThat(Files.readAllBytes(modDir.resolve(f))).as(f)
                    .isEqualTo(Files.readAllBytes(check.resolve("usr/lib/modules/" + kver + "/" + f)));
        }
        assertThat(InitramfsEditorTest.resolveAlias(x, kver, "virtio:d00000002v00001AF4")).isEqualTo("virtio_blk");
        assertThat(Files.readAllBytes(original)).isEqualTo(before);
    }

    @TempDir
    static Path shared;
    private static final Map<Packing, Guest> GUESTS = new HashMap<>();
    private static final Map<String, Path> MAIN_ARCHIVES = new HashMap<>();

    /** A guest module tree: the disk drivers and the virtio family, packed as asked, indexed by the real depmod. */
    record Guest(Path tree, List<String> initial) {}

    static synchronized Guest guest(Packing packing) throws Exception {
        Guest g = GUESTS.get(packing);
        if (g == null) {
            Path guestDir = GuestKernel.moduleDir();
            List<String> initial = ModuleFixtures.withDependencies(guestDir, "sd_mod", "ata_piix");
            LinkedHashSet<String> all = new LinkedHashSet<>(initial);
            all.addAll(ModuleFixtures.withDependencies(guestDir, Kmod.VIRTIO_MODULES.toArray(String[]::new)));
            Path root = shared.resolve("guest-" + packing);
            Path tree = ModuleFixtures.copyTree(guestDir, all, root, true, rel -> packing);
            ModuleFixtures.depmod(root, guestDir.getFileName().toString());
            g = new Guest(tree, initial);
            GUESTS.put(packing, g);
        }
        return g;
    }

    /**
     * The guest's main initramfs archive, made as mkinitramfs makes it ("find . | sort | cpio -o"):
     * /init, lib -> usr/lib, two hard-linked names, the disk drivers indexed by the real depmod.
     */
    static synchronized Path mainArchive(Packing packing, String cpioFormat) throws Exception {
        String key = packing + "-" + cpioFormat;
        Path cached = MAIN_ARCHIVES.get(key);
        if (cached != null) {
            return cached;
        }
        Path guestDir = GuestKernel.moduleDir();
        Path root = shared.resolve("root-" + key);
        ModuleFixtures.copyTree(guestDir, guest(packing).initial(), root.resolve("usr"), true, rel -> packing);
        ModuleFixtures.depmod(root.resolve("usr"), guestDir.getFileName().toString());
        Files.writeString(root.resolve("init"), "#!/bin/sh\nexec /sbin/init\n");
        Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/hard1"), "the same file under two names\n");
        Files.createLink(root.resolve("etc/hard2"), root.resolve("etc/hard1"));
        Path mainCpio = shared.resolve("main-" + key + ".cpio");
        InitramfsFixtures.shell("cd '" + root + "' && find . | LC_ALL=C sort | cpio --quiet -R 0:0 -o -H " + cpioFormat
                + " > '" + mainCpio + "'");
        MAIN_ARCHIVES.put(key, mainCpio);
        return mainCpio;
    }

    private static List<String> cpioList(Path img, int skip) throws Exception {
        Run.Result r = Run.run(List.of("sh", "-c", "tail -c +" + (skip + 1) + " '" + img + "' | cpio -t --quiet"));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        List<String> early = Run.run(List.of("sh", "-c", "head -c " + skip + " '" + img + "' | cpio -t --quiet"))
                .stdout().lines().toList();
        List<String> out = new ArrayList<>(early);
        out.addAll(r.stdout().lines().toList());
        out.sort(null);
        return out;
    }

    private static Path cpioExtract(Path img, int skip, Path dir) throws Exception {
        Files.createDirectories(dir);
        InitramfsFixtures.shell("cd '" + dir + "' && tail -c +" + (skip + 1) + " '" + img + "' | cpio -id --quiet");
        return dir;
    }
}
