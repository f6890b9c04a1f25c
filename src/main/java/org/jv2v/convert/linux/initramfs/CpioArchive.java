package org.jv2v.convert.linux.initramfs;

import org.jv2v.BadInputException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One cpio archive: its entries up to and including the {@code TRAILER!!!} entry, at
 * {@code buffer[start, end)}. Parsed with the kernel's rules (init/initramfs.c): headers on 4-byte
 * boundaries, every number hex, names at most PATH_MAX bytes; every size is checked against the
 * bytes that are really there before anything is read.
 */
record CpioArchive(byte[] buffer, int start, int end, List<CpioEntry> entries) {

    /** PATH_MAX: the kernel skips longer names, so no real archive has one; we refuse them. */
    static final int MAX_NAME_SIZE = 4096;

    /** Says where an offset of the buffer is, for messages ("initrd.img: gzip part at 0x1000, unpacked offset 0x5c"). */
    interface Where {
        String at(long offset);
    }

    /** Counts entries across an image, against the cap. */
    static final class Budget {
        private final int maxEntries;
        private int entries;

        Budget(int maxEntries) {
            this.maxEntries = maxEntries;
        }

        void take(Where where, int offset) {
            if (++entries > maxEntries) {
                throw BadInputException.of(where.at(offset) + ": more than " + maxEntries
                        + " cpio entries, the limit (a real initramfs has some thousands)");
            }
        }
    }

    CpioEntry trailer() {
        return entries.getLast();
    }

    /** Parses the archive whose first header is at {@code pos} (4-aligned), reading no further than {@code limit}. */
    static CpioArchive parse(byte[] buf, int pos, int limit, Where where, Budget budget) {
        int start = pos;
        List<CpioEntry> entries = new ArrayList<>();
        while (true) {
            if (pos >= limit) {
                throw BadInputException.of(where.at(pos) + ": the cpio archive ends without its TRAILER!!! entry");
            }
            budget.take(where, pos);
            CpioEntry e = parseEntry(buf, pos, limit, where);
            entries.add(e);
            pos = e.end();
            if (e.isTrailer()) {
                return new CpioArchive(buf, start, pos, List.copyOf(entries));
            }
        }
    }

    private static CpioEntry parseEntry(byte[] buf, int pos, int limit, Where where) {
        if (pos + CpioEntry.HEADER_SIZE > limit) {
            throw BadInputException.of(where.at(pos) + ": cpio header is truncated ("
                    + (limit - pos) + " of 110 bytes)");
        }
        String magic = new String(buf, pos, 6, StandardCharsets.ISO_8859_1);
        boolean crc;
        if (magic.equals("070701")) {
            crc = false;
        } else if (magic.equals("070702")) {
            crc = true;
        } else if (magic.equals("070707")) {
            throw BadInputException.of(where.at(pos) + ": cpio magic \"070707\" is the old binary-ASCII format;"
                    + " the kernel reads only \"newc\" (070701)");
        } else {
            throw BadInputException.of(where.at(pos) + ": no cpio magic (\"070701\" expected, found \""
                    + printable(magic) + "\")");
        }
        long[] f = new long[13];
        String[] names = {"c_ino", "c_mode", "c_uid", "c_gid", "c_nlink", "c_mtime", "c_filesize", "c_devmajor",
                "c_devminor", "c_rdevmajor", "c_rdevminor", "c_namesize", "c_check"};
        for (int i = 0; i < 13; i++) {
            f[i] = hex(buf, pos + 6 + 8 * i, where, names[i]);
        }
        long nameSize = f[11];
        long fileSize = f[6];
        if (nameSize < 2 || nameSize > MAX_NAME_SIZE) {
            throw BadInputException.of(where.at(pos + 0x5e) + ": cpio c_namesize " + nameSize
                    + " is impossible (1 to " + (MAX_NAME_SIZE - 1) + " bytes of name and a NUL)");
        }
        int nameStart = pos + CpioEntry.HEADER_SIZE;
        int dataStart = pos + CpioEntry.align4(CpioEntry.HEADER_SIZE + (int) nameSize);
        if (nameStart + nameSize > limit) {
            throw BadInputException.of(where.at(pos + 0x5e) + ": cpio name (" + nameSize
                    + " bytes) runs past the end of the data");
        }
        if (buf[nameStart + (int) nameSize - 1] != 0) {
            throw BadInputException.of(where.at(nameStart) + ": cpio name is not NUL-terminated within c_namesize");
        }
        String name = new String(buf, nameStart, (int) nameSize - 1, StandardCharsets.ISO_8859_1);
        if (name.indexOf('\0') >= 0) {
            throw BadInputException.of(where.at(nameStart) + ": cpio name has a NUL inside it");
        }
        // The kernel would resolve "a/../b" against whatever "a" is by then; no initramfs tool
        // writes such a name, and a tree that depends on it cannot be edited safely.
        if (("/" + name + "/").contains("/../")) {
            throw BadInputException.of(where.at(nameStart) + ": cpio name '" + printable(name)
                    + "' has a '..' component (refused: it would climb out of its folder)");
        }
        if (fileSize > limit - (long) dataStart) {
            throw BadInputException.of(where.at(pos + 0x36) + ": cpio c_filesize " + fileSize + " of '" + printable(name)
                    + "' runs past the end of the data (" + Math.max(0, limit - dataStart) + " bytes left)");
        }
        int end = CpioEntry.align4(dataStart + (int) fileSize);
        if (end > limit) {
            end = limit;                            // the trailer's padding may be cut by the end of the data
        }
        return new CpioEntry(crc, f[0], (int) f[1], f[2], f[3], f[4], f[5], (int) fileSize, f[7], f[8], f[9], f[10],
                (int) nameSize, f[12], name, buf, pos, dataStart, end);
    }

    private static long hex(byte[] buf, int p, Where where, String field) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            int c = buf[p + i];
            int d = Character.digit(c, 16);
            if (d < 0 || c > 'f') {
                throw BadInputException.of(where.at(p) + ": cpio " + field + " \""
                        + printable(new String(buf, p, 8, StandardCharsets.ISO_8859_1)) + "\" is not 8 hex digits");
            }
            v = v << 4 | d;
        }
        return v;
    }

    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
            if (b.length() > 120) {
                return b.append("...").toString();
            }
        }
        return b.toString();
    }
}
