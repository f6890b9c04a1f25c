package org.jv2v.registry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** One key of a hive: its name, class, last-written time, subkeys and values, read on demand. */
public final class RegistryKey {
    /** Windows stores one level of "ri" indirection; allow a little more, but not a loop. */
    static final int MAX_LIST_DEPTH = 8;
    /** Big data ("db") splits values into segments of this many bytes. */
    static final int BIG_DATA_SEGMENT = 16344;

    private final Hive hive;
    private final int cell;
    private final NkCell nk;
    private final String path;

    RegistryKey(Hive hive, int cell, NkCell nk, String path) {
        this.hive = hive;
        this.cell = cell;
        this.nk = nk;
        this.path = path;
    }

    /** The name as stored (the root key's name is whatever the hive creator chose, e.g. "ROOT"). */
    public String name() {
        return nk.name();
    }

    /** The path from the hive's root: "\" for the root, "\ControlSet001\Services" below it. */
    public String path() {
        return path;
    }

    public Instant lastWritten() {
        return Hive.filetime(nk.lastWritten());
    }

    /** The cell holding this key (relative to the first hive bin), for a writer or a message. */
    public int cellOffset() {
        return cell;
    }

    /** A volatile-style symbolic link key (its target is in the "SymbolicLinkValue" value). */
    public boolean isLink() {
        return (nk.flags() & NkCell.KEY_SYM_LINK) != 0;
    }

    public int subkeyCount() {
        return nk.subkeyCount();
    }

    /** The key's class name (rarely used; some keys under Lsa keep secrets in it). */
    public Optional<String> className() {
        if (nk.classCell() == NkCell.NONE || nk.classLength() == 0) {
            return Optional.empty();
        }
        ByteBuffer b = hive.cells.cell(nk.classCell(), "class name", Cells.fileOffset(cell) + 0x30);
        if (nk.classLength() > b.capacity()) {
            throw Cells.bad(hive.name(), "key (nk) class name length", Cells.fileOffset(cell) + 0x4A,
                    nk.classLength() + " bytes run past the class name cell of " + b.capacity() + " bytes");
        }
        byte[] raw = new byte[nk.classLength()];
        b.get(0, raw);
        return Optional.of(new String(raw, StandardCharsets.UTF_16LE));
    }

    public List<RegistryKey> subkeys() {
        List<Integer> cells = childCells();
        List<RegistryKey> out = new ArrayList<>(cells.size());
        for (int c : cells) {
            out.add(child(c));
        }
        return out;
    }

    /** The subkey named {@code name}, compared case-insensitively as Windows does. */
    public Optional<RegistryKey> subkey(String name) {
        for (int c : childCells()) {
            RegistryKey k = child(c);
            if (Hive.sameName(k.name(), name)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    public List<RegistryValue> values() {
        List<RegistryValue> out = new ArrayList<>();
        for (VkCell vk : valueCells()) {
            out.add(new RegistryValue(vk.name(), vk.type(), data(vk), hive.name() + " key " + path));
        }
        return out;
    }

    /** The value named {@code name} ("" for the default value), compared case-insensitively. */
    public Optional<RegistryValue> value(String name) {
        for (VkCell vk : valueCells()) {
            if (Hive.sameName(vk.name(), name)) {
                return Optional.of(new RegistryValue(vk.name(), vk.type(), data(vk), hive.name() + " key " + path));
            }
        }
        return Optional.empty();
    }

    private RegistryKey child(int c) {
        long from = Cells.fileOffset(cell) + 0x1C;
        NkCell k = NkCell.read(hive.cells, c, from);
        if (k.parent() != cell) {
            throw Cells.bad(hive.name(), "key (nk) parent", Cells.fileOffset(c) + 0x10, "subkey \"" + k.name() + "\" of "
                    + path + " names parent 0x" + Integer.toHexString(k.parent()) + ", not 0x" + Integer.toHexString(cell)
                    + " (a subkey-list loop or a corrupt hive)");
        }
        return new RegistryKey(hive, c, k, (path.equals("\\") ? "" : path) + "\\" + k.name());
    }

    /** The cells of the subkeys, in list order, through lf/lh/li leaves and ri indexes. */
    List<Integer> childCells() {
        if (nk.subkeyCount() == 0) {
            return List.of();
        }
        long from = Cells.fileOffset(cell) + 0x1C;
        if (nk.subkeyList() == NkCell.NONE) {
            throw Cells.bad(hive.name(), "key (nk) subkey list", from, path + " has " + nk.subkeyCount()
                    + " subkeys but no list");
        }
        List<Integer> out = new ArrayList<>();
        collect(nk.subkeyList(), from, 0, new HashSet<>(), out);
        if (out.size() != nk.subkeyCount()) {
            throw Cells.bad(hive.name(), "key (nk) number of subkeys", Cells.fileOffset(cell) + 0x14,
                    path + " says " + Integer.toUnsignedString(nk.subkeyCount()) + " but its lists hold " + out.size());
        }
        return out;
    }

    private void collect(int list, long from, int depth, Set<Integer> seen, List<Integer> out) {
        if (!seen.add(list)) {
            throw Cells.bad(hive.name(), "subkey list", from, "list cell 0x" + Integer.toHexString(list)
                    + " of " + path + " is reached twice: the subkey lists form a loop");
        }
        if (depth > MAX_LIST_DEPTH) {
            throw Cells.bad(hive.name(), "subkey list", from, "indexes nested deeper than " + MAX_LIST_DEPTH);
        }
        ByteBuffer b = hive.cells.cell(list, "subkey list", from);
        long at = Cells.fileOffset(list);
        if (b.capacity() < 4) {
            throw Cells.bad(hive.name(), "subkey list", at, "cell too small");
        }
        String sig = Cells.ascii(b, 0, 2);
        int count = b.getShort(0x02) & 0xFFFF;                  // 0x02 number of entries
        int stride = switch (sig) {
            case "lf", "lh" -> 8;                               // 0x04 entries: cell offset, name hint/hash
            case "li", "ri" -> 4;                               // 0x04 entries: cell offset
            default -> throw Cells.bad(hive.name(), "subkey list signature", at, "\"" + sig + "\" is not lf, lh, li or ri");
        };
        if (4L + (long) count * stride > b.capacity()) {
            throw Cells.bad(hive.name(), "subkey list count", at + 2, count + " entries do not fit the cell of "
                    + b.capacity() + " bytes");
        }
        for (int i = 0; i < count; i++) {
            int entry = b.getInt(4 + i * stride);
            if (sig.equals("ri")) {
                collect(entry, at + 4 + 4L * i, depth + 1, seen, out);
            } else {
                if (out.size() >= hive.cells.binsSize / 8) {     // every cell takes at least 8 bytes
                    throw Cells.bad(hive.name(), "subkey list", at, "more entries than the hive has cells");
                }
                out.add(entry);
            }
        }
    }

    private List<VkCell> valueCells() {
        int count = nk.valueCount();
        if (count == 0) {
            return List.of();
        }
        long from = Cells.fileOffset(cell) + 0x28;
        if (nk.valueList() == NkCell.NONE) {
            throw Cells.bad(hive.name(), "key (nk) value list", from, path + " has " + count + " values but no list");
        }
        ByteBuffer b = hive.cells.cell(nk.valueList(), "value list", from);
        if (count < 0 || (long) count * 4 > b.capacity()) {
            throw Cells.bad(hive.name(), "key (nk) number of values", Cells.fileOffset(cell) + 0x24,
                    Integer.toUnsignedString(count) + " values do not fit the value list of " + b.capacity() + " bytes");
        }
        long at = Cells.fileOffset(nk.valueList());
        List<VkCell> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(VkCell.read(hive.cells, b.getInt(4 * i), at + 4L * i));
        }
        return out;
    }

    private byte[] data(VkCell vk) {
        int len = vk.length();
        long field = vk.fileOffset() + 0x08;
        if (vk.inline()) {
            if (len > 4) {
                throw Cells.bad(hive.name(), "value (vk) data size", vk.fileOffset() + 0x04, "inline data of " + len
                        + " bytes (at most 4 fit)");
            }
            byte[] d = new byte[len];
            ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, vk.dataOffset()).get(0, d);
            return d;
        }
        if (len == 0) {
            return new byte[0];
        }
        if (len > hive.cells.binsSize) {
            throw Cells.bad(hive.name(), "value (vk) data size", vk.fileOffset() + 0x04, len
                    + " bytes is more than the whole hive holds");
        }
        ByteBuffer c = hive.cells.cell(vk.dataOffset(), "value data", field);
        if (len > BIG_DATA_SEGMENT && c.capacity() >= 8 && c.get(0) == 'd' && c.get(1) == 'b') {
            return bigData(c, len, Cells.fileOffset(vk.dataOffset()));
        }
        if (len > c.capacity()) {
            throw Cells.bad(hive.name(), "value (vk) data size", vk.fileOffset() + 0x04, len
                    + " bytes do not fit the data cell of " + c.capacity() + " bytes");
        }
        byte[] d = new byte[len];
        c.get(0, d);
        return d;
    }

    /** "db": a list of segment cells of {@link #BIG_DATA_SEGMENT} bytes each (the last one shorter). */
    private byte[] bigData(ByteBuffer db, int len, long at) {
        int count = db.getShort(0x02) & 0xFFFF;                 // 0x02 number of segments
        int listCell = db.getInt(0x04);                         // 0x04 segment list cell
        ByteBuffer list = hive.cells.cell(listCell, "big data segment list", at + 4);
        if ((long) count * 4 > list.capacity() || (long) count * BIG_DATA_SEGMENT < len) {
            throw Cells.bad(hive.name(), "big data (db) segment count", at + 2, count + " segments cannot hold "
                    + len + " bytes in a list of " + list.capacity() + " bytes");
        }
        byte[] d = new byte[len];
        int done = 0;
        long listAt = Cells.fileOffset(listCell);
        for (int i = 0; i < count && done < len; i++) {
            ByteBuffer seg = hive.cells.cell(list.getInt(4 * i), "big data segment", listAt + 4L * i);
            int n = Math.min(BIG_DATA_SEGMENT, len - done);
            if (seg.capacity() < n) {
                throw Cells.bad(hive.name(), "big data segment", listAt + 4L * i, "cell of " + seg.capacity()
                        + " bytes is shorter than the " + n + " bytes it must hold");
            }
            seg.get(0, d, done, n);
            done += n;
        }
        return d;
    }

    @Override
    public String toString() {
        return "RegistryKey[" + path + "]";
    }
}
