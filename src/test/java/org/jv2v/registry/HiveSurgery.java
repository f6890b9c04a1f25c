package org.jv2v.registry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Byte-level edits of hive files for tests: structures the reference tools read but do not write
 * ("ri" and "li" subkey lists, class names), and fixed checksums after deliberate corruption.
 * Every edited hive is checked against hivex's own reading of it in the tests.
 */
final class HiveSurgery {
    private HiveSurgery() {}

    static void fixChecksum(byte[] hive) {
        ByteBuffer b = ByteBuffer.wrap(hive).order(ByteOrder.LITTLE_ENDIAN);
        int sum = 0;
        for (int i = 0; i < 0x1FC; i += 4) {
            sum ^= b.getInt(i);
        }
        b.putInt(0x1FC, sum);
    }

    /** The two-letter signature of the subkey list of the key whose nk cell is {@code nk}. */
    static String listSignature(byte[] hive, int nk) {
        ByteBuffer b = ByteBuffer.wrap(hive).order(ByteOrder.LITTLE_ENDIAN);
        int list = b.getInt(0x1000 + nk + 4 + 0x1C);
        return sig(b, list);
    }

    /** The signature of the data cell of value {@code name} (an ASCII name) of key {@code nk}. */
    static String valueDataSignature(byte[] hive, int nk, String name) {
        ByteBuffer b = ByteBuffer.wrap(hive).order(ByteOrder.LITTLE_ENDIAN);
        int count = b.getInt(0x1000 + nk + 4 + 0x24);
        int vlist = b.getInt(0x1000 + nk + 4 + 0x28);
        for (int i = 0; i < count; i++) {
            int vk = b.getInt(0x1000 + vlist + 4 + 4 * i);
            int v = 0x1000 + vk + 4;
            int nameLen = b.getShort(v + 0x02) & 0xFFFF;
            byte[] n = new byte[nameLen];
            b.get(v + 0x14, n);
            if (new String(n, StandardCharsets.ISO_8859_1).equals(name)) {
                return sig(b, b.getInt(v + 0x08));
            }
        }
        throw new AssertionError("no value " + name);
    }

    private static String sig(ByteBuffer b, int cell) {
        byte[] s = new byte[2];
        b.get(0x1000 + cell + 4, s);
        return new String(s, StandardCharsets.ISO_8859_1);
    }

    /**
     * Rewrites the "lh" subkey list of {@code listKey} as an "ri" index over an "li" (first half)
     * and an "lh" (second half), and gives {@code classKey} the class name {@code className}; the
     * new cells go into a bin appended after the last one.
     */
    static byte[] splitIntoRiAndAddClass(byte[] hive, String listKey, String classKey, String className) {
        Hive h = Hive.open(hive.clone(), "surgery");
        int nkList = h.key(listKey).orElseThrow().cellOffset();
        int nkClass = h.key(classKey).orElseThrow().cellOffset();
        ByteBuffer old = ByteBuffer.wrap(hive).order(ByteOrder.LITTLE_ENDIAN);
        int binsSize = old.getInt(0x28);
        int listRel = old.getInt(0x1000 + nkList + 4 + 0x1C);
        int l = 0x1000 + listRel + 4;
        if (!sig(old, listRel).equals("lh")) {
            throw new AssertionError("expected an lh list, found " + sig(old, listRel));
        }
        int n = old.getShort(l + 2) & 0xFFFF;
        int half = n / 2;
        byte[] cls = className.getBytes(StandardCharsets.UTF_16LE);
        int liSize = align(4 + 4 + 4 * half);
        int lhSize = align(4 + 4 + 8 * (n - half));
        int riSize = align(4 + 4 + 8);
        int clsSize = align(4 + cls.length);
        int binSize = ((0x20 + liSize + lhSize + riSize + clsSize) + 0xFFF) & ~0xFFF;

        byte[] out = new byte[0x1000 + binsSize + binSize];
        System.arraycopy(hive, 0, out, 0, 0x1000 + binsSize);
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        int bin = 0x1000 + binsSize;
        b.put(bin, "hbin".getBytes(StandardCharsets.US_ASCII)).putInt(bin + 4, binsSize).putInt(bin + 8, binSize);
        int cell = bin + 0x20;
        int liRel = cell - 0x1000;
        b.putInt(cell, -liSize).put(cell + 4, (byte) 'l').put(cell + 5, (byte) 'i').putShort(cell + 6, (short) half);
        for (int i = 0; i < half; i++) {
            b.putInt(cell + 8 + 4 * i, old.getInt(l + 4 + 8 * i));
        }
        cell += liSize;
        int lhRel = cell - 0x1000;
        b.putInt(cell, -lhSize).put(cell + 4, (byte) 'l').put(cell + 5, (byte) 'h').putShort(cell + 6, (short) (n - half));
        for (int i = half; i < n; i++) {
            b.putLong(cell + 8 + 8 * (i - half), old.getLong(l + 4 + 8 * i));
        }
        cell += lhSize;
        int riRel = cell - 0x1000;
        b.putInt(cell, -riSize).put(cell + 4, (byte) 'r').put(cell + 5, (byte) 'i').putShort(cell + 6, (short) 2);
        b.putInt(cell + 8, liRel).putInt(cell + 12, lhRel);
        cell += riSize;
        int clsRel = cell - 0x1000;
        b.putInt(cell, -clsSize).put(cell + 4, cls);
        cell += clsSize;
        if (cell < bin + binSize) {
            b.putInt(cell, bin + binSize - cell);               // the rest of the bin: one free cell
        }
        b.putInt(0x1000 + nkList + 4 + 0x1C, riRel);
        b.putInt(0x1000 + nkClass + 4 + 0x30, clsRel);
        b.putShort(0x1000 + nkClass + 4 + 0x4A, (short) cls.length);
        b.putInt(0x28, binsSize + binSize);
        fixChecksum(out);
        return out;
    }

    private static int align(int n) {
        return (n + 7) & ~7;
    }
}
