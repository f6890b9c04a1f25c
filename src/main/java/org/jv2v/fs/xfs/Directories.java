package org.jv2v.fs.xfs;

import org.jv2v.fs.FileKind;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Directory entries in every form: shortform (inside the inode), and block, leaf and node
 * directories, whose entries all live in the data blocks below the 32 GiB leaf offset of the data
 * fork. Listing walks those data blocks; the hash-ordered leaf and free-index blocks above that
 * offset only speed up lookups and insertions, so they are not read.
 */
final class Directories {
    /** Leaf blocks start at this byte offset of the directory's data fork. */
    static final long LEAF_OFFSET_BYTES = 32L << 30;
    /** Names in one directory; a 64 KiB-block directory of 32 GiB holds about 100 million, refuse more than this. */
    static final int MAX_ENTRIES = 20_000_000;

    static final int BLOCK_MAGIC = 0x58443242;  // "XD2B" single-block directory (v4)
    static final int DATA_MAGIC = 0x58443244;   // "XD2D" data block (v4)
    static final int BLOCK3_MAGIC = 0x58444233; // "XDB3" (v5)
    static final int DATA3_MAGIC = 0x58444433;  // "XDD3" (v5)
    static final int DATA_HDR = 0x10;
    static final int DATA3_HDR = 0x40;
    static final int DIR3_CRC = 0x04;

    private Directories() {}

    /** One raw entry: the name's bytes, the inode, the ftype (0 when the filesystem does not record it). */
    record Entry(byte[] name, long ino, int ftype) {
        FileKind kind() {
            return FileKind.ofDirEntryType(ftype);
        }

        boolean isDotOrDotDot() {
            return name.length == 1 && name[0] == '.' || name.length == 2 && name[0] == '.' && name[1] == '.';
        }
    }

    @FunctionalInterface
    interface EntryAction {
        /** Returns false to stop the walk. */
        boolean accept(Entry e) throws IOException;
    }

    /** Walks the entries of {@code dir} ("." and ".." excluded) until {@code action} returns false. */
    static void forEach(Volume v, Inode dir, EntryAction action) throws IOException {
        switch (dir.format()) {
            case Inode.FMT_LOCAL -> shortform(v, dir, action);
            case Inode.FMT_EXTENTS, Inode.FMT_BTREE -> blocks(v, dir, action);
            default -> throw v.corrupt("directory " + dir.describe(), dir.offset(), "data fork format " + dir.format());
        }
    }

    private static void shortform(Volume v, Inode dir, EntryAction action) throws IOException {
        ByteBuffer b = dir.dataFork();
        String field = "shortform directory in " + dir.describe();
        if (dir.size() > b.capacity() || dir.size() < 6) {
            throw v.corrupt(field, dir.offset(), "size " + dir.size() + " does not fit the data fork ("
                    + b.capacity() + " bytes)");
        }
        int size = (int) dir.size();
        int count = Superblock.u8(b, 0);
        int inoBytes = Superblock.u8(b, 1) > 0 ? 8 : 4;
        boolean ftype = v.sb.hasFtype();
        int pos = 2 + inoBytes;
        for (int i = 0; i < count; i++) {
            if (pos + 3 > size) {
                throw v.corrupt(field, dir.offset(), "entry " + i + " of " + count + " starts past the end (" + size + " bytes)");
            }
            int nameLen = Superblock.u8(b, pos);
            int entSize = 3 + nameLen + (ftype ? 1 : 0) + inoBytes;
            if (nameLen == 0 || pos + entSize > size) {
                throw v.corrupt(field, dir.offset(), "entry " + i + " (name length " + nameLen + ") runs past the end");
            }
            byte[] name = new byte[nameLen];
            b.get(pos + 3, name);
            int p = pos + 3 + nameLen;
            int type = ftype ? Superblock.u8(b, p++) : 0;
            long ino = inoBytes == 8 ? b.getLong(p) & 0x00ffffffffffffffL : b.getInt(p) & 0xffffffffL;
            if (!action.accept(new Entry(name, ino, type))) {
                return;
            }
            pos += entSize;
        }
    }

    private static void blocks(Volume v, Inode dir, EntryAction action) throws IOException {
        Fork fork = Fork.data(v, dir);
        int dirBlkLog = v.sb.dirBlkLog();
        int fsbPerDirBlock = 1 << dirBlkLog;
        long leafFileBlock = LEAF_OFFSET_BYTES >> v.sb.blockLog();
        long[] next = {0};
        int[] entries = {0};
        boolean[] stop = {false};
        fork.forEach(0, leafFileBlock, e -> {
            if (stop[0]) {
                return;
            }
            long first = Math.max(next[0], e.fileBlock() >> dirBlkLog);
            long last = (Math.min(e.endBlock(), leafFileBlock) - 1) >> dirBlkLog;
            for (long db = first; db <= last && !stop[0]; db++) {
                long[] offsets = fork.blockOffsets(db << dirBlkLog, fsbPerDirBlock, "directory block of " + dir.describe());
                stop[0] = !dataBlock(v, dir, offsets, entries, action);
            }
            next[0] = last + 1;
        });
    }

    /** Parses one directory data (or single-block) block; false when the action asked to stop. */
    private static boolean dataBlock(Volume v, Inode dir, long[] offsets, int[] entries, EntryAction action)
            throws IOException {
        String field = "directory block of " + dir.describe();
        long where = offsets[0];
        ByteBuffer b = v.metaBlocks(offsets, field);
        int size = v.sb.dirBlockSize();
        boolean v5 = v.sb.isV5();
        int magic = b.getInt(0);
        boolean single;
        if (magic == (v5 ? BLOCK3_MAGIC : BLOCK_MAGIC)) {
            single = true;
        } else if (magic == (v5 ? DATA3_MAGIC : DATA_MAGIC)) {
            single = false;
        } else {
            throw v.corrupt(field, where, "bad magic 0x" + Integer.toHexString(magic));
        }
        if (v5) {
            v.checkCrc(b, size, DIR3_CRC, field, where);
            v.checkSelf(b, 0x18, 0x08, where, 0x28, 8, dir.ino(), field);
        }
        int hdr = v5 ? DATA3_HDR : DATA_HDR;
        int end = size;
        if (single) {
            long count = Superblock.u32(b, size - 8);
            if (count > (size - hdr - 8) / 8) {
                throw v.corrupt(field, where, "leaf count " + count + " does not fit the block");
            }
            end = size - 8 - (int) count * 8;
        }
        boolean ftype = v.sb.hasFtype();
        int pos = hdr;
        while (pos < end) {
            if (Superblock.u16(b, pos) == 0xffff) {
                int len = Superblock.u16(b, pos + 2);
                if (len < 8 || (len & 7) != 0 || pos + len > end) {
                    throw v.corrupt(field, where + pos, "unused region of " + len + " bytes at 0x"
                            + Integer.toHexString(pos) + " is malformed");
                }
                pos += len;
                continue;
            }
            if (pos + 12 > end) {
                throw v.corrupt(field, where + pos, "entry at 0x" + Integer.toHexString(pos) + " runs past the end");
            }
            long ino = b.getLong(pos);
            int nameLen = Superblock.u8(b, pos + 8);
            int entSize = (8 + 1 + nameLen + (ftype ? 1 : 0) + 2 + 7) & ~7;
            if (nameLen == 0 || pos + entSize > end) {
                throw v.corrupt(field, where + pos, "entry at 0x" + Integer.toHexString(pos) + " (name length "
                        + nameLen + ") runs past the end");
            }
            int tag = Superblock.u16(b, pos + entSize - 2);
            if (tag != pos) {
                throw v.corrupt(field, where + pos, "entry at 0x" + Integer.toHexString(pos) + " has tag 0x"
                        + Integer.toHexString(tag));
            }
            byte[] name = new byte[nameLen];
            b.get(pos + 9, name);
            int type = ftype ? Superblock.u8(b, pos + 9 + nameLen) : 0;
            Entry e = new Entry(name, ino, type);
            if (!e.isDotOrDotDot()) {
                if (++entries[0] > MAX_ENTRIES) {
                    throw v.corrupt("directory " + dir.describe(), dir.offset(), "more than " + MAX_ENTRIES + " entries");
                }
                if (!action.accept(e)) {
                    return false;
                }
            }
            pos += entSize;
        }
        return true;
    }
}
