package org.jv2v.convert.linux;

import java.util.ArrayList;
import java.util.List;

/** Splits a line of GRUB script (grub.cfg) into words as GRUB's lexer does for the cases used here. */
final class GrubWords {
    private GrubWords() {}

    /** Words with quotes removed; stops at an unquoted {@code #} that starts a word (a comment). */
    static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < line.length()) {
                    w.append(line.charAt(++i));
                } else {
                    w.append(c);
                }
                continue;
            }
            if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (c == '\\' && i + 1 < line.length()) {
                w.append(line.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c) || c == ';') {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
                if (c == ';') {
                    words.add(";");
                }
            } else if (c == '#' && !inWord) {
                break;
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }

    /** GRUB's single-quoting of a word (for values written back into grub.cfg). */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
