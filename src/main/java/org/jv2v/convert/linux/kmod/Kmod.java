package org.jv2v.convert.linux.kmod;

import org.jv2v.BadInputException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a guest kernel's module tree says about virtio: which drivers are built in, which are
 * modules, and which module files (with every dependency, as the guest's own depmod computed
 * them) an initramfs needs to drive virtio devices.
 */
public final class Kmod {
    /** The virtio drivers a converted guest may need, and the SCSI core virtio-scsi disks need. */
    public static final List<String> VIRTIO_MODULES = List.of("virtio", "virtio_ring", "virtio_pci",
            "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_blk", "virtio_scsi", "virtio_net",
            "net_failover", "failover", "virtio_console", "scsi_mod", "sd_mod");
    /**
     * Largest text or binary index read from a module tree: a distribution kernel's modules.alias
     * is under 2 MiB; 64 MiB is far beyond any real one.
     */
    public static final int MAX_INDEX_BYTES = 64 << 20;

    private Kmod() {}

    /** How the kernel provides a driver. */
    public enum Availability { BUILTIN, MODULE, ABSENT }

    /** For each of {@link #VIRTIO_MODULES}, how this kernel provides it. */
    public record VirtioSupport(String kernelVersion, Map<String, Availability> drivers) {
        public Availability of(String module) {
            return drivers.getOrDefault(ModuleNames.normalize(module), Availability.ABSENT);
        }

        /** The kernel can reach a virtio-blk disk: virtio_pci and virtio_blk exist, built in or as modules. */
        public boolean canBootVirtioBlk() {
            return of("virtio_pci") != Availability.ABSENT && of("virtio_blk") != Availability.ABSENT;
        }

        public boolean canBootVirtioScsi() {
            return of("virtio_pci") != Availability.ABSENT && of("virtio_scsi") != Availability.ABSENT
                    && of("sd_mod") != Availability.ABSENT;
        }

        /** Nothing to add to an initramfs for virtio-blk: the drivers are part of the kernel. */
        public boolean virtioBlkBuiltin() {
            return of("virtio_pci") == Availability.BUILTIN && of("virtio_blk") == Availability.BUILTIN;
        }
    }

    /** The modules to copy into an initramfs for a set of wanted drivers. */
    public record Selection(String kernelVersion, List<String> modulePaths, List<String> builtin, List<String> absent) {}

    /** The kernel has virtio-pci and virtio-blk built in, so its initramfs needs nothing for them. */
    public static boolean builtinHasVirtio(ModuleTree tree) throws IOException {
        return virtioSupport(tree).virtioBlkBuiltin();
    }

    public static VirtioSupport virtioSupport(ModuleTree tree) throws IOException {
        Set<String> builtin = builtinNames(tree);
        Map<String, String> paths = moduleDeps(tree).paths();
        Map<String, Availability> out = new LinkedHashMap<>();
        for (String m : VIRTIO_MODULES) {
            out.put(m, builtin.contains(m) ? Availability.BUILTIN
                    : paths.containsKey(m) ? Availability.MODULE : Availability.ABSENT);
        }
        return new VirtioSupport(tree.kernelVersion(), out);
    }

    /**
     * The module files (paths relative to the tree) that {@code wanted} needs: each wanted module
     * that is not built in, every module it depends on (from the guest's modules.dep), and their
     * soft dependencies named as modules (from modules.softdep). Dependencies come first.
     */
    public static Selection select(ModuleTree tree, Collection<String> wanted) throws IOException {
        Set<String> builtin = builtinNames(tree);
        DepTable deps = moduleDeps(tree);
        Map<String, List<String>> softdeps = softdeps(tree);
        LinkedHashSet<String> paths = new LinkedHashSet<>();
        List<String> builtinHit = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        List<String> queue = new ArrayList<>();
        for (String w : wanted) {
            queue.add(ModuleNames.normalize(w));
        }
        for (int i = 0; i < queue.size(); i++) {
            String name = queue.get(i);
            if (!seen.add(name)) {
                continue;
            }
            if (builtin.contains(name)) {
                builtinHit.add(name);
                continue;
            }
            String path = deps.paths().get(name);
            if (path == null) {
                absent.add(name);
                continue;
            }
            for (String d : deps.deps().get(name)) {
                paths.add(d);
                queue.add(ModuleNames.moduleName(d));
            }
            paths.add(path);
            for (String s : softdeps.getOrDefault(name, List.of())) {
                if (deps.paths().containsKey(s) || builtin.contains(s)) {
                    queue.add(s);
                }
            }
        }
        // Dependencies before their users: a module's modules.dep line lists them all already.
        List<String> ordered = new ArrayList<>();
        Set<String> placed = new HashSet<>();
        for (String p : paths) {
            place(p, deps, paths, placed, ordered);
        }
        return new Selection(tree.kernelVersion(), ordered, builtinHit, absent);
    }

    private static void place(String path, DepTable deps, Set<String> chosen, Set<String> placed, List<String> out) {
        if (placed.contains(path)) {
            return;
        }
        placed.add(path);
        for (String d : deps.deps().getOrDefault(ModuleNames.moduleName(path), List.of())) {
            if (chosen.contains(d)) {
                place(d, deps, chosen, placed, out);
            }
        }
        out.add(path);
    }

    /** Module names listed in modules.builtin. */
    public static Set<String> builtinNames(ModuleTree tree) throws IOException {
        Set<String> names = new HashSet<>();
        Optional<byte[]> b = tree.read("modules.builtin", MAX_INDEX_BYTES);
        if (b.isPresent()) {
            for (String line : new String(b.get(), StandardCharsets.ISO_8859_1).split("\n")) {
                if (!line.isBlank()) {
                    names.add(ModuleNames.moduleName(line.trim()));
                }
            }
        } else {
            Optional<byte[]> bin = tree.read("modules.builtin.bin", MAX_INDEX_BYTES);
            if (bin.isPresent()) {
                names.addAll(KmodIndex.read(bin.get(), tree.describe() + "/modules.builtin.bin").keySet());
            }
        }
        return names;
    }

    /** modules.dep of a tree: module name to path, and to the paths of all its dependencies. */
    record DepTable(Map<String, String> paths, Map<String, List<String>> deps) {}

    static DepTable moduleDeps(ModuleTree tree) throws IOException {
        Map<String, String> paths = new LinkedHashMap<>();
        Map<String, List<String>> deps = new LinkedHashMap<>();
        Optional<byte[]> text = tree.read("modules.dep", MAX_INDEX_BYTES);
        List<String> lines = new ArrayList<>();
        String file;
        if (text.isPresent()) {
            file = tree.describe() + "/modules.dep";
            lines.addAll(List.of(new String(text.get(), StandardCharsets.ISO_8859_1).split("\n")));
        } else {
            file = tree.describe() + "/modules.dep.bin";
            byte[] bin = tree.read("modules.dep.bin", MAX_INDEX_BYTES).orElseThrow(() -> BadInputException.of(
                    tree.describe() + ": neither modules.dep nor modules.dep.bin: depmod never ran for this kernel"));
            for (List<KmodIndex.Value> vs : KmodIndex.read(bin, file).values()) {
                vs.forEach(v -> lines.add(v.value()));
            }
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw BadInputException.of(file + ":" + (i + 1) + ": no ':' after the module path");
            }
            String path = line.substring(0, colon).trim();
            if (path.startsWith("/") || ("/" + path + "/").contains("/../")) {
                throw BadInputException.of(file + ":" + (i + 1) + ": module path '" + path + "' leaves the module folder");
            }
            List<String> d = new ArrayList<>();
            for (String s : line.substring(colon + 1).trim().split("\\s+")) {
                if (!s.isEmpty()) {
                    d.add(s);
                }
            }
            String name = ModuleNames.moduleName(path);
            paths.putIfAbsent(name, path);
            deps.putIfAbsent(name, d);
        }
        return new DepTable(paths, deps);
    }

    /** modules.softdep: "softdep NAME pre: a b post: c" lines; the module names mentioned. */
    private static Map<String, List<String>> softdeps(ModuleTree tree) throws IOException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Optional<byte[]> b = tree.read("modules.softdep", MAX_INDEX_BYTES);
        if (b.isEmpty()) {
            return out;
        }
        for (String line : new String(b.get(), StandardCharsets.ISO_8859_1).split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length < 3 || !w[0].equals("softdep")) {
                continue;
            }
            List<String> names = out.computeIfAbsent(ModuleNames.normalize(w[1]), k -> new ArrayList<>());
            for (int i = 2; i < w.length; i++) {
                if (!w[i].endsWith(":")) {
                    names.add(ModuleNames.normalize(w[i]));
                }
            }
        }
        return out;
    }
}
