package org.jv2v.convert.linux;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GRUB 2 grub.cfg as grub-mkconfig (or a distribution's stub) writes it: its menu entries with
 * the kernel each boots, how it picks the default, and the edits the converter makes (disk names
 * on the kernel lines, the default entry). Parsed line by line; anything not understood is kept.
 */
final class GrubCfg {
    private static final Set<String> KERNEL_COMMANDS = Set.of("linux", "linux16", "linuxefi", "kernel");
    private static final Pattern SET_DEFAULT = Pattern.compile(
            "(?<![\\w-])set\\s+default=(\"[^\"]*\"|'[^']*'|[^\\s;]*)");

    /**
     * One menu entry (or submenu).
     *
     * @param titles  titles from the top menu down to this entry
     * @param ids     the same with each level's id ({@code --id} / {@code $menuentry_id_option}), or
     *                its title where it has none
     * @param indexes the position at each level, as GRUB numbers them for {@code default=N>M}
     * @param kernel  the kernel the entry boots, its path as written, if it has a linux line
     * @param kernelArgs the rest of that linux line
     * @param line    1-based line of the {@code menuentry}
     */
    record Entry(List<String> titles, List<String> ids, List<Integer> indexes, boolean submenu,
                 Optional<String> kernel, String kernelArgs, int line) {

        /** The kernel version from the path ("/vmlinuz-6.1.0-50-amd64" -> "6.1.0-50-amd64"). */
        Optional<String> kernelVersion() {
            return kernel.map(GrubCfg::versionOf).filter(v -> !v.isEmpty());
        }

        boolean recovery() {
            String t = titles.getLast().toLowerCase(java.util.Locale.ROOT);
            List<String> args = List.of(kernelArgs.split("\\s+"));
            return t.contains("recovery mode") || t.contains("rescue") || args.contains("single")
                    || args.contains("systemd.unit=rescue.target") || args.contains("systemd.unit=emergency.target");
        }

        /** The value that selects this entry in {@code default=} / {@code saved_entry}. */
        String selector() {
            return String.join(">", ids);
        }
    }

    /** How the config picks its default: a literal, or the saved_entry of grubenv. */
    record DefaultRule(boolean saved, Optional<String> literal, int literalLine) {}

    private final String text;
    private final List<Entry> entries;
    private final DefaultRule rule;
    private final boolean blscfg;

    private GrubCfg(String text, List<Entry> entries, DefaultRule rule, boolean blscfg) {
        this.text = text;
        this.entries = entries;
        this.rule = rule;
        this.blscfg = blscfg;
    }

    static GrubCfg parse(String text) {
        TextFile f = TextFile.parse(text);
        List<Entry> entries = new ArrayList<>();
        // frames of open braces: an Entry for menu entries and submenus, null for anything else
        List<Entry> stack = new ArrayList<>();
        List<Integer> counters = new ArrayList<>(List.of(0));
        boolean saved = false;
        Optional<String> literal = Optional.empty();
        int literalLine = -1;
        boolean blscfg = false;
        Entry current = null;
        for (int i = 0; i < f.size(); i++) {
            String line = f.line(i);
            List<String> w = GrubWords.split(line);
            Matcher sd = SET_DEFAULT.matcher(line.strip().startsWith("#") ? "" : line);
            while (sd.find()) {
                String v = unquote(sd.group(1));
                if (v.contains("saved_entry")) {
                    saved = true;
                } else if (!v.contains("$")) {
                    literal = Optional.of(v);
                    literalLine = i + 1;
                }
            }
            if (w.isEmpty()) {
                continue;
            }
            String cmd = w.getFirst();
            if (cmd.equals("blscfg")) {
                blscfg = true;
            }
            if ((cmd.equals("menuentry") || cmd.equals("submenu")) && w.size() >= 2) {
                Entry parent = innermostEntry(stack);
                int depth = parent == null ? 0 : parent.titles().size();
                while (counters.size() <= depth) {
                    counters.add(0);
                }
                int index = counters.get(depth);
                counters.set(depth, index + 1);
                String title = w.get(1);
                String id = title;
                for (int k = 2; k + 1 < w.size(); k++) {
                    if (w.get(k).equals("--id") || w.get(k).equals("$menuentry_id_option")) {
                        id = w.get(k + 1);
                    }
                }
                List<String> titles = new ArrayList<>(parent == null ? List.of() : parent.titles());
                titles.add(title);
                List<String> ids = new ArrayList<>(parent == null ? List.of() : parent.ids());
                ids.add(id);
                List<Integer> idx = new ArrayList<>(parent == null ? List.of() : parent.indexes());
                idx.add(index);
                Entry e = new Entry(titles, ids, idx, cmd.equals("submenu"), Optional.empty(), "", i + 1);
                if (w.getLast().equals("{")) {
                    stack.add(e);
                    // entries inside this submenu count from 0 again
                    while (counters.size() <= depth + 1) {
                        counters.add(0);
                    }
                    counters.set(depth + 1, 0);
                }
                entries.add(e);
                current = cmd.equals("menuentry") ? e : null;
                continue;
            }
            if (KERNEL_COMMANDS.contains(cmd) && w.size() >= 2 && current != null) {
                String args = line.strip();
                args = args.substring(args.indexOf(w.get(1)) + w.get(1).length()).strip();
                Entry withKernel = new Entry(current.titles(), current.ids(), current.indexes(), false,
                        Optional.of(w.get(1)), args, current.line());
                Entry old = current;
                for (int k = 0; k < entries.size(); k++) {
                    if (entries.get(k) == old) {
                        entries.set(k, withKernel);
                    }
                }
                stack.replaceAll(x -> x == old ? withKernel : x);
                current = withKernel;
                continue;
            }
            if (cmd.equals("}")) {
                if (!stack.isEmpty()) {
                    Entry closed = stack.removeLast();
                    if (closed != null && closed == current) {
                        current = null;
                    }
                }
            } else if (w.getLast().equals("{")) {
                stack.add(null);
            }
        }
        return new GrubCfg(text, List.copyOf(entries), new DefaultRule(saved, literal, literalLine), blscfg);
    }

    private static Entry innermostEntry(List<Entry> stack) {
        for (int i = stack.size() - 1; i >= 0; i--) {
            if (stack.get(i) != null) {
                return stack.get(i);
            }
        }
        return null;
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }

    static String versionOf(String kernelPath) {
        String base = kernelPath.substring(kernelPath.lastIndexOf('/') + 1);
        for (String p : List.of("vmlinuz-", "vmlinux-", "kernel-", "bzImage-")) {
            if (base.startsWith(p)) {
                return base.substring(p.length());
            }
        }
        return "";
    }

    List<Entry> entries() {
        return entries;
    }

    /** Entries that boot a kernel (not submenus). */
    List<Entry> bootEntries() {
        return entries.stream().filter(e -> !e.submenu() && e.kernel().isPresent()).toList();
    }

    DefaultRule defaultRule() {
        return rule;
    }

    /** The config reads /boot/loader/entries at boot (RHEL's and Fedora's GRUB). */
    boolean usesBls() {
        return blscfg;
    }

    /** Menu entries exist or BLS is read: this is the real config, not a stub that loads another. */
    boolean isMenu() {
        return blscfg || !entries.isEmpty();
    }

    /**
     * The entry a {@code default=} value selects: "2", "1>0", an id, a title, or a path of them.
     * Empty if nothing matches (GRUB then boots the first entry).
     */
    Optional<Entry> select(String value) {
        if (value.isEmpty()) {
            return first();
        }
        String[] parts = value.split(">");
        List<Entry> level = entries.stream().filter(e -> e.titles().size() == 1).toList();
        Entry found = null;
        for (int k = 0; k < parts.length; k++) {
            String p = parts[k];
            Entry match = null;
            for (Entry e : level) {
                int depth = e.titles().size() - 1;
                if (p.matches("\\d+") && e.indexes().get(depth) == Integer.parseInt(p)
                        || e.ids().get(depth).equals(p) || e.titles().get(depth).equals(p)) {
                    match = e;
                    break;
                }
            }
            if (match == null) {
                return Optional.empty();
            }
            found = match;
            Entry parent = match;
            level = entries.stream().filter(e -> e.titles().size() == parent.titles().size() + 1
                    && e.ids().subList(0, parent.ids().size()).equals(parent.ids())).toList();
        }
        if (found != null && found.submenu()) {
            // a submenu as the default boots its first entry
            Entry sub = found;
            return entries.stream().filter(e -> e.titles().size() == sub.titles().size() + 1
                    && e.ids().subList(0, sub.ids().size()).equals(sub.ids()) && !e.submenu()).findFirst();
        }
        return Optional.ofNullable(found);
    }

    Optional<Entry> first() {
        return entries.stream().filter(e -> !e.submenu()).findFirst();
    }

    /** The normal (not recovery) entry that boots {@code kernelVersion}, top-level ones first. */
    Optional<Entry> entryFor(String kernelVersion) {
        return bootEntries().stream()
                .filter(e -> e.kernelVersion().orElse("").equals(kernelVersion) && !e.recovery())
                .min(java.util.Comparator.comparingInt(e -> e.titles().size()));
    }

    /** Rewrites disk names on the kernel lines (linux, linux16, linuxefi, kernel) outside comments. */
    EditResult remapDevices(DeviceMap map, String path) {
        TextFile f = TextFile.parse(text);
        EditResult.Builder b = new EditResult.Builder();
        for (int i = 0; i < f.size(); i++) {
            String line = f.line(i);
            if (TextFile.isComment(line)) {
                continue;
            }
            List<String> w = GrubWords.split(line);
            if (w.isEmpty() || !(KERNEL_COMMANDS.contains(w.getFirst()) || w.getFirst().equals("set")
                    && w.size() >= 2 && w.get(1).startsWith("kernelopts="))) {
                continue;
            }
            DeviceMap.Remapped r = map.remap(line);
            b.devices(i + 1, r, path);
            f.set(i, r.text());
        }
        return b.build(f.toString());
    }

    /**
     * Makes {@code selector} the literal default ({@code set default="..."} on the line the rule
     * found). Only for configs whose default is a literal.
     */
    EditResult setLiteralDefault(String selector, String why) {
        if (rule.literalLine() < 0) {
            throw new IllegalStateException("no literal default in this grub.cfg");
        }
        TextFile f = TextFile.parse(text);
        String line = f.line(rule.literalLine() - 1);
        Matcher m = SET_DEFAULT.matcher(line);
        StringBuilder out = new StringBuilder();
        String old = null;
        while (m.find()) {
            String v = unquote(m.group(1));
            if (!v.contains("$")) {
                old = v;
                m.appendReplacement(out, Matcher.quoteReplacement("set default=\"" + selector.replace("\"", "\\\"") + "\""));
            }
        }
        m.appendTail(out);
        f.set(rule.literalLine() - 1, out.toString());
        return new EditResult(f.toString(), List.of("line " + rule.literalLine() + ": default \"" + old + "\" -> \""
                + selector + "\" (" + why + ")"), List.of());
    }
}
