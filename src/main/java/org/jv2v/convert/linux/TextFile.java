package org.jv2v.convert.linux;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A text file as lines that keep their own line endings, so an edit changes only the lines it
 * means to and the file otherwise comes back byte for byte (tabs, trailing spaces, CRLF, a missing
 * final newline). Configuration files are read as ISO-8859-1 so that any byte survives a round
 * trip, whatever the guest's encoding: every syntax edited here is ASCII.
 */
final class TextFile {
    private final List<String> lines;
    private final List<String> endings;

    private TextFile(List<String> lines, List<String> endings) {
        this.lines = lines;
        this.endings = endings;
    }

    static TextFile parse(byte[] content) {
        return parse(new String(content, StandardCharsets.ISO_8859_1));
    }

    static TextFile parse(String text) {
        List<String> lines = new ArrayList<>();
        List<String> endings = new ArrayList<>();
        int start = 0;
        int n = text.length();
        while (start < n) {
            int nl = text.indexOf('\n', start);
            if (nl < 0) {
                lines.add(text.substring(start));
                endings.add("");
                break;
            }
            int end = nl > start && text.charAt(nl - 1) == '\r' ? nl - 1 : nl;
            lines.add(text.substring(start, end));
            endings.add(text.substring(end, nl + 1));
            start = nl + 1;
        }
        return new TextFile(lines, endings);
    }

    int size() {
        return lines.size();
    }

    String line(int i) {
        return lines.get(i);
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    void set(int i, String line) {
        lines.set(i, line);
    }

    /** Appends a line, ending the current last line first if it had no newline. */
    void append(String line) {
        if (!endings.isEmpty() && endings.getLast().isEmpty()) {
            endings.set(endings.size() - 1, "\n");
        }
        lines.add(line);
        endings.add("\n");
    }

    void remove(int i) {
        lines.remove(i);
        endings.remove(i);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            s.append(lines.get(i)).append(endings.get(i));
        }
        return s.toString();
    }

    byte[] bytes() {
        return toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A line that is empty or only a comment ({@code #} first after blanks). */
    static boolean isComment(String line) {
        String t = line.strip();
        return t.isEmpty() || t.startsWith("#");
    }

    static String text(byte[] content) {
        return new String(content, StandardCharsets.ISO_8859_1);
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }
}
