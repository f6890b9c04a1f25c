package org.jv2v.image.vhd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The 1024-byte dynamic disk header of dynamic and differencing VHDs, found at the footer's data
 * offset. Big-endian; offsets as in Microsoft's VHD specification.
 */
record VhdDynamicHeader(
        String cookie,              // 0x000 "cxsparse"
        long dataOffset,            // 0x008 unused, all ones
        long tableOffset,           // 0x010 the block allocation table
        int headerVersion,          // 0x018 0x00010000
        int maxTableEntries,        // 0x01c u32
        int blockSize,              // 0x020 u32, 2 MiB by default
        int checksum,               // 0x024
        byte[] parentUniqueId,      // 0x028 16 bytes: the parent footer's unique id
        int parentTimestamp,        // 0x038
        String parentUnicodeName,   // 0x040 512 bytes, UTF-16 big-endian
        List<ParentLocator> parentLocators, // 0x240 eight entries of 24 bytes
        int computedChecksum) {

    static final int SIZE = 1024;
    static final String COOKIE = "cxsparse";
    static final int CHECKSUM_OFFSET = 0x24;
    static final int LOCATORS_OFFSET = 0x240;
    static final int LOCATOR_COUNT = 8;
    static final int LOCATOR_SIZE = 24;

    /**
     * One parent locator entry.
     *
     * @param index       0..7, for messages
     * @param platformCode "W2ru" (relative Windows path), "W2ku" (absolute Windows path), 0 if unused
     */
    record ParentLocator(
            int index,
            int platformCode,     // +0x00
            int dataSpace,        // +0x04 sectors (or bytes, by some writers) reserved for the data
            int dataLength,       // +0x08 bytes
            long dataOffset) {    // +0x10 absolute file offset
        static final int W2RU = 0x57327275; // "W2ru"
        static final int W2KU = 0x57326b75; // "W2ku"

        String platformName() {
            byte[] b = {(byte) (platformCode >>> 24), (byte) (platformCode >>> 16), (byte) (platformCode >>> 8),
                    (byte) platformCode};
            return new String(b, StandardCharsets.ISO_8859_1);
        }
    }

    static VhdDynamicHeader read(ByteBuffer b) {
        int p = b.position();
        byte[] parentId = new byte[16];
        b.get(p + 0x028, parentId);
        byte[] name = new byte[512];
        b.get(p + 0x040, name);
        List<ParentLocator> locators = new ArrayList<>();
        for (int i = 0; i < LOCATOR_COUNT; i++) {
            int e = p + LOCATORS_OFFSET + i * LOCATOR_SIZE;
            locators.add(new ParentLocator(i, b.getInt(e), b.getInt(e + 0x04), b.getInt(e + 0x08),
                    b.getLong(e + 0x10)));
        }
        return new VhdDynamicHeader(
                VhdFooter.ascii(b, p, 8),
                b.getLong(p + 0x008),
                b.getLong(p + 0x010),
                b.getInt(p + 0x018),
                b.getInt(p + 0x01c),
                b.getInt(p + 0x020),
                b.getInt(p + 0x024),
                parentId,
                b.getInt(p + 0x038),
                utf16(name, StandardCharsets.UTF_16BE),
                List.copyOf(locators),
                VhdFooter.checksum(b, p, SIZE, CHECKSUM_OFFSET));
    }

    boolean hasCookie() {
        return COOKIE.equals(cookie);
    }

    boolean checksumOk() {
        return checksum == computedChecksum;
    }

    String parentUniqueIdHex() {
        return HexFormat.of().formatHex(parentUniqueId);
    }

    /** Decodes UTF-16 text, stopping at the first NUL. */
    static String utf16(byte[] bytes, java.nio.charset.Charset cs) {
        String s = new String(bytes, cs);
        int nul = s.indexOf('\0');
        return nul >= 0 ? s.substring(0, nul) : s;
    }
}
