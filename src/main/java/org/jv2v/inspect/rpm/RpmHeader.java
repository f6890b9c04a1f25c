package org.jv2v.inspect.rpm;

import org.jv2v.BadInputException;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An RPM header as the package database stores it (rpm's "header blob", the on-disk header without
 * its 8-byte magic): an index of tags pointing into a data store. Only the tags an inventory needs
 * are kept; strings of every other tag are skipped unread.
 */
public record RpmHeader(Map<Integer, Object> tags) {
    public static final int NAME = 1000;
    public static final int VERSION = 1001;
    public static final int RELEASE = 1002;
    public static final int EPOCH = 1003;
    public static final int SUMMARY = 1004;
    public static final int DESCRIPTION = 1005;
    public static final int URL = 1020;
    public static final int ARCH = 1022;

    /** rpm's own bound on index entries (hdrchkTags: 0xffff). */
    static final int MAX_TAGS = 0xffff;
    /** rpm's own bound on a header's data (hdrchkData: under 256 MiB). */
    static final int MAX_DATA = 256 << 20;

    private static final int TYPE_INT32 = 4;
    private static final int TYPE_STRING = 6;
    private static final int TYPE_I18NSTRING = 9;

    /**
     * Parses {@code blob}; {@code name} and {@code where} (the row) go into error messages.
     */
    static RpmHeader read(byte[] blob, String name, String where) {
        ByteBuffer b = ByteBuffer.wrap(blob);                      // big-endian, as rpm writes it
        if (blob.length < 8) {
            throw bad(name, where, 0, "header", blob.length + " bytes, too short for a header");
        }
        long il = b.getInt(0) & 0xffffffffL;                       // 0x00 index entries
        long dl = b.getInt(4) & 0xffffffffL;                       // 0x04 data bytes
        if (il < 1 || il > MAX_TAGS) {
            throw bad(name, where, 0, "index entry count", il + " is not within [1, " + MAX_TAGS + "]");
        }
        if (dl > MAX_DATA || 8 + 16 * il + dl > blob.length) {
            throw bad(name, where, 4, "data length", dl + " bytes do not fit the " + blob.length + "-byte header");
        }
        int data = (int) (8 + 16 * il);
        Map<Integer, Object> tags = new HashMap<>();
        for (int i = 0; i < il; i++) {
            int e = 8 + 16 * i;
            int tag = b.getInt(e);                                 // 0x00 tag
            int type = b.getInt(e + 4);                            // 0x04 type
            long offset = b.getInt(e + 8) & 0xffffffffL;           // 0x08 offset into the data store
            long count = b.getInt(e + 12) & 0xffffffffL;           // 0x0c count
            if (tag != NAME && tag != VERSION && tag != RELEASE && tag != EPOCH && tag != SUMMARY
                    && tag != DESCRIPTION && tag != URL && tag != ARCH) {
                continue;
            }
            if (offset >= dl || count < 1) {
                throw bad(name, where, e + 8, "tag " + tag, "offset " + offset + " (count " + count
                        + ") lies outside the " + dl + "-byte data store");
            }
            int at = (int) (data + offset);
            int end = (int) (data + dl);
            if (type == TYPE_INT32) {
                if (at + 4 > end) {
                    throw bad(name, where, e + 8, "tag " + tag, "a 32-bit number past the data store");
                }
                tags.put(tag, (long) b.getInt(at));
            } else if (type == TYPE_STRING || type == TYPE_I18NSTRING) {
                // an I18N string is an array, one per language; the first is the untranslated one,
                // which is what librpm gives in the C locale
                int nul = at;
                while (nul < end && blob[nul] != 0) {
                    nul++;
                }
                if (nul == end) {
                    throw bad(name, where, e + 8, "tag " + tag, "string not terminated inside the data store");
                }
                tags.put(tag, new String(blob, at, nul - at, StandardCharsets.UTF_8));
            }
        }
        return new RpmHeader(tags);
    }

    public Optional<String> string(int tag) {
        return tags.get(tag) instanceof String s ? Optional.of(s) : Optional.empty();
    }

    public Optional<Long> number(int tag) {
        return tags.get(tag) instanceof Long n ? Optional.of(n) : Optional.empty();
    }

    private static BadInputException bad(String name, String where, long offset, String field, String problem) {
        return SqliteTable.badAt(name + " (" + where + ")", field, offset, problem);
    }
}
