package org.jv2v.convert.linux.kmod;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;

/** Builds small module trees from the guest kernel's, and reads trees the way jv2v's depmod wants them. */
public final class ModuleFixtures {
    private ModuleFixtures() {}

    /** How a copied module is stored. */
    public enum Packing { PLAIN, XZ, ZSTD, GZIP }

    /**
     * Copies the given modules (paths relative to the guest tree) into {@code root/lib/modules/KVER},
     * compressed by the real tools as requested, with the guest's modules.builtin and
     * modules.builtin.modinfo and (optionally) modules.order. Returns the new tree's folder.
     */
    public static Path copyTree(Path guest, Collection<String> relPaths, Path root, boolean withOrder,
                                java.util.function.Function<String, Packing> packing) throws IOException, InterruptedException {
        Path dir = root.resolve("lib/modules").resolve(guest.getFileName().toString());
        Files.createDirectories(dir);
        for (String rel : relPaths) {
            Path dst = dir.resolve(rel);
            Files.createDirectories(dst.getParent());
            Files.copy(guest.resolve(rel), dst);
            switch (packing.apply(rel)) {
                case PLAIN -> { }
                case XZ -> Tools.run("xz", "--check=crc32", dst.toString());
                case ZSTD -> Tools.run("zstd", "-q", "--rm", dst.toString());
                case GZIP -> Tools.run("gzip", "-n", dst.toString());
            }
        }
        for (String f : withOrder ? List.of("modules.order", "modules.builtin", "modules.builtin.modinfo")
                : List.of("modules.builtin", "modules.builtin.modinfo")) {
            Files.copy(guest.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    /** Every module file under a tree, as jv2v's depmod takes them. */
    public static List<Depmod.KernelModule> modulesOf(Path dir) throws IOException {
        List<Depmod.KernelModule> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir, java.nio.file.FileVisitOption.FOLLOW_LINKS)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile).sorted()::iterator) {
                String rel = dir.relativize(p).toString();
                if (ModuleNames.isModuleFile(rel)) {
                    out.add(new Depmod.KernelModule(rel, ElfModule.read(Files.readAllBytes(p), p.toString())));
                }
            }
        }
        return out;
    }

    public static Depmod.Input inputOf(Path dir) throws IOException {
        return new Depmod.Input(modulesOf(dir), readIfExists(dir.resolve("modules.order")),
                readIfExists(dir.resolve("modules.builtin")), readIfExists(dir.resolve("modules.builtin.modinfo")),
                false);
    }

    public static byte[] readIfExists(Path p) throws IOException {
        return Files.exists(p) ? Files.readAllBytes(p) : null;
    }

    /** The guest's modules.dep line of a module: its path and every dependency. */
    public static List<String> withDependencies(Path guest, String... names) throws IOException {
        return Kmod.select(ModuleTree.ofDirectory(guest), List.of(names)).modulePaths();
    }

    /** Runs the real depmod on a tree under {@code root}. */
    public static void depmod(Path root, String kver) throws IOException, InterruptedException {
        Tools.require("depmod");
        Run.checked(List.of("depmod", "-b", root.toString(), kver));
    }
}
