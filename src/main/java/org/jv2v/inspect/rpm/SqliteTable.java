package org.jv2v.inspect.rpm;

import org.jv2v.BadInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Just enough of SQLite's file format (sqlite.org/fileformat.html) to read every row of one table
 * of a database file: the header, the schema table on page 1, table b-trees (interior and leaf
 * pages), records, and payloads spilled to overflow pages. Read-only, page by page; nothing is
 * trusted: every page number, cell offset, count and length is checked before it is used.
 */
public final class SqliteTable {
    static final byte[] MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);
    /** A b-tree deeper than this is a loop: 4 levels already index 10^12 rows of 512-byte pages. */
    static final int MAX_DEPTH = 20;
    /** A row bigger than this is not an RPM header (rpm refuses headers over 256 MiB) nor anything we read. */
    static final int MAX_PAYLOAD = 256 << 20;
    /** Columns of a row we decode; the tables jv2v reads have 2 (Packages) and 5 (sqlite_schema). */
    static final int MAX_COLUMNS = 64;

    /** Reads {@code dst.remaining()} bytes at {@code position} of the database file. */
    @FunctionalInterface
    public interface Source {
        void read(ByteBuffer dst, long position) throws IOException;
    }

    /** One row: its rowid and its column values (Long, Double, String, byte[] or null). */
    public record Row(long rowid, List<Object> values) {}

    private final Source src;
    private final String name;
    private final long fileSize;
    private final int pageSize;
    private final int usable;
    private final long pageCount;

    private SqliteTable(Source src, String name, long fileSize, int pageSize, int usable) {
        this.src = src;
        this.name = name;
        this.fileSize = fileSize;
        this.pageSize = pageSize;
        this.usable = usable;
        this.pageCount = fileSize / pageSize;
    }

    /**
     * The rows of table {@code table} in rowid order, each handed to {@code sink}; empty when the
     * database has no such table.
     */
    public static boolean forEachRow(Source src, long fileSize, String name, String table, RowSink sink)
            throws IOException {
        SqliteTable db = open(src, fileSize, name);
        Optional<Long> root = db.rootPage(table);
        if (root.isEmpty()) {
            return false;
        }
        db.walk(root.get(), 0, new java.util.BitSet(), sink);
        return true;
    }

    @FunctionalInterface
    public interface RowSink {
        void accept(Row row) throws IOException;
    }

    static SqliteTable open(Source src, long fileSize, String name) throws IOException {
        if (fileSize < 512) {
            throw badIn(name, "too small for an SQLite database (" + fileSize + " bytes)");
        }
        ByteBuffer h = ByteBuffer.allocate(100);
        src.read(h, 0);
        byte[] magic = new byte[16];
        h.get(0, magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw badAt(name, "magic", 0, "not an SQLite 3 database");
        }
        int ps = h.getShort(0x10) & 0xffff;                        // 0x10 page size (1 means 65536)
        int pageSize = ps == 1 ? 65536 : ps;
        if (pageSize < 512 || Integer.bitCount(pageSize) != 1) {
            throw badAt(name, "page size", 0x10, pageSize + " is not a power of two from 512 to 65536");
        }
        int reserved = h.get(0x14) & 0xff;                         // 0x14 bytes reserved at the end of each page
        int usable = pageSize - reserved;
        if (usable < 480) {
            throw badAt(name, "reserved bytes", 0x14, reserved + " leave less than 480 usable");
        }
        int encoding = h.getInt(0x38);                             // 0x38 text encoding: 1 UTF-8
        if (encoding != 1 && encoding != 0) {
            throw badAt(name, "text encoding", 0x38, encoding + " (only UTF-8 is read)");
        }
        return new SqliteTable(src, name, fileSize, pageSize, usable);
    }

    /** The root page of {@code table}, from the schema table (page 1: type, name, tbl_name, rootpage, sql). */
    Optional<Long> rootPage(String table) throws IOException {
        Long[] found = {null};
        walk(1, 0, new java.util.BitSet(), row -> {
            List<Object> v = row.values();
            if (v.size() >= 4 && "table".equals(v.get(0)) && table.equals(v.get(1)) && v.get(3) instanceof Long p) {
                found[0] = p;
            }
        });
        return Optional.ofNullable(found[0]);
    }

    private BadInputException bad(String problem) {
        return badIn(name, problem);
    }

    private BadInputException bad(String field, long offset, String problem) {
        return badAt(name, field, offset, problem);
    }

    private static BadInputException badIn(String name, String problem) {
        return BadInputException.of(name + ": " + problem);
    }

    /** {@code FILE: FIELD at offset 0xOFF: problem}, the file being a path inside the guest. */
    static BadInputException badAt(String name, String field, long offset, String problem) {
        return BadInputException.of(name + ": " + field + " at offset 0x" + Long.toHexString(offset) + ": " + problem);
    }

    private ByteBuffer page(long number, String what) throws IOException {
        if (number < 1 || number > pageCount) {
            throw bad(what + ": page " + number + " lies outside the " + pageCount
                    + " pages of the file");
        }
        ByteBuffer b = ByteBuffer.allocate(pageSize);
        src.read(b, (number - 1) * pageSize);
        return b.clear();
    }

    private void walk(long number, int depth, java.util.BitSet seen, RowSink sink) throws IOException {
        if (depth > MAX_DEPTH) {
            throw bad("table b-tree deeper than " + MAX_DEPTH + " levels at page " + number);
        }
        ByteBuffer p = page(number, "b-tree");
        if (seen.get(Math.toIntExact(number))) {
            throw bad("b-tree page " + number, (number - 1) * pageSize, "reached twice: the table's tree has a loop");
        }
        seen.set(Math.toIntExact(number));
        int at = number == 1 ? 100 : 0;                            // page 1 starts after the file header
        long pageOffset = (number - 1) * pageSize;
        int kind = p.get(at) & 0xff;                               // 0x00 page type
        int cells = p.getShort(at + 3) & 0xffff;                   // 0x03 cell count
        boolean leaf = kind == 0x0d;
        if (kind != 0x0d && kind != 0x05) {
            throw bad("b-tree page type", pageOffset + at, String.format("0x%02x is not a table page", kind));
        }
        int pointers = at + (leaf ? 8 : 12);
        if (pointers + 2L * cells > usable) {
            throw bad("cell count", pageOffset + at + 3, cells + " cells do not fit the page");
        }
        for (int i = 0; i < cells; i++) {
            int cell = p.getShort(pointers + 2 * i) & 0xffff;
            if (cell < pointers + 2 * cells || cell >= usable) {
                throw bad("cell pointer", pageOffset + pointers + 2 * i, cell + " lies outside the page's cell area");
            }
            if (leaf) {
                sink.accept(leafCell(p, cell, pageOffset));
            } else {
                if (cell + 4 > usable) {
                    throw bad("child page", pageOffset + cell, "past the page");
                }
                walk(p.getInt(cell) & 0xffffffffL, depth + 1, seen, sink);
            }
        }
        if (!leaf) {
            walk(p.getInt(at + 8) & 0xffffffffL, depth + 1, seen, sink); // 0x08 right-most child
        }
    }

    private Row leafCell(ByteBuffer p, int cell, long pageOffset) throws IOException {
        int[] pos = {cell};
        long payload = varint(p, pos, pageOffset);
        long rowid = varint(p, pos, pageOffset);
        if (payload < 0 || payload > MAX_PAYLOAD) {
            throw bad("payload size", pageOffset + cell, payload + " bytes");
        }
        int size = (int) payload;
        int maxLocal = usable - 35;
        int local;
        if (size <= maxLocal) {
            local = size;
        } else {
            int minLocal = (usable - 12) * 32 / 255 - 23;
            int k = minLocal + (size - minLocal) % (usable - 4);
            local = k <= maxLocal ? k : minLocal;
        }
        if (pos[0] + local + (local < size ? 4 : 0) > usable) {
            throw bad("cell", pageOffset + cell, "payload runs past the page");
        }
        byte[] data = new byte[size];
        p.get(pos[0], data, 0, local);
        if (local < size) {
            long next = p.getInt(pos[0] + local) & 0xffffffffL;
            int done = local;
            long hops = 0;
            while (done < size) {
                if (++hops > pageCount) {
                    throw bad("overflow chain", pageOffset + cell, "longer than the file: a loop");
                }
                ByteBuffer o = page(next, "overflow chain of row " + rowid);
                int n = Math.min(usable - 4, size - done);
                o.get(4, data, done, n);
                done += n;
                next = o.getInt(0) & 0xffffffffL;
            }
        }
        return new Row(rowid, record(data, pageOffset + cell));
    }

    /** A record: a header of serial types, then the values (sqlite.org/fileformat.html, "Record Format"). */
    private List<Object> record(byte[] data, long where) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data);
        int[] pos = {0};
        long headerSize = varint(b, pos, where);
        if (headerSize < 1 || headerSize > data.length) {
            throw bad("record header size", where, headerSize + " bytes");
        }
        List<Long> types = new ArrayList<>();
        while (pos[0] < headerSize) {
            if (types.size() >= MAX_COLUMNS) {
                throw bad("record", where, "more than " + MAX_COLUMNS + " columns");
            }
            types.add(varint(b, pos, where));
        }
        List<Object> values = new ArrayList<>(types.size());
        int at = (int) headerSize;
        for (long t : types) {
            int len = (int) Math.min(Integer.MAX_VALUE, t >= 12 ? (t - 12) / 2 : switch ((int) t) {
                case 1 -> 1; case 2 -> 2; case 3 -> 3; case 4 -> 4; case 5 -> 6; case 6, 7 -> 8; default -> 0;
            });
            if (t == 10 || t == 11 || len > data.length - at) {
                throw bad("record", where, "serial type " + t + " at byte " + at
                        + " does not fit the " + data.length + "-byte payload");
            }
            Object v;
            if (t == 0) {
                v = null;
            } else if (t == 7) {
                v = Double.longBitsToDouble(b.getLong(at));
            } else if (t == 8 || t == 9) {
                v = t - 8;
            } else if (t < 12) {
                long n = data[at];                                  // big-endian two's complement
                for (int i = 1; i < len; i++) {
                    n = (n << 8) | (data[at + i] & 0xff);
                }
                v = n;
            } else if (t % 2 == 0) {
                v = Arrays.copyOfRange(data, at, at + len);
            } else {
                v = new String(data, at, len, StandardCharsets.UTF_8);
            }
            values.add(v);
            at += len;
        }
        return values;
    }

    /** A big-endian varint of 1 to 9 bytes (the 9th byte gives all 8 of its bits). */
    private long varint(ByteBuffer b, int[] pos, long where) throws IOException {
        long v = 0;
        for (int i = 0; i < 9; i++) {
            if (pos[0] >= b.limit()) {
                throw bad("varint", where, "runs past its page or payload");
            }
            int c = b.get(pos[0]++) & 0xff;
            if (i == 8) {
                return (v << 8) | c;
            }
            v = (v << 7) | (c & 0x7f);
            if ((c & 0x80) == 0) {
                return v;
            }
        }
        return v;
    }
}
