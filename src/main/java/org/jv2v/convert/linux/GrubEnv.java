package org.jv2v.convert.linux;

import org.jv2v.Jv2vException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * GRUB's environment block (grubenv): a header line, {@code name=value} lines, and '#' padding to
 * a fixed size (1024 bytes) so that GRUB can rewrite it in place without allocating blocks. An
 * edit keeps the size exactly; GRUB escapes '\' and newlines in values with a backslash.
 */
final class GrubEnv {
    static final String HEADER = "# GRUB Environment Block\n";
    static final int STANDARD_SIZE = 1024;

    private final Map<String, String> vars;
    private final int size;

    private GrubEnv(Map<String, String> vars, int size) {
        this.vars = vars;
        this.size = size;
    }

    /** Parses a block; {@code path} names it in errors. */
    static GrubEnv parse(byte[] block, String path) {
        String s = new String(block, StandardCharsets.ISO_8859_1);
        if (!s.startsWith(HEADER)) {
            throw new Jv2vException(path + ": not a GRUB environment block (no \"" + HEADER.strip() + "\" header)");
        }
        Map<String, String> vars = new LinkedHashMap<>();
        for (String line : s.substring(HEADER.length()).split("\n", -1)) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq > 0) {
                vars.put(line.substring(0, eq), unescape(line.substring(eq + 1)));
            }
        }
        return new GrubEnv(vars, block.length);
    }

    /** A new, empty block of the standard size. */
    static GrubEnv empty() {
        return new GrubEnv(new LinkedHashMap<>(), STANDARD_SIZE);
    }

    Optional<String> get(String name) {
        return Optional.ofNullable(vars.get(name));
    }

    Map<String, String> vars() {
        return Map.copyOf(vars);
    }

    GrubEnv with(String name, String value) {
        Map<String, String> v = new LinkedHashMap<>(vars);
        v.put(name, value);
        return new GrubEnv(v, size);
    }

    /** The block, padded with '#' to its original size; an error if the variables no longer fit. */
    byte[] bytes(String path) {
        StringBuilder s = new StringBuilder(HEADER);
        for (Map.Entry<String, String> e : vars.entrySet()) {
            s.append(e.getKey()).append('=').append(escape(e.getValue())).append('\n');
        }
        if (s.length() > size) {
            throw new Jv2vException(path + ": the variables need " + s.length() + " bytes, more than the block's "
                    + size);
        }
        s.append("#".repeat(size - s.length()));
        return s.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    List<String> names() {
        return new ArrayList<>(vars.keySet());
    }

    private static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\n", "\\\n");
    }

    private static String unescape(String v) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '\\' && i + 1 < v.length()) {
                s.append(v.charAt(++i));
            } else {
                s.append(c);
            }
        }
        return s.toString();
    }
}
