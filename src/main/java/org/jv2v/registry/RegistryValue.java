package org.jv2v.registry;

import org.jv2v.BadInputException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One value of a key: its name ("" for the key's default value), its type code and raw data.
 * The accessors decode the common types and refuse a value of another type with a clear error.
 *
 * @param where  the hive and key, for messages
 */
public record RegistryValue(String name, int typeCode, byte[] data, String where) {

    public ValueType type() {
        return ValueType.of(typeCode);
    }

    /** REG_SZ, REG_EXPAND_SZ or REG_LINK as text: UTF-16LE up to the first NUL. */
    public String asString() {
        ValueType t = type();
        if (t != ValueType.SZ && t != ValueType.EXPAND_SZ && t != ValueType.LINK) {
            throw wrongType("a string");
        }
        String s = utf16(data);
        int nul = s.indexOf('\0');
        return nul >= 0 ? s.substring(0, nul) : s;
    }

    /** REG_MULTI_SZ as its strings (the empty string that ends the list is not included). */
    public List<String> asStrings() {
        if (type() != ValueType.MULTI_SZ) {
            throw wrongType("a list of strings");
        }
        List<String> out = new ArrayList<>(List.of(utf16(data).split("\0", -1)));
        while (!out.isEmpty() && out.getLast().isEmpty()) {
            out.removeLast();
        }
        return out;
    }

    /** REG_DWORD (little-endian), REG_DWORD_BIG_ENDIAN or REG_QWORD as an unsigned number. */
    public long asNumber() {
        ValueType t = type();
        int need = t == ValueType.QWORD ? 8 : 4;
        if ((t != ValueType.DWORD && t != ValueType.DWORD_BIG_ENDIAN && t != ValueType.QWORD) || data.length < need) {
            throw wrongType("a number");
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(t == ValueType.DWORD_BIG_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        return t == ValueType.QWORD ? b.getLong(0) : b.getInt(0) & 0xFFFFFFFFL;
    }

    private static String utf16(byte[] d) {
        return new String(d, 0, d.length & ~1, StandardCharsets.UTF_16LE);
    }

    private BadInputException wrongType(String wanted) {
        return BadInputException.of(where + ": value \"" + name + "\" is " + type() + " (type " + typeCode + ", "
                + data.length + " bytes), not " + wanted);
    }

    @Override
    public String toString() {
        return "RegistryValue[" + (name.isEmpty() ? "@" : name) + ", " + type() + ", " + data.length + " bytes]";
    }
}
