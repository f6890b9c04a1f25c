package org.jv2v.registry;

import org.jv2v.BadInputException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;

/**
 * The hive bins of a hive and the cells in them. Every structure references others by cell
 * offset (relative to the first bin); only offsets of allocated cells found while scanning the
 * bins are accepted, so a crafted offset can never point into the middle of a cell or past the end.
 * A writer would add allocation (split a free cell, or append a bin) and freeing here.
 */
final class Cells {
    static final int BIN_ALIGN = 0x1000;
    static final int BIN_HEADER = 0x20;

    final String name;
    final ByteBuffer file;
    final int binsSize;
    private final BitSet allocated;

    private Cells(String name, ByteBuffer file, int binsSize, BitSet allocated) {
        this.name = name;
        this.file = file;
        this.binsSize = binsSize;
        this.allocated = allocated;
    }

    static Cells scan(String name, ByteBuffer file, BaseBlock base) {
        long size = file.capacity();
        long binsSize = base.hiveBinsSize() & 0xFFFFFFFFL;
        if (binsSize % BIN_ALIGN != 0 || binsSize == 0 || binsSize > size - BaseBlock.SIZE) {
            throw bad(name, "hive bins data size", 0x28, binsSize + " is not a positive multiple of 4096 within the file's "
                    + (size - BaseBlock.SIZE) + " bytes after the base block");
        }
        BitSet allocated = new BitSet((int) (binsSize / 4));
        int rel = 0;
        while (rel < binsSize) {
            int at = BaseBlock.SIZE + rel;
            if (!"hbin".equals(ascii(file, at, 4))) {
                throw bad(name, "hive bin magic", at, "not \"hbin\"");
            }
            int binOffset = file.getInt(at + 0x04);            // 0x04 offset of this bin
            long binSize = file.getInt(at + 0x08) & 0xFFFFFFFFL; // 0x08 size of this bin
            if (binOffset != rel) {
                throw bad(name, "hive bin offset", at + 0x04, "says 0x" + Integer.toHexString(binOffset)
                        + ", the bin is at 0x" + Integer.toHexString(rel));
            }
            if (binSize < BIN_ALIGN || binSize % BIN_ALIGN != 0 || rel + binSize > binsSize) {
                throw bad(name, "hive bin size", at + 0x08, binSize + " is not a multiple of 4096 within the hive bins");
            }
            int cell = rel + BIN_HEADER;
            int binEnd = (int) (rel + binSize);
            while (cell < binEnd) {
                int raw = file.getInt(BaseBlock.SIZE + cell);
                long len = Math.abs((long) raw);
                // Windows pads cells to 8 bytes; hivex accepts any multiple of 4, and so do we.
                if (len < 8 || len % 4 != 0 || cell + len > binEnd) {
                    throw bad(name, "cell size", BaseBlock.SIZE + cell, raw + " is not a multiple of 4 within its bin");
                }
                if (raw < 0) {
                    allocated.set(cell / 4);
                }
                cell += (int) len;
            }
            rel = binEnd;
        }
        return new Cells(name, file, (int) binsSize, allocated);
    }

    /**
     * The body of the allocated cell at {@code rel} (after its size field), little-endian, its
     * capacity the body's size. {@code what} names the expected structure and {@code from} the
     * file offset of the field that referenced it, for the error.
     */
    ByteBuffer cell(int rel, String what, long from) {
        if (rel < BIN_HEADER || rel >= binsSize || rel % 4 != 0 || !allocated.get(rel / 4)) {
            throw bad(name, what + " cell offset", from, "0x" + Integer.toHexString(rel)
                    + (rel < 0 || rel >= binsSize ? " is past the end of the hive bins (0x" + Integer.toHexString(binsSize) + ")"
                    : " is not an allocated cell"));
        }
        int size = -file.getInt(BaseBlock.SIZE + rel);
        return file.slice(BaseBlock.SIZE + rel + 4, size - 4).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The file offset of the body of the cell at {@code rel}. */
    static long fileOffset(int rel) {
        return BaseBlock.SIZE + (rel & 0xFFFFFFFFL) + 4;
    }

    static String ascii(ByteBuffer b, int off, int n) {
        byte[] x = new byte[n];
        b.get(off, x);
        return new String(x, StandardCharsets.ISO_8859_1);
    }

    static BadInputException bad(String name, String field, long offset, String problem) {
        return BadInputException.of(name + ": " + field + " at offset 0x" + Long.toHexString(offset) + ": " + problem);
    }
}
