package org.jv2v.fs.ntfs;

import java.nio.ByteBuffer;

/**
 * The volume's $UpCase table: the upper-case form of every UTF-16 code unit, which is how NTFS
 * collates and compares file names (case-insensitively, by the table the volume was made with).
 */
final class UpCase {
    /** 65536 entries of 2 bytes; a volume's table is exactly this size. */
    static final int BYTES = 0x20000;

    private final char[] table;

    private UpCase(char[] table) {
        this.table = table;
    }

    static UpCase of(byte[] data) {
        char[] t = new char[0x10000];
        ByteBuffer b = Ntfs.le(data);
        for (int i = 0; i < t.length; i++) {
            t[i] = 2 * i + 1 < data.length ? b.getChar(2 * i) : (char) i;
        }
        return new UpCase(t);
    }

    char up(char c) {
        return table[c];
    }

    /** NTFS file-name collation: upper-cased code units, then length. */
    int compare(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            int d = up(a.charAt(i)) - up(b.charAt(i));
            if (d != 0) {
                return d;
            }
        }
        return a.length() - b.length();
    }

    boolean equalsIgnoreCase(String a, String b) {
        return a.length() == b.length() && compare(a, b) == 0;
    }
}
