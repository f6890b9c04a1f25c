package org.jv2v.convert.linux;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Shell-style settings files ({@code NAME=value} lines): /etc/default/grub, ifcfg files,
 * /etc/sysconfig/*. Reads simple values (quoted or not) and replaces or adds an assignment,
 * keeping every other line as it is.
 */
final class ShellVars {
    private static final Pattern ASSIGN = Pattern.compile("^\\s*(?:export\\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$");

    private ShellVars() {}

    /** The value of the last assignment of {@code name}, unquoted. */
    static Optional<String> get(String text, String name) {
        Optional<String> v = Optional.empty();
        for (String line : TextFile.parse(text).lines()) {
            Matcher m = ASSIGN.matcher(line);
            if (m.matches() && m.group(1).equals(name)) {
                v = Optional.of(unquote(m.group(2).strip()));
            }
        }
        return v;
    }

    static String unquote(String raw) {
        String v = raw;
        int hash = -1;
        if (!v.startsWith("\"") && !v.startsWith("'")) {
            hash = v.indexOf(" #");
            if (hash >= 0) {
                v = v.substring(0, hash).strip();
            }
        }
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }

    /** Double-quotes a value for a shell file. */
    static String quote(String v) {
        return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"").replace("$", "\\$").replace("`", "\\`") + "\"";
    }

    /**
     * Sets {@code name} to {@code value} (quoted): rewrites its last assignment, or appends one.
     */
    static EditResult set(String text, String name, String value, String why) {
        TextFile f = TextFile.parse(text);
        int last = -1;
        for (int i = 0; i < f.size(); i++) {
            Matcher m = ASSIGN.matcher(f.line(i));
            if (m.matches() && m.group(1).equals(name)) {
                last = i;
            }
        }
        String line = name + "=" + quote(value);
        if (last >= 0) {
            String old = f.line(last);
            if (old.equals(line)) {
                return EditResult.unchanged(text);
            }
            f.set(last, line);
            return new EditResult(f.toString(), List.of("line " + (last + 1) + ": " + old.strip() + " -> " + line
                    + " (" + why + ")"), List.of());
        }
        f.append(line);
        return new EditResult(f.toString(), List.of("line " + f.size() + ": added " + line + " (" + why + ")"),
                List.of());
    }
}
