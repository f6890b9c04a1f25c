package org.jv2v.image.vhdx;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Small helpers for reading VHDX structures. */
final class Structs {
    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;

    private Structs() {}

    static String ascii(ByteBuffer b, int offset, int length) {
        byte[] bytes = new byte[length];
        b.get(offset, bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    static String printable(String s) {
        StringBuilder out = new StringBuilder();
        for (char c : s.toCharArray()) {
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.toString();
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
