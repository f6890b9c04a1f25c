package org.jv2v.convert.linux.kmod;

import java.util.List;

/** How kmod turns file names and aliases into the keys of its indexes. */
public final class ModuleNames {
    /** The file name endings kmod takes for modules, longest first so stripping is unambiguous. */
    public static final List<String> MODULE_EXTENSIONS = List.of(".ko.zst", ".ko.xz", ".ko.gz", ".ko");

    private ModuleNames() {}

    /** Whether {@code path} names a module file ({@code .ko}, {@code .ko.xz}, {@code .ko.zst}, {@code .ko.gz}). */
    public static boolean isModuleFile(String path) {
        String base = basename(path);
        for (String ext : MODULE_EXTENSIONS) {
            if (base.length() > ext.length() && base.endsWith(ext)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The module name of a path: the base name up to its first dot, dashes made underscores
     * ({@code kernel/drivers/md/dm-mod.ko.xz} is {@code dm_mod}).
     */
    public static String moduleName(String path) {
        return normalize(basename(path));
    }

    /** A module name as given by a user or a softdep: dashes made underscores, cut at a dot. */
    public static String normalize(String name) {
        StringBuilder b = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '.') {
                break;
            }
            b.append(c == '-' ? '_' : c);
        }
        return b.toString();
    }

    /** The path with a compression suffix taken off ({@code x.ko.xz} is {@code x.ko}), as modules.order names modules. */
    static String uncompressedPath(String relPath) {
        for (String ext : MODULE_EXTENSIONS) {
            if (!ext.equals(".ko") && relPath.endsWith(ext)) {
                return relPath.substring(0, relPath.length() - ext.length()) + ".ko";
            }
        }
        return relPath;
    }

    /**
     * An alias as the alias index stores it: dashes outside bracket expressions made underscores;
     * {@code null} if a bracket is unmatched (depmod skips such an alias with a warning).
     */
    public static String normalizeAlias(String alias) {
        StringBuilder b = new StringBuilder(alias.length());
        for (int i = 0; i < alias.length(); i++) {
            char c = alias.charAt(i);
            switch (c) {
                case '-' -> b.append('_');
                case ']' -> {
                    return null;
                }
                case '[' -> {
                    int close = alias.indexOf(']', i);
                    if (close < 0) {
                        return null;
                    }
                    b.append(alias, i, close + 1);
                    i = close;
                }
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    static String basename(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }
}
