package org.jv2v.image.vhdx;

import org.jv2v.BadInputException;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The parent locator metadata item of a differencing VHDX (MS-VHDX 2.6.2.6): a locator type and
 * UTF-16LE key/value pairs such as parent_linkage, relative_path and absolute_win32_path.
 */
record VhdxParentLocator(
        UUID locatorType,                // 0x00
        int keyValueCount,               // 0x12 u16
        Map<String, String> entries) {   // 0x14 12 bytes each: key offset, value offset, key length, value length

    static final UUID VHDX_LOCATOR = UUID.fromString("b04aefb7-d19e-4a81-b789-25b8e9445913");
    static final int HEADER = 0x14;
    static final int ENTRY = 12;
    /** The specification defines five keys; 256 leaves ample room for others, no more. */
    static final int MAX_ENTRIES = 256;

    /** Reads the item held in {@code b} (all of it), which lies at {@code fileOffset} in {@code file}. */
    static VhdxParentLocator read(ByteBuffer b, Path file, long fileOffset) {
        int length = b.remaining();
        if (length < HEADER) {
            throw BadInputException.atOffset(file, "parent locator", fileOffset, "item of " + length
                    + " bytes is shorter than its 20-byte header");
        }
        UUID type = MsGuid.read(b, 0x00);
        int count = Short.toUnsignedInt(b.getShort(0x12));
        if (count > MAX_ENTRIES || HEADER + (long) count * ENTRY > length) {
            throw BadInputException.atOffset(file, "parent locator key/value count", fileOffset + 0x12, count
                    + " entries do not fit in the item of " + length + " bytes (limit " + MAX_ENTRIES + ")");
        }
        Map<String, String> entries = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            int e = HEADER + i * ENTRY;
            long keyOffset = Integer.toUnsignedLong(b.getInt(e));
            long valueOffset = Integer.toUnsignedLong(b.getInt(e + 4));
            int keyLength = Short.toUnsignedInt(b.getShort(e + 8));
            int valueLength = Short.toUnsignedInt(b.getShort(e + 10));
            String where = "parent locator entry " + i;
            String key = string(b, keyOffset, keyLength, file, where + " key", fileOffset + e);
            String value = string(b, valueOffset, valueLength, file, where + " value", fileOffset + e + 4);
            entries.putIfAbsent(key, value);
        }
        return new VhdxParentLocator(type, count, Map.copyOf(entries));
    }

    private static String string(ByteBuffer b, long offset, int length, Path file, String field, long at) {
        if (length == 0 || (length & 1) != 0 || offset > b.remaining() || length > b.remaining() - offset) {
            throw BadInputException.atOffset(file, field, at, "UTF-16 string of " + length + " bytes at item offset "
                    + offset + " is empty, odd-sized or outside the item of " + b.remaining() + " bytes");
        }
        byte[] bytes = new byte[length];
        b.get((int) offset, bytes);
        return new String(bytes, StandardCharsets.UTF_16LE);
    }
}
