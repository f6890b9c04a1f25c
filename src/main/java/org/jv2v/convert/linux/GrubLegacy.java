package org.jv2v.convert.linux;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A legacy GRUB (0.97) menu: /boot/grub/menu.lst (Debian, SUSE) or /boot/grub/grub.conf (RHEL 5
 * and 6). Entries start at {@code title}; {@code kernel} lines carry the command line;
 * {@code default} is an entry number. Debian's update-grub also keeps its settings in comments
 * ({@code # kopt=root=/dev/hda1 ro}) that it copies into each entry, and RHEL's installer names the disk
 * GRUB is installed on ({@code #boot=/dev/sda}), which grubby reads: those are device references too.
 */
final class GrubLegacy {
    private static final Pattern DEFAULT = Pattern.compile("^(\\s*default)(\\s*=\\s*|\\s+)(\\S+)(.*)$");
    /** Settings kept in comments: Debian's update-grub options, anaconda's boot disk ({@code #boot=/dev/sda}). */
    private static final Pattern KOPT = Pattern.compile("^#\\s*(kopt|kopt_2_6|altoptions|xenkopt|boot)=.*");

    /** One {@code title} entry: its number, title and kernel line. */
    record Entry(int index, String title, Optional<String> kernel, String args, int line) {
        Optional<String> kernelVersion() {
            return kernel.map(GrubCfg::versionOf).filter(v -> !v.isEmpty());
        }

        boolean recovery() {
            String t = title.toLowerCase(java.util.Locale.ROOT);
            return t.contains("single-user") || t.contains("recovery") || List.of(args.split("\\s+")).contains("single");
        }
    }

    private final String text;
    private final List<Entry> entries;
    private final Optional<String> defaultValue;

    private GrubLegacy(String text, List<Entry> entries, Optional<String> defaultValue) {
        this.text = text;
        this.entries = entries;
        this.defaultValue = defaultValue;
    }

    static GrubLegacy parse(String text) {
        TextFile f = TextFile.parse(text);
        List<Entry> entries = new ArrayList<>();
        Optional<String> def = Optional.empty();
        for (int i = 0; i < f.size(); i++) {
            String line = f.line(i);
            if (TextFile.isComment(line)) {
                continue;
            }
            String t = line.strip();
            Matcher d = DEFAULT.matcher(line);
            if (entries.isEmpty() && d.matches()) {
                def = Optional.of(d.group(3));
                continue;
            }
            String[] w = t.split("[\\s=]+", 3);
            if (w[0].equals("title")) {
                entries.add(new Entry(entries.size(), t.substring(5).strip(), Optional.empty(), "", i + 1));
            } else if (w[0].equals("kernel") && w.length >= 2 && !entries.isEmpty()) {
                Entry e = entries.getLast();
                if (e.kernel().isEmpty()) {
                    String path = w[1].replaceFirst("^\\([^)]*\\)", "");
                    entries.set(entries.size() - 1, new Entry(e.index(), e.title(), Optional.of(path),
                            w.length > 2 ? w[2] : "", e.line()));
                }
            }
        }
        return new GrubLegacy(text, List.copyOf(entries), def);
    }

    List<Entry> entries() {
        return entries;
    }

    /** The entry booted by default: {@code default=N}, or the first ("saved" is read as 0). */
    Optional<Entry> defaultEntry() {
        int n = defaultValue.filter(v -> v.matches("\\d+")).map(Integer::parseInt).orElse(0);
        return n < entries.size() ? Optional.of(entries.get(n)) : entries.stream().findFirst();
    }

    Optional<Entry> entryFor(String kernelVersion) {
        return entries.stream().filter(e -> e.kernelVersion().orElse("").equals(kernelVersion) && !e.recovery())
                .findFirst();
    }

    /** Rewrites disk names on kernel lines and on Debian's {@code # kopt=} settings. */
    EditResult remapDevices(DeviceMap map, String path) {
        TextFile f = TextFile.parse(text);
        EditResult.Builder b = new EditResult.Builder();
        for (int i = 0; i < f.size(); i++) {
            String line = f.line(i);
            String t = line.strip();
            boolean kernel = !TextFile.isComment(line) && t.matches("kernel[\\s=].*");
            if (!kernel && !KOPT.matcher(t).matches()) {
                continue;
            }
            DeviceMap.Remapped r = map.remap(line);
            b.devices(i + 1, r, path);
            f.set(i, r.text());
        }
        return b.build(f.toString());
    }

    /** Makes entry {@code index} the default. */
    EditResult setDefault(int index, String why) {
        TextFile f = TextFile.parse(text);
        for (int i = 0; i < f.size(); i++) {
            Matcher d = DEFAULT.matcher(f.line(i));
            if (!TextFile.isComment(f.line(i)) && d.matches()) {
                String old = d.group(3);
                f.set(i, d.group(1) + d.group(2) + index + d.group(4));
                return new EditResult(f.toString(), List.of("line " + (i + 1) + ": default " + old + " -> " + index
                        + " (" + why + ")"), List.of());
            }
            if (f.line(i).strip().startsWith("title")) {
                break;
            }
        }
        String s = "default=" + index + "\n" + text;
        return new EditResult(s, List.of("line 1: added default=" + index + " (" + why + ")"), List.of());
    }
}
