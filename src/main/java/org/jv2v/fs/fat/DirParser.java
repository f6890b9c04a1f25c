package org.jv2v.fs.fat;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * Decodes the 32-byte entries of a directory: VFAT long-name entries (checked against the short
 * entry's checksum and their sequence numbers; a broken set falls back to the 8.3 name as Linux
 * does), 8.3 names with the NT lower-case bits, and the timestamps. Deleted entries, volume
 * labels, "." and ".." are skipped; an entry starting with 0x00 ends the directory.
 */
final class DirParser {
    static final int ENTRY = 32;
    /** 20 long-name entries of 13 UTF-16 units: the 255-character limit plus padding. */
    private static final int MAX_LFN_ENTRIES = 20;
    /** Short names are in an OEM code page; Linux mounts with codepage=437 by default. */
    static final Charset OEM = oem();

    /** Bits of the NT reserved byte (0x0C) that say "show the base name / extension in lower case". */
    private static final int NT_LOWER_BASE = 0x08;
    private static final int NT_LOWER_EXT = 0x10;

    private DirParser() {}

    private static Charset oem() {
        try {
            return Charset.forName("IBM437");
        } catch (IllegalArgumentException e) {
            return StandardCharsets.ISO_8859_1;
        }
    }

    /**
     * The entries of a directory whose content is {@code data}; {@code offsetOf} maps an index in
     * {@code data} to its device offset.
     */
    static List<FatDirEntry> parse(byte[] data, int length, LongUnaryOperator offsetOf) {
        List<FatDirEntry> out = new ArrayList<>();
        char[] lfn = new char[MAX_LFN_ENTRIES * 13];
        int lfnTotal = 0;    // entries in the current long name, 0 when none is being collected
        int lfnExpect = 0;   // sequence number expected next
        int lfnSum = 0;
        for (int o = 0; o + ENTRY <= length; o += ENTRY) {
            int first = data[o] & 0xFF;
            if (first == 0x00) {
                break;
            }
            if (first == 0xE5) {
                lfnTotal = 0;
                continue;
            }
            int attr = data[o + 0x0B] & 0xFF;
            if ((attr & 0x3F) == 0x0F) {
                int seq = first & 0x1F;
                int sum = data[o + 0x0D] & 0xFF;
                if ((first & 0x40) != 0) {
                    if (seq == 0 || seq > MAX_LFN_ENTRIES) {
                        lfnTotal = 0;
                        continue;
                    }
                    lfnTotal = seq;
                    lfnSum = sum;
                    java.util.Arrays.fill(lfn, 0, seq * 13, (char) 0xFFFF);
                } else if (lfnTotal == 0 || seq != lfnExpect || sum != lfnSum) {
                    lfnTotal = 0;
                    continue;
                }
                copyLfnChars(data, o, lfn, (seq - 1) * 13);
                lfnExpect = seq - 1;
                continue;
            }
            boolean haveLfn = lfnTotal > 0 && lfnExpect == 0 && checksum(data, o) == lfnSum;
            int total = lfnTotal;
            lfnTotal = 0;
            if ((attr & FatDirEntry.VOLUME_ID) != 0) {
                continue;
            }
            if (isDot(data, o)) {
                continue;
            }
            String shortName = shortName(data, o, false);
            String name = haveLfn ? lfnString(lfn, total) : shortName(data, o, true);
            if (name.isEmpty()) {
                name = shortName;
            }
            out.add(entry(data, o, name, shortName, offsetOf.applyAsLong(o)));
        }
        return out;
    }

    /** The volume label entry of a root directory, if any (first one wins, as blkid reads it). */
    static String volumeLabel(byte[] data, int length) {
        for (int o = 0; o + ENTRY <= length; o += ENTRY) {
            int first = data[o] & 0xFF;
            if (first == 0x00) {
                break;
            }
            int attr = data[o + 0x0B] & 0xFF;
            if (first != 0xE5 && (attr & 0x3F) != 0x0F && (attr & FatDirEntry.VOLUME_ID) != 0) {
                return new String(data, o, 11, OEM);
            }
        }
        return null;
    }

    private static FatDirEntry entry(byte[] d, int o, String name, String shortName, long offset) {
        int attr = d[o + 0x0B] & 0xFF;
        long hi = u16(d, o + 0x14);   // DIR_FstClusHI (FAT32 only; masked by the caller's type)
        long lo = u16(d, o + 0x1A);   // DIR_FstClusLO
        long size = u32(d, o + 0x1C); // DIR_FileSize
        int crtDate = u16(d, o + 0x10);
        LocalDateTime created = crtDate == 0 ? null
                : dateTime(crtDate, u16(d, o + 0x0E)).plusNanos((d[o + 0x0D] & 0xFF) * 10_000_000L);
        LocalDateTime modified = dateTime(u16(d, o + 0x18), u16(d, o + 0x16));
        int acc = u16(d, o + 0x12);
        LocalDate accessed = acc == 0 ? null : date(acc);
        return new FatDirEntry(name, shortName, attr, hi << 16 | lo, size, created, modified, accessed, offset);
    }

    /**
     * A FAT date and time as a local time. Out-of-range fields are clamped, as Linux reads them
     * (a zero date is 1980-01-01).
     */
    static LocalDateTime dateTime(int date, int time) {
        int hours = time >>> 11;
        int minutes = (time >>> 5) & 0x3F;
        int twoSeconds = time & 0x1F;
        return date(date).atStartOfDay().plusHours(hours).plusMinutes(minutes).plusSeconds(2L * twoSeconds);
    }

    static LocalDate date(int date) {
        int year = 1980 + (date >>> 9);
        int month = Math.clamp((date >>> 5) & 0x0F, 1, 12);
        int day = Math.max(1, date & 0x1F);
        return LocalDate.of(year, month, 1).plusDays(day - 1L);
    }

    /** The checksum of an 8.3 name that every long-name entry carries. */
    static int checksum(byte[] d, int o) {
        int sum = 0;
        for (int i = 0; i < 11; i++) {
            sum = (((sum & 1) << 7) + (sum >>> 1) + (d[o + i] & 0xFF)) & 0xFF;
        }
        return sum;
    }

    private static void copyLfnChars(byte[] d, int o, char[] lfn, int at) {
        int[] offs = {0x01, 0x03, 0x05, 0x07, 0x09, 0x0E, 0x10, 0x12, 0x14, 0x16, 0x18, 0x1C, 0x1E};
        for (int i = 0; i < 13; i++) {
            lfn[at + i] = (char) u16(d, o + offs[i]);
        }
    }

    private static String lfnString(char[] lfn, int entries) {
        int n = 0;
        while (n < entries * 13 && lfn[n] != 0) {
            n++;
        }
        return new String(lfn, 0, n);
    }

    private static boolean isDot(byte[] d, int o) {
        if (d[o] != '.') {
            return false;
        }
        int i = 1;
        if (d[o + 1] == '.') {
            i = 2;
        }
        for (; i < 11; i++) {
            if (d[o + i] != ' ') {
                return false;
            }
        }
        return true;
    }

    /** "NAME.EXT" from the 11 stored bytes; with {@code applyCase}, the NT lower-case bits applied. */
    static String shortName(byte[] d, int o, boolean applyCase) {
        byte[] raw = java.util.Arrays.copyOfRange(d, o, o + 11);
        if ((raw[0] & 0xFF) == 0x05) {
            raw[0] = (byte) 0xE5; // 0x05 stands for a real leading 0xE5 (a KANJI lead byte)
        }
        int nt = d[o + 0x0C] & 0xFF;
        String base = rtrim(new String(raw, 0, 8, OEM));
        String ext = rtrim(new String(raw, 8, 3, OEM));
        if (applyCase && (nt & NT_LOWER_BASE) != 0) {
            base = asciiLower(base);
        }
        if (applyCase && (nt & NT_LOWER_EXT) != 0) {
            ext = asciiLower(ext);
        }
        return ext.isEmpty() ? base : base + "." + ext;
    }

    private static String asciiLower(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
        }
        return b.toString();
    }

    static String rtrim(String s) {
        int n = s.length();
        while (n > 0 && s.charAt(n - 1) == ' ') {
            n--;
        }
        return s.substring(0, n);
    }

    private static int u16(byte[] d, int o) {
        return (d[o] & 0xFF) | (d[o + 1] & 0xFF) << 8;
    }

    private static long u32(byte[] d, int o) {
        return (u16(d, o) | (long) u16(d, o + 2) << 16);
    }
}
