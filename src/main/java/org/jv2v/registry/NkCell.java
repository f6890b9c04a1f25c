package org.jv2v.registry;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A key node ("nk" cell). Offsets of other cells are relative to the first hive bin; -1 means none.
 *
 * @param flags  0x0004 hive root, 0x0008 cannot be deleted, 0x0010 symbolic link, 0x0020 name is
 *               Latin-1 ("compressed") rather than UTF-16LE
 */
record NkCell(int flags, long lastWritten, int parent, int subkeyCount, int subkeyList, int valueCount,
              int valueList, int security, int classCell, int classLength, String name) {

    static final int HEADER = 0x4C;
    static final int KEY_HIVE_ENTRY = 0x0004;
    static final int KEY_SYM_LINK = 0x0010;
    static final int KEY_COMP_NAME = 0x0020;
    static final int NONE = -1;

    static NkCell read(Cells cells, int rel, long from) {
        ByteBuffer b = cells.cell(rel, "key (nk)", from);
        long at = Cells.fileOffset(rel);
        if (b.capacity() < HEADER || b.get(0) != 'n' || b.get(1) != 'k') {
            throw Cells.bad(cells.name, "key (nk) cell", at, "signature \"" + Cells.ascii(b, 0, Math.min(2, b.capacity()))
                    + "\" is not \"nk\"");
        }
        int flags = b.getShort(0x02) & 0xFFFF;                 // 0x02 flags
        int nameLen = b.getShort(0x48) & 0xFFFF;               // 0x48 key name length (bytes)
        if (HEADER + nameLen > b.capacity()) {
            throw Cells.bad(cells.name, "key (nk) name length", at + 0x48, nameLen + " bytes run past the cell of "
                    + b.capacity() + " bytes");
        }
        byte[] raw = new byte[nameLen];
        b.get(HEADER, raw);                                     // 0x4C key name
        String name = (flags & KEY_COMP_NAME) != 0 ? new String(raw, StandardCharsets.ISO_8859_1)
                : new String(raw, StandardCharsets.UTF_16LE);
        return new NkCell(flags,
                b.getLong(0x04),                                // 0x04 last written (FILETIME)
                b.getInt(0x10),                                 // 0x10 parent key cell
                b.getInt(0x14),                                 // 0x14 number of subkeys
                b.getInt(0x1C),                                 // 0x1C subkey list cell
                b.getInt(0x24),                                 // 0x24 number of values
                b.getInt(0x28),                                 // 0x28 value list cell
                b.getInt(0x2C),                                 // 0x2C security (sk) cell
                b.getInt(0x30),                                 // 0x30 class name cell
                b.getShort(0x4A) & 0xFFFF,                      // 0x4A class name length (bytes)
                name);
    }
}
