package org.jv2v.convert.linux.kmod;

import org.jv2v.BadInputException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes the files {@code depmod -a} writes into {@code /lib/modules/KVER}, for a given set of
 * modules, following depmod's rules (kmod's tools/depmod.c) so that kmod reads the same answers
 * and, in the common case, the very same bytes:
 * <ul>
 * <li>modules are ordered by {@code modules.order}; modules it does not list follow in the order
 * of depmod's module-name hash table, the order depmod itself leaves them in;</li>
 * <li>a module depends on the modules exporting the symbols it needs (the last exporter in
 * module order wins, as in depmod's symbol table); dependencies are listed transitively, ordered
 * by a topological sort done exactly as depmod does it;</li>
 * <li>each index value's priority is the module's position in that order.</li>
 * </ul>
 * A dependency cycle is an error, as it is for depmod. Where a name would resolve to two files,
 * depmod prefers by its search configuration ({@code updates/} first by default): so do we.
 */
public final class Depmod {
    /** The files, in the order depmod writes them. */
    public static final List<String> OUTPUT_FILES = List.of("modules.dep", "modules.dep.bin", "modules.alias",
            "modules.alias.bin", "modules.softdep", "modules.symbols", "modules.symbols.bin", "modules.builtin.bin",
            "modules.builtin.alias.bin", "modules.devname");
    /** Written by kmod 33 and later only; we write it when the target already has one. */
    public static final String WEAKDEP_FILE = "modules.weakdep";

    private Depmod() {}

    /** One module file: its path relative to {@code /lib/modules/KVER} and what its ELF says. */
    public record KernelModule(String relPath, ModuleInfo info) {
        public String name() {
            return ModuleNames.moduleName(relPath);
        }
    }

    /**
     * The inputs besides the modules: the contents of modules.order, modules.builtin and
     * modules.builtin.modinfo of the target tree, each {@code null} when absent.
     */
    public record Input(List<KernelModule> modules, byte[] modulesOrder, byte[] modulesBuiltin,
                        byte[] builtinModinfo, boolean weakdep) {}

    private static final class Mod {
        final KernelModule km;
        final String name;
        int sortIdx;
        int idx;
        int depSortIdx = Integer.MAX_VALUE;
        int users;
        final List<Mod> deps = new ArrayList<>();

        Mod(KernelModule km) {
            this.km = km;
            this.name = km.name();
        }
    }

    /** The generated files by name, in depmod's order. */
    public static Map<String, byte[]> generate(Input in) {
        List<Mod> mods = order(in);
        Map<String, Mod> symbols = new HashMap<>();
        for (Mod m : mods) {
            for (String s : m.km.info().exportedSymbols()) {
                symbols.put(s, m);                 // depmod's hash_add replaces: the last exporter wins
            }
        }
        for (Mod m : mods) {
            for (String s : m.km.info().neededSymbols()) {
                String key = s.startsWith(".") ? s.substring(1) : s;   // PPC64: .foo is foo
                Mod owner = symbols.get(key);
                if (owner != null && !m.deps.contains(owner)) {
                    m.deps.add(owner);
                    owner.users++;
                }
            }
        }
        topologicalSort(mods);

        Map<String, byte[]> out = new LinkedHashMap<>();
        out.put("modules.dep", text(depLines(mods)));
        KmodIndex.Builder depIdx = new KmodIndex.Builder();
        for (Mod m : mods) {
            depIdx.add(m.name, depLine(m), m.idx);
        }
        out.put("modules.dep.bin", depIdx.toBytes());

        StringBuilder aliases = new StringBuilder("# Aliases extracted from modules themselves.\n");
        KmodIndex.Builder aliasIdx = new KmodIndex.Builder();
        for (Mod m : mods) {
            for (String a : m.km.info().values("alias")) {
                aliases.append("alias ").append(a).append(' ').append(m.name).append('\n');
                String norm = ModuleNames.normalizeAlias(a);
                if (norm != null) {
                    aliasIdx.add(norm, m.name, m.idx);
                }
            }
        }
        out.put("modules.alias", text(aliases));
        out.put("modules.alias.bin", aliasIdx.toBytes());

        StringBuilder softdeps = new StringBuilder("# Soft dependencies extracted from modules themselves.\n");
        for (Mod m : mods) {
            for (String s : m.km.info().values("softdep")) {
                softdeps.append("softdep ").append(m.name).append(' ').append(s).append('\n');
            }
        }
        out.put("modules.softdep", text(softdeps));

        StringBuilder symText = new StringBuilder("# Aliases for symbols, used by symbol_request().\n");
        KmodIndex.Builder symIdx = new KmodIndex.Builder();
        TreeMap<String, Mod> inHashOrder = new TreeMap<>(KmodHashOrder.SYMBOLS);
        inHashOrder.putAll(symbols);
        for (var e : inHashOrder.entrySet()) {
            symText.append("alias symbol:").append(e.getKey()).append(' ').append(e.getValue().name).append('\n');
            symIdx.add("symbol:" + e.getKey(), e.getValue().name, e.getValue().idx);
        }
        out.put("modules.symbols", text(symText));
        out.put("modules.symbols.bin", symIdx.toBytes());

        out.put("modules.builtin.bin", builtinIndex(in.modulesBuiltin()));
        out.put("modules.builtin.alias.bin", builtinAliasIndex(in.builtinModinfo()));
        out.put("modules.devname", devnames(mods));
        if (in.weakdep()) {
            StringBuilder weak = new StringBuilder("# Weak dependencies extracted from modules themselves.\n");
            for (Mod m : mods) {
                for (String s : m.km.info().values("weakdep")) {
                    weak.append("weakdep ").append(m.name).append(' ').append(s).append('\n');
                }
            }
            out.put(WEAKDEP_FILE, text(weak));
        }
        return out;
    }

    /** One module per name (updates/ first, as depmod's default search order), then depmod's order. */
    private static List<Mod> order(Input in) {
        Map<String, Mod> byName = new HashMap<>();
        for (KernelModule km : in.modules()) {
            Mod m = new Mod(km);
            Mod old = byName.get(m.name);
            if (old == null || priority(km.relPath()) < priority(old.km.relPath())
                    || priority(km.relPath()) == priority(old.km.relPath())
                    && km.relPath().compareTo(old.km.relPath()) < 0) {
                byName.put(m.name, m);
            }
        }
        List<Mod> mods = new ArrayList<>(byName.values());
        mods.sort(Comparator.comparing((Mod m) -> m.name, KmodHashOrder.MODULES));
        for (Mod m : mods) {
            m.sortIdx = 1;                          // depmod gives every module the same index before sorting
        }
        if (in.modulesOrder() != null) {
            String order = new String(in.modulesOrder(), StandardCharsets.ISO_8859_1);
            List<String> lines = new ArrayList<>(Arrays.asList(order.split("\n", -1)));
            boolean complete = order.isEmpty() || order.endsWith("\n");
            if (complete) {
                lines.removeLast();                 // the empty string after the last newline
                int total = lines.size() + 1;
                Map<String, Mod> byPath = new HashMap<>();
                for (Mod m : mods) {
                    byPath.put(ModuleNames.uncompressedPath(m.km.relPath()), m);
                }
                for (int i = 0; i < lines.size(); i++) {
                    Mod m = byPath.get(lines.get(i));
                    if (m != null) {
                        m.sortIdx = (i + 1) - total;
                    }
                }
                mods.sort(Comparator.comparingInt(m -> m.sortIdx));   // stable, as glibc's qsort (a merge sort) is here
            }
            // A last line without its newline: depmod calls the file corrupted and leaves the order alone.
        }
        for (int i = 0; i < mods.size(); i++) {
            mods.get(i).idx = i;
        }
        return mods;
    }

    private static int priority(String relPath) {
        return relPath.startsWith("updates/") ? 0 : 1;
    }

    /** depmod's topological sort: modules nobody needs first, from a stack. */
    private static void topologicalSort(List<Mod> mods) {
        int n = mods.size();
        int[] users = new int[n];
        int[] roots = new int[n];
        int nRoots = 0;
        for (int i = 0; i < n; i++) {
            users[i] = mods.get(i).users;
            if (users[i] == 0) {
                roots[nRoots++] = i;
            }
        }
        int sorted = 0;
        while (nRoots > 0) {
            Mod src = mods.get(roots[--nRoots]);
            src.depSortIdx = sorted++;
            for (Mod dst : src.deps) {
                if (--users[dst.idx] == 0) {
                    roots[nRoots++] = dst.idx;
                }
            }
        }
        if (sorted < n) {
            List<String> inCycle = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (users[i] > 0) {
                    inCycle.add(mods.get(i).name);
                }
            }
            throw BadInputException.of("kernel modules depend on each other in a cycle (depmod refuses them too): "
                    + String.join(", ", inCycle));
        }
        for (Mod m : mods) {
            m.deps.sort(Comparator.comparingInt(d -> d.depSortIdx));
        }
    }

    private static StringBuilder depLines(List<Mod> mods) {
        StringBuilder b = new StringBuilder();
        for (Mod m : mods) {
            b.append(depLine(m)).append('\n');
        }
        return b;
    }

    /** "path: dep1 dep2", every dependency once, transitively, in topological order. */
    private static String depLine(Mod m) {
        StringBuilder b = new StringBuilder(m.km.relPath()).append(':');
        Set<Mod> all = new LinkedHashSet<>();
        fill(m, all);
        List<Mod> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparingInt(d -> d.depSortIdx));
        for (Mod d : sorted) {
            b.append(' ').append(d.km.relPath());
        }
        return b.toString();
    }

    private static void fill(Mod m, Set<Mod> acc) {
        for (Mod d : m.deps) {
            if (acc.add(d)) {
                fill(d, acc);
            }
        }
    }

    private static byte[] builtinIndex(byte[] modulesBuiltin) {
        if (modulesBuiltin == null) {
            return new byte[0];                     // depmod leaves an empty file when there is no modules.builtin
        }
        KmodIndex.Builder idx = new KmodIndex.Builder();
        for (String line : new String(modulesBuiltin, StandardCharsets.ISO_8859_1).split("\n")) {
            if (line.isEmpty() || !Character.isLetter(line.charAt(0)) || line.charAt(0) > 'z') {
                continue;                           // depmod: "Invalid modules.builtin line", skipped
            }
            idx.add(ModuleNames.moduleName(line), "", 0);
        }
        return idx.toBytes();
    }

    /** modules.builtin.modinfo holds "module.key=value\0" records; the alias ones make the index. */
    private static byte[] builtinAliasIndex(byte[] modinfo) {
        if (modinfo == null) {
            return new byte[0];
        }
        KmodIndex.Builder idx = new KmodIndex.Builder();
        String all = new String(modinfo, StandardCharsets.ISO_8859_1);
        for (String rec : all.split("\0")) {
            int dot = rec.indexOf('.');
            int eq = rec.indexOf('=');
            if (dot <= 0 || eq < dot || !rec.substring(dot + 1, eq).equals("alias") || eq + 1 >= rec.length()) {
                continue;
            }
            String alias = ModuleNames.normalizeAlias(rec.substring(eq + 1));
            if (alias != null) {
                idx.add(alias, rec.substring(0, dot), 0);
            }
        }
        return idx.toBytes();
    }

    private static byte[] devnames(List<Mod> mods) {
        StringBuilder b = new StringBuilder();
        for (Mod m : mods) {
            String devname = null;
            char type = 0;
            long major = 0;
            long minor = 0;
            for (String a : m.km.info().values("alias")) {
                long[] mm;
                if (a.startsWith("devname:")) {
                    devname = a.substring("devname:".length());
                } else if ((mm = majorMinor(a, "char-major-")) != null) {
                    type = 'c';
                    major = mm[0];
                    minor = mm[1];
                } else if ((mm = majorMinor(a, "block-major-")) != null) {
                    type = 'b';
                    major = mm[0];
                    minor = mm[1];
                }
                if (type != 0 && devname != null) {
                    break;
                }
            }
            if (devname != null && type != 0) {
                if (b.isEmpty()) {
                    b.append("# Device nodes to trigger on-demand module loading.\n");
                }
                b.append(m.name).append(' ').append(devname).append(' ').append(type).append(major).append(':')
                        .append(minor).append('\n');
            }
        }
        return text(b);
    }

    /** "char-major-10-237" is {10, 237}; null unless both numbers are there (as sscanf("%u-%u") needs). */
    private static long[] majorMinor(String alias, String prefix) {
        if (!alias.startsWith(prefix)) {
            return null;
        }
        String[] parts = alias.substring(prefix.length()).split("-", 2);
        if (parts.length < 2) {
            return null;
        }
        Long maj = leadingNumber(parts[0], true);
        Long min = leadingNumber(parts[1], false);
        return maj == null || min == null ? null : new long[] {maj, min};
    }

    private static Long leadingNumber(String s, boolean whole) {
        int i = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i == 0 || (whole && i != s.length())) {
            return null;
        }
        return Long.parseLong(s.substring(0, Math.min(i, 9))) & 0xffffffffL;
    }

    private static byte[] text(CharSequence s) {
        return s.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
