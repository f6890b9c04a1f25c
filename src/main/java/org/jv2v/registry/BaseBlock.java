package org.jv2v.registry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The regf base block: the first 4 KiB of a hive file. Field offsets as in the format; a writer
 * fills the same record and calls {@link #write} (which computes the checksum).
 *
 * @param primarySequence   incremented before a write starts
 * @param secondarySequence set equal to the primary when the write completed: a difference means
 *                          the hive was not synced and its transaction logs hold newer data
 * @param rootCell          offset of the root key's cell, relative to the first hive bin
 * @param hiveBinsSize      bytes of hive bins following the base block
 * @param fileName          the last 31 UTF-16 characters of the hive's path, for debugging
 */
record BaseBlock(int primarySequence, int secondarySequence, long lastWritten, int major, int minor, int fileType,
                 int fileFormat, int rootCell, int hiveBinsSize, int clusteringFactor, String fileName, int checksum) {

    static final int SIZE = 0x1000;
    static final int CHECKSUM_OFFSET = 0x1FC;
    static final int FILE_NAME_BYTES = 64;

    static BaseBlock read(ByteBuffer b) {
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        byte[] name = new byte[FILE_NAME_BYTES];
        b.get(0x30, name);                                     // 0x30 file name (UTF-16LE)
        String fn = new String(name, StandardCharsets.UTF_16LE);
        int nul = fn.indexOf('\0');
        return new BaseBlock(
                b.getInt(0x04),                                 // 0x04 primary sequence number
                b.getInt(0x08),                                 // 0x08 secondary sequence number
                b.getLong(0x0C),                                // 0x0C last written (FILETIME)
                b.getInt(0x14),                                 // 0x14 major version
                b.getInt(0x18),                                 // 0x18 minor version
                b.getInt(0x1C),                                 // 0x1C file type (0 primary, 1/2/6 logs)
                b.getInt(0x20),                                 // 0x20 file format (1: direct memory load)
                b.getInt(0x24),                                 // 0x24 root cell offset
                b.getInt(0x28),                                 // 0x28 hive bins data size
                b.getInt(0x2C),                                 // 0x2C clustering factor
                nul >= 0 ? fn.substring(0, nul) : fn,
                b.getInt(CHECKSUM_OFFSET));                     // 0x1FC checksum
    }

    /** Writes the fields (and a fresh checksum) into the first 4 KiB of {@code b}. */
    void write(ByteBuffer b) {
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x00, "regf".getBytes(StandardCharsets.US_ASCII));
        b.putInt(0x04, primarySequence).putInt(0x08, secondarySequence).putLong(0x0C, lastWritten);
        b.putInt(0x14, major).putInt(0x18, minor).putInt(0x1C, fileType).putInt(0x20, fileFormat);
        b.putInt(0x24, rootCell).putInt(0x28, hiveBinsSize).putInt(0x2C, clusteringFactor);
        byte[] name = new byte[FILE_NAME_BYTES];
        byte[] enc = fileName.getBytes(StandardCharsets.UTF_16LE);
        System.arraycopy(enc, 0, name, 0, Math.min(enc.length, FILE_NAME_BYTES - 2));
        b.put(0x30, name);
        b.putInt(CHECKSUM_OFFSET, checksum(b));
    }

    /**
     * XOR of the 127 little-endian dwords before the checksum field; Windows maps the two values it
     * reserves (0 and -1) to 1 and -2.
     */
    static int checksum(ByteBuffer b) {
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int sum = 0;
        for (int i = 0; i < CHECKSUM_OFFSET; i += 4) {
            sum ^= b.getInt(i);
        }
        if (sum == 0) {
            return 1;
        }
        if (sum == -1) {
            return -2;
        }
        return sum;
    }

    /** Whether {@code sum} is what the header holds for the first 508 bytes (plain XOR, as hivex checks, or Windows' adjusted form). */
    static boolean checksumMatches(ByteBuffer b, int stored) {
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int raw = 0;
        for (int i = 0; i < CHECKSUM_OFFSET; i += 4) {
            raw ^= b.getInt(i);
        }
        return stored == raw || stored == checksum(b);
    }

    boolean synced() {
        return primarySequence == secondarySequence;
    }
}
