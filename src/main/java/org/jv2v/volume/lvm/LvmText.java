package org.jv2v.volume.lvm;

import org.jv2v.BadInputException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parser of lvm2's text metadata ("vg0 { id = "..." seqno = 3 physical_volumes { ... } }"): sections
 * become maps, values are String, Long or List of those. Malformed text is a one-line error naming
 * the line.
 */
final class LvmText {
    /** lvm2 nests five levels (vg, logical_volumes, lv, segment); anything much deeper is hostile. */
    static final int MAX_DEPTH = 32;

    private final String text;
    private final String source;
    private int pos;
    private int line = 1;

    private LvmText(String text, String source) {
        this.text = text;
        this.source = source;
    }

    /** Parses a whole metadata text; {@code source} names it in errors (device and offset). */
    static Map<String, Object> parse(String text, String source) {
        LvmText p = new LvmText(text, source);
        Map<String, Object> top = p.body(0);
        p.skipSpace();
        if (p.pos < text.length()) {
            throw p.error("unexpected '" + text.charAt(p.pos) + "'");
        }
        return top;
    }

    private Map<String, Object> body(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("sections nested deeper than " + MAX_DEPTH);
        }
        Map<String, Object> map = new LinkedHashMap<>();
        while (true) {
            skipSpace();
            if (pos >= text.length() || text.charAt(pos) == '}') {
                return map;
            }
            String key = identifier();
            skipSpace();
            if (pos >= text.length()) {
                throw error("unexpected end after '" + key + "'");
            }
            char c = text.charAt(pos);
            if (c == '{') {
                pos++;
                Map<String, Object> inner = body(depth + 1);
                expect('}');
                map.put(key, inner);
            } else if (c == '=') {
                pos++;
                map.put(key, value(depth));
            } else {
                throw error("expected '=' or '{' after '" + key + "'");
            }
        }
    }

    private Object value(int depth) {
        skipSpace();
        if (pos >= text.length()) {
            throw error("missing value");
        }
        char c = text.charAt(pos);
        if (c == '"') {
            return string();
        }
        if (c == '[') {
            if (depth > MAX_DEPTH) {
                throw error("lists nested deeper than " + MAX_DEPTH);
            }
            pos++;
            List<Object> list = new ArrayList<>();
            skipSpace();
            if (pos < text.length() && text.charAt(pos) == ']') {
                pos++;
                return list;
            }
            while (true) {
                list.add(value(depth + 1));
                skipSpace();
                if (pos < text.length() && text.charAt(pos) == ',') {
                    pos++;
                } else {
                    expect(']');
                    return list;
                }
            }
        }
        int start = pos;
        if (c == '-' || c == '+') {
            pos++;
        }
        while (pos < text.length() && (Character.isDigit(text.charAt(pos)) || text.charAt(pos) == '.')) {
            pos++;
        }
        String num = text.substring(start, pos);
        try {
            return num.contains(".") ? (Object) Double.parseDouble(num) : (Object) Long.parseLong(num);
        } catch (NumberFormatException e) {
            throw error("bad value '" + num + "'");
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder s = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char c = text.charAt(pos++);
            if (c == '"') {
                return s.toString();
            }
            if (c == '\\' && pos < text.length()) {
                c = text.charAt(pos++);
            }
            if (c == '\n') {
                line++;
            }
            s.append(c);
        }
    }

    private String identifier() {
        int start = pos;
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '-' || c == '+') {
                pos++;
            } else {
                break;
            }
        }
        if (pos == start) {
            throw error("expected a name, found '" + text.charAt(pos) + "'");
        }
        return text.substring(start, pos);
    }

    private void expect(char c) {
        skipSpace();
        if (pos >= text.length() || text.charAt(pos) != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private void skipSpace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '\n') {
                line++;
                pos++;
            } else if (c == '#') {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (Character.isWhitespace(c) || c == '\0') {
                pos++;
            } else {
                return;
            }
        }
    }

    private BadInputException error(String problem) {
        return BadInputException.of(source + ", line " + line + ": " + problem);
    }
}
