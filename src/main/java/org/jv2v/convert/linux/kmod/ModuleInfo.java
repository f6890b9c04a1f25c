package org.jv2v.convert.linux.kmod;

import java.util.ArrayList;
import java.util.List;

/**
 * What depmod learns from one module file: its {@code .modinfo} strings ("alias=pci:v...",
 * "depends=virtio,virtio_ring", "softdep=pre: crc32c"), the symbols it exports and the symbols it
 * needs, each list in the order the ELF file holds them (which fixes depmod's output order).
 */
public record ModuleInfo(List<String> modinfo, List<String> exportedSymbols, List<String> neededSymbols) {

    public ModuleInfo {
        modinfo = List.copyOf(modinfo);
        exportedSymbols = List.copyOf(exportedSymbols);
        neededSymbols = List.copyOf(neededSymbols);
    }

    /** The values of one modinfo key ("alias", "softdep", "depends" ...), in file order. */
    public List<String> values(String key) {
        List<String> out = new ArrayList<>();
        for (String s : modinfo) {
            int eq = s.indexOf('=');
            String k = eq < 0 ? s : s.substring(0, eq);
            if (k.equals(key)) {
                out.add(eq < 0 ? s : s.substring(eq + 1));
            }
        }
        return out;
    }

    /** The module names of "depends=" (modpost's list of direct dependencies). */
    public List<String> depends() {
        List<String> out = new ArrayList<>();
        for (String v : values("depends")) {
            for (String d : v.split(",")) {
                if (!d.isBlank()) {
                    out.add(ModuleNames.normalize(d.trim()));
                }
            }
        }
        return out;
    }

    /** The module names and aliases of "softdep=pre: a b post: c", pre and post alike. */
    public List<String> softdeps() {
        List<String> out = new ArrayList<>();
        for (String v : values("softdep")) {
            for (String word : v.trim().split("\\s+")) {
                if (!word.isEmpty() && !word.endsWith(":")) {
                    out.add(word);
                }
            }
        }
        return out;
    }
}
