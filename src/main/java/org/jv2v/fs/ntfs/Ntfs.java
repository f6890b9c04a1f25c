package org.jv2v.fs.ntfs;

import org.jv2v.BadInputException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** Constants and small helpers shared by the NTFS structures (all little-endian). */
final class Ntfs {
    private Ntfs() {}

    // Attribute types ($AttrDef of every NTFS 3.x volume).
    static final int AT_STANDARD_INFORMATION = 0x10;
    static final int AT_ATTRIBUTE_LIST = 0x20;
    static final int AT_FILE_NAME = 0x30;
    static final int AT_VOLUME_NAME = 0x60;
    static final int AT_VOLUME_INFORMATION = 0x70;
    static final int AT_DATA = 0x80;
    static final int AT_INDEX_ROOT = 0x90;
    static final int AT_INDEX_ALLOCATION = 0xA0;
    static final int AT_BITMAP = 0xB0;
    static final int AT_REPARSE_POINT = 0xC0;
    static final int AT_END = 0xFFFFFFFF;

    // Well-known MFT records.
    static final long FILE_MFT = 0;
    static final long FILE_LOGFILE = 2;
    static final long FILE_VOLUME = 3;
    static final long FILE_ROOT = 5;
    static final long FILE_BITMAP = 6;
    static final long FILE_UPCASE = 10;
    /** Records below this are metadata files, hidden from listings as ntfs-3g does. */
    static final long FILE_FIRST_USER = 16;

    // File attribute flags ($STANDARD_INFORMATION and $FILE_NAME).
    static final int FILE_ATTR_READONLY = 0x0001;
    static final int FILE_ATTR_HIDDEN = 0x0002;
    static final int FILE_ATTR_SYSTEM = 0x0004;
    static final int FILE_ATTR_REPARSE_POINT = 0x0400;
    static final int FILE_ATTR_COMPRESSED = 0x0800;
    static final int FILE_ATTR_ENCRYPTED = 0x4000;
    /** In $FILE_NAME (and index keys) only: the file is a directory. */
    static final int FILE_ATTR_DUP_FILE_NAME_INDEX_PRESENT = 0x10000000;

    // Attribute header flags.
    static final int ATTR_COMPRESSION_MASK = 0x00FF;
    static final int ATTR_IS_ENCRYPTED = 0x4000;
    static final int ATTR_IS_SPARSE = 0x8000;

    // $FILE_NAME namespaces.
    static final int NS_POSIX = 0;
    static final int NS_WIN32 = 1;
    static final int NS_DOS = 2;
    static final int NS_WIN32_AND_DOS = 3;

    /** Update sequence arrays protect every 512 bytes of a multi-sector record, whatever the sector size. */
    static final int FIXUP_STRIDE = 512;

    /** 100 ns intervals between 1601-01-01 (FILETIME epoch) and 1970-01-01. */
    private static final long FILETIME_UNIX_EPOCH_SECONDS = 11_644_473_600L;

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    static ByteBuffer le(ByteBuffer b) {
        return b.order(ByteOrder.LITTLE_ENDIAN);
    }

    static int u8(ByteBuffer b, int off) {
        return b.get(off) & 0xFF;
    }

    static int u16(ByteBuffer b, int off) {
        return b.getShort(off) & 0xFFFF;
    }

    static long u32(ByteBuffer b, int off) {
        return b.getInt(off) & 0xFFFFFFFFL;
    }

    /** Windows FILETIME (100 ns since 1601, UTC) as an Instant. */
    static Instant filetime(long ft) {
        long secs = Math.floorDiv(ft, 10_000_000L) - FILETIME_UNIX_EPOCH_SECONDS;
        long nanos = Math.floorMod(ft, 10_000_000L) * 100;
        return Instant.ofEpochSecond(secs, nanos);
    }

    static String utf16(ByteBuffer b, int off, int chars) {
        byte[] raw = new byte[chars * 2];
        b.get(off, raw);
        return new String(raw, StandardCharsets.UTF_16LE);
    }

    static char[] utf16Chars(ByteBuffer b, int off, int chars) {
        char[] c = new char[chars];
        for (int i = 0; i < chars; i++) {
            c[i] = b.getChar(off + 2 * i);
        }
        return c;
    }

    /** A one-line error naming the device, the structure and its byte offset on the device. */
    static BadInputException bad(String device, String field, long offset, String problem) {
        return BadInputException.of(device + ": " + field + " at offset 0x" + Long.toHexString(offset) + ": " + problem);
    }

    static BadInputException bad(String device, String problem) {
        return BadInputException.of(device + ": " + problem);
    }

    static String typeName(int type) {
        return switch (type) {
            case AT_STANDARD_INFORMATION -> "$STANDARD_INFORMATION";
            case AT_ATTRIBUTE_LIST -> "$ATTRIBUTE_LIST";
            case AT_FILE_NAME -> "$FILE_NAME";
            case AT_VOLUME_NAME -> "$VOLUME_NAME";
            case AT_VOLUME_INFORMATION -> "$VOLUME_INFORMATION";
            case AT_DATA -> "$DATA";
            case AT_INDEX_ROOT -> "$INDEX_ROOT";
            case AT_INDEX_ALLOCATION -> "$INDEX_ALLOCATION";
            case AT_BITMAP -> "$BITMAP";
            case AT_REPARSE_POINT -> "$REPARSE_POINT";
            default -> "attribute 0x" + Integer.toHexString(type);
        };
    }
}
