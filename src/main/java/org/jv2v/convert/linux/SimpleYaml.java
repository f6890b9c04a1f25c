package org.jv2v.convert.linux;

import java.util.ArrayList;
import java.util.List;

/**
 * The subset of YAML netplan files use, read as a flat list of scalar values with the path of
 * mapping keys above each: block mappings by indentation, one-line flow mappings
 * ({@code match: {macaddress: "..."}}), comments, quoted scalars. Sequences and anything else
 * are skipped, never misread as keys. Enough to find interfaces and how they are matched.
 */
final class SimpleYaml {
    /** A scalar at {@code path} (mapping keys from the top), on 1-based {@code line}. */
    record Scalar(List<String> path, String value, int line) {
        String key() {
            return path.getLast();
        }
    }

    /** A mapping key at {@code path}, whether or not it holds a scalar. */
    record Key(List<String> path, int line) {}

    private final List<Scalar> scalars;
    private final List<Key> keys;

    private SimpleYaml(List<Scalar> scalars, List<Key> keys) {
        this.scalars = scalars;
        this.keys = keys;
    }

    static SimpleYaml parse(String text) {
        List<Scalar> scalars = new ArrayList<>();
        List<Key> keys = new ArrayList<>();
        List<String> lines = TextFile.parse(text).lines();
        List<Integer> indents = new ArrayList<>();
        List<String> path = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String raw = stripComment(lines.get(i));
            if (raw.isBlank() || raw.strip().equals("---")) {
                continue;
            }
            int indent = 0;
            while (indent < raw.length() && raw.charAt(indent) == ' ') {
                indent++;
            }
            String t = raw.strip();
            while (!indents.isEmpty() && indents.getLast() >= indent) {
                indents.removeLast();
                path.removeLast();
            }
            if (t.startsWith("-")) {
                // a sequence item: its content is not a mapping key of ours
                indents.add(indent);
                path.add("-");
                continue;
            }
            int colon = keyColon(t);
            if (colon < 0) {
                continue;
            }
            String key = unquote(t.substring(0, colon).strip());
            String rest = t.substring(colon + 1).strip();
            List<String> here = new ArrayList<>(path);
            here.add(key);
            keys.add(new Key(List.copyOf(here), i + 1));
            if (rest.isEmpty()) {
                indents.add(indent);
                path.add(key);
            } else if (rest.startsWith("{") && rest.endsWith("}")) {
                for (String part : splitFlow(rest.substring(1, rest.length() - 1))) {
                    int c = keyColon(part.strip());
                    if (c > 0) {
                        List<String> p = new ArrayList<>(here);
                        p.add(unquote(part.strip().substring(0, c).strip()));
                        keys.add(new Key(List.copyOf(p), i + 1));
                        scalars.add(new Scalar(List.copyOf(p), unquote(part.strip().substring(c + 1).strip()), i + 1));
                    }
                }
            } else if (!rest.startsWith("[") && !rest.startsWith("|") && !rest.startsWith(">")) {
                scalars.add(new Scalar(List.copyOf(here), unquote(rest), i + 1));
            }
        }
        return new SimpleYaml(scalars, keys);
    }

    List<Scalar> scalars() {
        return scalars;
    }

    List<Key> keys() {
        return keys;
    }

    /** The index of the ':' that ends a mapping key (followed by a blank or the end), or -1. */
    private static int keyColon(String t) {
        char quote = 0;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == ':' && (i + 1 == t.length() || t.charAt(i + 1) == ' ')) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> splitFlow(String s) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        for (char c : s.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == ',') {
                parts.add(cur.toString());
                cur.setLength(0);
                continue;
            }
            cur.append(c);
        }
        parts.add(cur.toString());
        return parts;
    }

    private static String stripComment(String line) {
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '#' && (i == 0 || line.charAt(i - 1) == ' ' || line.charAt(i - 1) == '\t')) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }
}
