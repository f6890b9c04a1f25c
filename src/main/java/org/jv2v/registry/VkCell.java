package org.jv2v.registry;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A value ("vk" cell).
 *
 * @param dataSize    bytes of data; bit 31 set means the data (at most 4 bytes) is stored in the
 *                    data offset field itself
 * @param dataOffset  the data cell (or "db" big-data cell), or the inline data
 */
record VkCell(String name, int dataSize, int dataOffset, int type, int flags, long fileOffset) {

    static final int HEADER = 0x14;
    static final int VALUE_COMP_NAME = 0x0001;
    static final int INLINE = 0x80000000;

    static VkCell read(Cells cells, int rel, long from) {
        ByteBuffer b = cells.cell(rel, "value (vk)", from);
        long at = Cells.fileOffset(rel);
        if (b.capacity() < HEADER || b.get(0) != 'v' || b.get(1) != 'k') {
            throw Cells.bad(cells.name, "value (vk) cell", at, "signature \"" + Cells.ascii(b, 0, Math.min(2, b.capacity()))
                    + "\" is not \"vk\"");
        }
        int nameLen = b.getShort(0x02) & 0xFFFF;               // 0x02 name length (bytes)
        int flags = b.getShort(0x10) & 0xFFFF;                 // 0x10 flags
        if (HEADER + nameLen > b.capacity()) {
            throw Cells.bad(cells.name, "value (vk) name length", at + 0x02, nameLen + " bytes run past the cell of "
                    + b.capacity() + " bytes");
        }
        byte[] raw = new byte[nameLen];
        b.get(HEADER, raw);                                     // 0x14 name
        String name = (flags & VALUE_COMP_NAME) != 0 ? new String(raw, StandardCharsets.ISO_8859_1)
                : new String(raw, StandardCharsets.UTF_16LE);
        return new VkCell(name,
                b.getInt(0x04),                                 // 0x04 data size (bit 31: inline)
                b.getInt(0x08),                                 // 0x08 data cell / inline data
                b.getInt(0x0C),                                 // 0x0C type
                flags, at);
    }

    boolean inline() {
        return (dataSize & INLINE) != 0;
    }

    int length() {
        return dataSize & ~INLINE;
    }
}
