package org.jv2v.convert.linux.initramfs;

import java.nio.charset.StandardCharsets;

/**
 * One member of a "newc" (070701) or "crc" (070702) cpio archive, the formats the kernel unpacks
 * into its initial root. The header is 110 ASCII bytes: the magic, then thirteen 8-digit hex
 * numbers; the name (with its NUL) follows, padded so the data starts on a 4-byte boundary, and
 * the data is padded to 4 bytes too. {@code buffer[start, end)} is the entry's exact bytes,
 * padding included, so an untouched entry is copied as it was.
 */
record CpioEntry(
        boolean crcFormat,  // 0x00 magic "070701" (newc) or "070702" (crc)
        long ino,           // 0x06
        int mode,           // 0x0e
        long uid,           // 0x16
        long gid,           // 0x1e
        long nlink,         // 0x26
        long mtime,         // 0x2e
        int fileSize,       // 0x36
        long devMajor,      // 0x3e
        long devMinor,      // 0x46
        long rdevMajor,     // 0x4e
        long rdevMinor,     // 0x56
        int nameSize,       // 0x5e including the NUL
        long check,         // 0x66 sum of the data bytes in the crc format, else 0
        String name,        // ISO-8859-1, so every byte maps to one char and back
        byte[] buffer,
        int start,
        int dataOffset,
        int end) {

    static final int HEADER_SIZE = 110;
    static final String TRAILER = "TRAILER!!!";
    static final int S_IFMT = 0170000;
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;

    boolean isTrailer() {
        return name.equals(TRAILER);
    }

    boolean isDirectory() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    boolean isRegular() {
        return (mode & S_IFMT) == S_IFREG;
    }

    boolean isSymlink() {
        return (mode & S_IFMT) == S_IFLNK;
    }

    /** A copy of the entry's data (a file's content, a symlink's target). */
    byte[] data() {
        return java.util.Arrays.copyOfRange(buffer, dataOffset, dataOffset + fileSize);
    }

    String symlinkTarget() {
        return new String(buffer, dataOffset, fileSize, StandardCharsets.ISO_8859_1);
    }

    /** Serialises a new entry in the given format; the crc format's check is the sum of the data bytes. */
    static byte[] encode(boolean crcFormat, String name, long ino, int mode, long uid, long gid, long nlink,
                         long mtime, byte[] data) {
        byte[] n = name.getBytes(StandardCharsets.ISO_8859_1);
        long check = 0;
        if (crcFormat) {
            for (byte b : data) {
                check += b & 0xff;
            }
        }
        int nameSize = n.length + 1;
        int dataStart = align4(HEADER_SIZE + nameSize);
        byte[] out = new byte[align4(dataStart + data.length)];
        StringBuilder h = new StringBuilder(HEADER_SIZE).append(crcFormat ? "070702" : "070701");
        for (long v : new long[] {ino, mode, uid, gid, nlink, mtime, data.length, 0, 0, 0, 0, nameSize, check & 0xffffffffL}) {
            h.append(String.format("%08X", v));
        }
        byte[] hb = h.toString().getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(hb, 0, out, 0, HEADER_SIZE);
        System.arraycopy(n, 0, out, HEADER_SIZE, n.length);
        System.arraycopy(data, 0, out, dataStart, data.length);
        return out;
    }

    static int align4(int n) {
        return (n + 3) & ~3;
    }
}
