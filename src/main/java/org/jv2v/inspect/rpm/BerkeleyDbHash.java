package org.jv2v.inspect.rpm;

import org.jv2v.BadInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.BitSet;

/**
 * A Berkeley DB hash database (format versions 8 to 10: Berkeley DB 4.x to 6.x), read-only, as
 * RPM keeps its Packages file on RHEL and CentOS 5 to 8 and SUSE before 15.3: every key/value pair,
 * bucket by bucket. Pages are in the byte order the magic number shows. Encrypted databases and
 * pages with checksums are refused (RPM never asks for either).
 *
 * <p>Layout: page 0 is the metadata page (bucket count, masks, and the "spares" table that turns a
 * bucket number into its first page); each bucket is a chain of hash pages (next_pgno); a page
 * holds an array of item offsets after its 26-byte header, items filling the page from its end, in
 * key/value pairs; an item too big for a page is an off-page reference to a chain of overflow
 * pages.
 *
 * <p>Untrusted input: every page is read at most once (a chain that comes back is an error, not a
 * hang), page numbers are checked against the file, counts against what a page can hold, and no
 * allocation is larger than the file.
 */
public final class BerkeleyDbHash {
    /** The hash metadata page's magic number. */
    static final int HASH_MAGIC = 0x061561;
    static final int BTREE_MAGIC = 0x053162;
    /** The generic page header's size: items' offsets start here. */
    static final int PAGE_HEADER = 26;
    static final int P_HASH_UNSORTED = 2;
    static final int P_OVERFLOW = 7;
    static final int P_HASHMETA = 8;
    static final int P_HASH = 13;
    static final int H_KEYDATA = 1;
    static final int H_DUPLICATE = 2;
    static final int H_OFFPAGE = 3;
    static final int H_OFFDUP = 4;
    /** The metadata page's spares table has one entry per possible doubling of the buckets. */
    static final int SPARES = 32;
    /** DBMETA_CHKSUM in the metadata page's flags byte. */
    static final int META_CHECKSUM = 0x01;

    /** A key/value pair, as stored. */
    @FunctionalInterface
    public interface PairVisitor {
        void accept(byte[] key, byte[] value, long pageOffset) throws IOException;
    }

    private final SqliteTable.Source src;
    private final long fileSize;
    private final String name;
    private final ByteOrder order;
    private final int pageSize;
    private final long lastPage;
    private final long maxBucket;
    private final long[] spares = new long[SPARES];
    private final BitSet seen = new BitSet();

    private BerkeleyDbHash(SqliteTable.Source src, long fileSize, String name) throws IOException {
        this.src = src;
        this.fileSize = fileSize;
        this.name = name;
        if (fileSize < 512) {
            throw bad("metadata page", 0, fileSize + " bytes, too short for a Berkeley DB file");
        }
        ByteBuffer m = ByteBuffer.allocate(512);
        src.read(m, 0);
        m.flip().order(ByteOrder.LITTLE_ENDIAN);
        int magic = m.getInt(0x0c);                                // 0x0c magic
        if (magic == HASH_MAGIC) {
            order = ByteOrder.LITTLE_ENDIAN;
        } else if (Integer.reverseBytes(magic) == HASH_MAGIC) {
            order = ByteOrder.BIG_ENDIAN;
        } else if (magic == BTREE_MAGIC || Integer.reverseBytes(magic) == BTREE_MAGIC) {
            throw bad("magic", 0x0c, "a Berkeley DB b-tree, not the hash database RPM keeps its packages in");
        } else {
            throw bad("magic", 0x0c, String.format("0x%08x is not a Berkeley DB hash database's", magic));
        }
        m.order(order);
        int version = m.getInt(0x10);                              // 0x10 version
        if (version < 8 || version > 10) {
            throw bad("version", 0x10, version + " is not a hash format version from 8 to 10");
        }
        long ps = m.getInt(0x14) & 0xffffffffL;                    // 0x14 page size
        if (ps < 512 || ps > 65536 || Long.bitCount(ps) != 1) {
            throw bad("page size", 0x14, ps + " is not a power of two from 512 to 65536");
        }
        pageSize = (int) ps;
        if ((m.get(0x18) & 0xff) != 0) {                           // 0x18 encryption algorithm
            throw bad("encryption algorithm", 0x18, "the database is encrypted");
        }
        if ((m.get(0x19) & 0xff) != P_HASHMETA) {                  // 0x19 page type
            throw bad("page type", 0x19, (m.get(0x19) & 0xff) + " is not a hash metadata page's (8)");
        }
        if ((m.get(0x1a) & META_CHECKSUM) != 0) {                  // 0x1a metadata flags
            throw bad("flags", 0x1a, "pages carry checksums, which jv2v does not read");
        }
        lastPage = m.getInt(0x20) & 0xffffffffL;                   // 0x20 last page number
        if ((lastPage + 1) * pageSize > fileSize || lastPage >= Integer.MAX_VALUE) {
            throw bad("last page", 0x20, "page " + lastPage + " lies past the end of the " + fileSize + "-byte file");
        }
        maxBucket = m.getInt(0x48) & 0xffffffffL;                  // 0x48 max_bucket (after the 72-byte generic part)
        if (maxBucket >= lastPage) {
            throw bad("max bucket", 0x48, maxBucket + " buckets cannot fit in " + lastPage + " pages");
        }
        for (int i = 0; i < SPARES; i++) {
            spares[i] = m.getInt(0x60 + 4 * i) & 0xffffffffL;      // 0x60 spares[32]
        }
    }

    /** Calls {@code visitor} with every key/value pair; {@code name} names the file in errors. */
    public static void forEachPair(SqliteTable.Source src, long size, String name, PairVisitor visitor)
            throws IOException {
        new BerkeleyDbHash(src, size, name).walk(visitor);
    }

    private void walk(PairVisitor visitor) throws IOException {
        for (long bucket = 0; bucket <= maxBucket; bucket++) {
            int bits = 64 - Long.numberOfLeadingZeros(bucket);     // the doubling that made this bucket
            long pgno = bucket + spares[bits];
            if (pgno < 1 || pgno > lastPage) {
                throw bad("spares", 0x60 + 4L * bits, "bucket " + bucket + " would be on page " + pgno
                        + ", not within pages 1 to " + lastPage);
            }
            while (pgno != 0) {
                ByteBuffer p = page(pgno, "bucket " + bucket);
                int type = p.get(0x19) & 0xff;                     // 0x19 page type
                if (type != P_HASH && type != P_HASH_UNSORTED) {
                    throw bad("page type", pgno * pageSize + 0x19, "page " + pgno + " of bucket " + bucket
                            + " has type " + type + ", not a hash page's (2 or 13)");
                }
                readPairs(pgno, p, visitor);
                pgno = p.getInt(0x10) & 0xffffffffL;               // 0x10 next page of this bucket
            }
        }
    }

    private void readPairs(long pgno, ByteBuffer p, PairVisitor visitor) throws IOException {
        long base = pgno * pageSize;
        int entries = p.getShort(0x14) & 0xffff;                   // 0x14 item count
        int firstItem = PAGE_HEADER + 2 * entries;
        if (firstItem > pageSize || entries % 2 != 0) {
            throw bad("item count", base + 0x14, entries + " items on page " + pgno
                    + " (an odd count, or more offsets than the page holds)");
        }
        int previous = pageSize;
        int[] offsets = new int[entries];
        int[] lengths = new int[entries];
        for (int i = 0; i < entries; i++) {
            int at = p.getShort(PAGE_HEADER + 2 * i) & 0xffff;     // 0x1a item offsets
            if (at < firstItem || at >= previous) {
                throw bad("item offset", base + PAGE_HEADER + 2 * i, "item " + i + " of page " + pgno
                        + " at " + at + " is not between the offsets and the item before it (" + previous + ")");
            }
            offsets[i] = at;
            lengths[i] = previous - at;
            previous = at;
        }
        for (int i = 0; i < entries; i += 2) {
            byte[] key = item(pgno, p, offsets[i], lengths[i]);
            byte[] value = item(pgno, p, offsets[i + 1], lengths[i + 1]);
            visitor.accept(key, value, base + offsets[i]);
        }
    }

    private byte[] item(long pgno, ByteBuffer p, int at, int len) throws IOException {
        long where = pgno * pageSize + at;
        int type = p.get(at) & 0xff;
        switch (type) {
            case H_KEYDATA -> {
                byte[] out = new byte[len - 1];
                p.get(at + 1, out);
                return out;
            }
            case H_OFFPAGE -> {
                if (len != 12) {
                    throw bad("off-page item", where, len + " bytes, not 12");
                }
                long first = p.getInt(at + 4) & 0xffffffffL;       // +0x04 first overflow page
                long total = p.getInt(at + 8) & 0xffffffffL;       // +0x08 total length
                return overflow(first, total, where);
            }
            case H_DUPLICATE, H_OFFDUP -> throw bad("item type", where, "duplicate values (type " + type
                    + "), which an RPM Packages database never has");
            default -> throw bad("item type", where, type + " is not a hash item type");
        }
    }

    /** An overflow chain's bytes; {@code total} is checked against the file before anything is allocated. */
    private byte[] overflow(long first, long total, long where) throws IOException {
        if (total == 0 || total > fileSize || total > Integer.MAX_VALUE - 8) {
            throw bad("off-page item length", where + 8, total + " bytes cannot come from a " + fileSize
                    + "-byte file");
        }
        byte[] out = new byte[(int) total];
        int done = 0;
        long pgno = first;
        while (done < total) {
            if (pgno == 0) {
                throw bad("overflow chain", where + 4, "ends after " + done + " of its " + total + " bytes");
            }
            ByteBuffer p = page(pgno, "overflow chain");
            if ((p.get(0x19) & 0xff) != P_OVERFLOW) {
                throw bad("page type", pgno * pageSize + 0x19, "page " + pgno + " in an overflow chain has type "
                        + (p.get(0x19) & 0xff) + ", not 7");
            }
            int len = p.getShort(0x16) & 0xffff;                   // 0x16 bytes of data on this page
            if (len > pageSize - PAGE_HEADER || len > total - done || len == 0) {
                throw bad("overflow length", pgno * pageSize + 0x16, len + " bytes on page " + pgno + " (with "
                        + (total - done) + " still to come, " + (pageSize - PAGE_HEADER) + " room)");
            }
            p.get(PAGE_HEADER, out, done, len);
            done += len;
            pgno = p.getInt(0x10) & 0xffffffffL;                   // 0x10 next page
        }
        return out;
    }

    /** Page {@code pgno}, read once: a page reached a second time means the chains loop. */
    private ByteBuffer page(long pgno, String what) throws IOException {
        if (pgno < 1 || pgno > lastPage) {
            throw bad(what, 0, "page " + pgno + " is not within pages 1 to " + lastPage);
        }
        if (seen.get((int) pgno)) {
            throw bad(what, pgno * pageSize, "page " + pgno + " reached twice: the chains loop");
        }
        seen.set((int) pgno);
        ByteBuffer p = ByteBuffer.allocate(pageSize);
        src.read(p, pgno * pageSize);
        p.flip().order(order);
        long self = p.getInt(0x08) & 0xffffffffL;                  // 0x08 page number
        if (self != pgno) {
            throw bad("page number", pgno * pageSize + 0x08, "page " + pgno + " says it is page " + self);
        }
        return p;
    }

    private BadInputException bad(String field, long offset, String problem) {
        return SqliteTable.badAt(name, field, offset, problem);
    }
}
