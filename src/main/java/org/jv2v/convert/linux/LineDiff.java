package org.jv2v.convert.linux;

import java.util.ArrayList;
import java.util.List;

/**
 * A line diff of a file before and after an edit, for the plan: removed lines ("-") and added
 * lines ("+") with their line numbers, from a longest common subsequence. Files edited here are
 * small; beyond {@link #MAX_CELLS} the diff degrades to the changed region as a whole.
 */
final class LineDiff {
    /** 4M cells: a 2000-line grub.cfg against itself; more is reported without the LCS. */
    static final long MAX_CELLS = 4_000_000;

    /** One line of the diff: {@code op} is '-' or '+', {@code line} the 1-based number in its file. */
    record Line(char op, int line, String text) {
        @Override
        public String toString() {
            return String.format("%5d %c %s", line, op, text);
        }
    }

    private LineDiff() {}

    static List<Line> diff(String before, String after) {
        List<String> a = TextFile.parse(before).lines();
        List<String> b = TextFile.parse(after).lines();
        int start = 0;
        while (start < a.size() && start < b.size() && a.get(start).equals(b.get(start))) {
            start++;
        }
        int endA = a.size();
        int endB = b.size();
        while (endA > start && endB > start && a.get(endA - 1).equals(b.get(endB - 1))) {
            endA--;
            endB--;
        }
        List<Line> out = new ArrayList<>();
        int n = endA - start;
        int m = endB - start;
        if ((long) n * m > MAX_CELLS) {
            for (int i = start; i < endA; i++) {
                out.add(new Line('-', i + 1, a.get(i)));
            }
            for (int j = start; j < endB; j++) {
                out.add(new Line('+', j + 1, b.get(j)));
            }
            return out;
        }
        int[][] lcs = new int[n + 1][m + 1];
        for (int i = n - 1; i >= 0; i--) {
            for (int j = m - 1; j >= 0; j--) {
                lcs[i][j] = a.get(start + i).equals(b.get(start + j)) ? lcs[i + 1][j + 1] + 1
                        : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        int i = 0;
        int j = 0;
        List<Line> minus = new ArrayList<>();
        List<Line> plus = new ArrayList<>();
        while (i < n || j < m) {
            if (i < n && j < m && a.get(start + i).equals(b.get(start + j))) {
                out.addAll(minus);
                out.addAll(plus);
                minus.clear();
                plus.clear();
                i++;
                j++;
            } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
                plus.add(new Line('+', start + j + 1, b.get(start + j)));
                j++;
            } else {
                minus.add(new Line('-', start + i + 1, a.get(start + i)));
                i++;
            }
        }
        out.addAll(minus);
        out.addAll(plus);
        return out;
    }
}
