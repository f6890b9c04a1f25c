package org.jv2v.convert.linux;

import java.util.Optional;

/**
 * A Boot Loader Specification entry (/boot/loader/entries/ID.conf, as RHEL 8+ and Fedora write
 * them): {@code key value} lines. The converter reads which kernel it boots and rewrites disk names
 * on its {@code options} line.
 *
 * @param id      the file name without ".conf": what grubenv's saved_entry names
 * @param title   {@code title}
 * @param version {@code version}, or the version in the {@code linux} path
 * @param linux   {@code linux}
 * @param options {@code options}, possibly "$kernelopts" (RHEL 8: the value lives in grubenv)
 */
record BlsEntry(String id, String title, String version, String linux, String options) {

    static BlsEntry parse(String id, String text) {
        String title = "";
        String version = "";
        String linux = "";
        StringBuilder options = new StringBuilder();
        for (String line : TextFile.parse(text).lines()) {
            if (TextFile.isComment(line)) {
                continue;
            }
            String t = line.strip();
            int sp = firstBlank(t);
            String key = sp < 0 ? t : t.substring(0, sp);
            String value = sp < 0 ? "" : t.substring(sp).strip();
            switch (key) {
                case "title" -> title = value;
                case "version" -> version = value;
                case "linux" -> linux = value;
                case "options" -> options.append(options.isEmpty() ? "" : " ").append(value);
                default -> { }
            }
        }
        if (version.isEmpty()) {
            version = GrubCfg.versionOf(linux);
        }
        return new BlsEntry(id, title, version, linux, options.toString());
    }

    private static int firstBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ' ' || s.charAt(i) == '\t') {
                return i;
            }
        }
        return -1;
    }

    Optional<String> kernelVersion() {
        return version.isEmpty() ? Optional.empty() : Optional.of(version);
    }

    boolean rescue() {
        return id.contains("-0-rescue") || version.startsWith("0-rescue");
    }

    /** Rewrites disk names on the {@code options} lines only. */
    static EditResult remapDevices(String text, DeviceMap map, String path) {
        TextFile f = TextFile.parse(text);
        EditResult.Builder b = new EditResult.Builder();
        for (int i = 0; i < f.size(); i++) {
            String line = f.line(i);
            if (TextFile.isComment(line) || !line.strip().startsWith("options")) {
                continue;
            }
            DeviceMap.Remapped r = map.remap(line);
            b.devices(i + 1, r, path);
            f.set(i, r.text());
        }
        return b.build(f.toString());
    }
}
