package org.jv2v.fs.xfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Adds and removes names in a directory of any form, converting it to the next form when it
 * outgrows the current one, as the kernel does:
 * <ul>
 * <li>shortform (entries in the inode) becomes a single-block directory when the inode is full;</li>
 * <li>a single block (entries, hash array and tail in one block) becomes a leaf directory (data
 *     blocks plus one leaf block of hashes and per-block best free sizes at the 32 GiB offset);</li>
 * <li>a leaf directory whose leaf block is full becomes a node directory: its leaf block turns into
 *     a hash-only leaf and the best free sizes move to a free index block at the 64 GiB offset; full
 *     hash leaves are split under a dir/attr B+tree (da-btree) node at the 32 GiB offset.</li>
 * </ul>
 * Entries never move within their data block (their offset is their readdir cookie). Each changed
 * data block is rewritten whole from its parsed entries, which merges free space and recomputes
 * its bestfree table. Removed hash entries of leaf and node directories are marked stale, as the
 * kernel does, so no hash in a B+tree node changes; stale entries are dropped when a leaf needs
 * room. Data blocks left empty stay in place. Refused (with the form named): a node whose da-btree
 * node block is full, directory blocks split across extents.
 */
final class DirEdit {
    static final int FT_REG = 1;
    static final int FT_DIR = 2;
    static final int FT_SYMLINK = 7;
    static final int NULL_DATAOFF = 0xffff;
    /** Depth of da-btrees the kernel allows (XFS_DA_NODE_MAXDEPTH). */
    static final int MAX_DEPTH = 5;

    static final int BLOCK3_MAGIC = 0x58444233;
    static final int BLOCK_MAGIC = 0x58443242;
    static final int DATA3_MAGIC = 0x58444433;
    static final int DATA_MAGIC = 0x58443244;
    static final int FREE3_MAGIC = 0x58444633;
    static final int FREE_MAGIC = 0x58443246;
    static final int LEAF1_MAGIC = 0xd2f1;
    static final int LEAF1_3_MAGIC = 0x3df1;
    static final int LEAFN_MAGIC = 0xd2ff;
    static final int LEAFN_3_MAGIC = 0x3dff;
    static final int NODE_MAGIC = 0xfebe;
    static final int NODE3_MAGIC = 0x3ebe;
    static final int DIR3_CRC = 0x04;
    static final int DA3_CRC = 0x0c;

    private final Edit e;
    private final Volume v;
    private final boolean v5;
    private final boolean ftype;
    private final int blkSize;
    private final int fsbPerBlk;
    private final int dataHdr;
    private final int leafHdr;
    private final int freeHdr;
    private final long leafDablk;
    private final long freeDablk;
    private final int maxBests;

    private InodeEdit dir;
    private BlockMap.Mapping map;

    DirEdit(Edit e) {
        this.e = e;
        this.v = e.v;
        this.v5 = v.sb.isV5();
        this.ftype = v.sb.hasFtype();
        this.blkSize = v.sb.dirBlockSize();
        this.fsbPerBlk = 1 << v.sb.dirBlkLog();
        this.dataHdr = v5 ? 0x40 : 0x10;
        this.leafHdr = v5 ? 0x40 : 0x10;
        this.freeHdr = v5 ? 0x40 : 0x10;
        this.leafDablk = Directories.LEAF_OFFSET_BYTES >> v.sb.blockLog();
        this.freeDablk = 2 * leafDablk;
        this.maxBests = (blkSize - freeHdr) / 2;
    }

    // ---- geometry ----

    int entSize(int nameLen) {
        return (8 + 1 + nameLen + (ftype ? 1 : 0) + 2 + 7) & ~7;
    }

    private int firstOffset() {
        return dataHdr + entSize(1) + entSize(2);
    }

    private long address(long db, int off) {
        return (db * blkSize + off) >>> 3;
    }

    private int leafCountOff() {
        return v5 ? 0x38 : 0x0c;
    }

    private String field() {
        return "directory " + dir.describe();
    }

    // ---- entry points ----

    /** Adds {@code name -> ino}; the caller has checked that the name is not there. */
    void add(InodeEdit d, byte[] name, long ino, int type) throws IOException {
        this.dir = d;
        Ent ent = new Ent(ino, name, type);
        switch (d.format()) {
            case Inode.FMT_LOCAL -> {
                if (!sfAdd(ent)) {
                    sfToBlock();
                    blockOrLarger(ent);
                }
            }
            case Inode.FMT_EXTENTS, Inode.FMT_BTREE -> blockOrLarger(ent);
            default -> throw v.corrupt(field(), d.offset, "data fork format " + d.format());
        }
        d.dirty();
    }

    /** Removes {@code name}; returns the inode it named, or -1 when it is not there. */
    long remove(InodeEdit d, byte[] name) throws IOException {
        this.dir = d;
        long ino = switch (d.format()) {
            case Inode.FMT_LOCAL -> sfRemove(name);
            case Inode.FMT_EXTENTS, Inode.FMT_BTREE -> longRemove(name);
            default -> throw v.corrupt(field(), d.offset, "data fork format " + d.format());
        };
        d.dirty();
        return ino;
    }

    /** A new, empty shortform directory in {@code d}. */
    void initShortform(InodeEdit d, long parent) {
        this.dir = d;
        d.format(Inode.FMT_LOCAL);
        writeSf(parent, List.of());
    }

    private void blockOrLarger(Ent ent) throws IOException {
        map = BlockMap.read(v, e.t, dir, false);
        ByteBuffer first = block(0, DIR3_CRC);
        int magic = first.getInt(0);
        if (magic == (v5 ? BLOCK3_MAGIC : BLOCK_MAGIC)) {
            if (blockAdd(ent)) {
                return;
            }
            blockToLeaf();
            leafAdd(ent);
            return;
        }
        if (magic != (v5 ? DATA3_MAGIC : DATA_MAGIC)) {
            throw v.corrupt(field(), blockOffset(0), "bad magic 0x" + Integer.toHexString(magic));
        }
        int leafMagic = Superblock.u16(block(leafDablk, DA3_CRC), 8);
        if (leafMagic == (v5 ? LEAF1_3_MAGIC : LEAF1_MAGIC)) {
            if (leafAdd(ent)) {
                return;
            }
            leafToNode();
        }
        nodeAdd(ent);
    }

    // ---- blocks of the directory ----

    private long blockOffset(long dablk) {
        BmapExtent x = map.find(dablk);
        if (x == null) {
            throw v.corrupt(field(), dir.offset, "directory block " + dablk + " is not mapped");
        }
        if (x.endBlock() < dablk + fsbPerBlk) {
            throw e.unsupported(field() + ": a directory block split across extents");
        }
        return v.fsbOffset(x.fsBlock() + (dablk - x.fileBlock()), field(), dir.offset);
    }

    private boolean mapped(long dablk) {
        return map.find(dablk) != null;
    }

    private ByteBuffer block(long dablk, int crcOffset) throws IOException {
        long off = blockOffset(dablk);
        ByteBuffer b = e.t.get(off, blkSize, crcOffset, "block " + dablk + " of " + field());
        if (v5) {
            if (crcOffset == DIR3_CRC) {
                v.checkSelf(b, 0x18, 0x08, off, 0x28, 8, dir.ino, field());
            } else {
                v.checkSelf(b, 0x20, 0x10, off, 0x30, 8, dir.ino, field());
            }
        }
        return b;
    }

    private void dirtyBlock(long dablk) {
        e.t.dirty(blockOffset(dablk));
    }

    /** Maps a new directory block at {@code dablk} and returns its zeroed buffer (with the v5 header filled in). */
    private ByteBuffer newBlock(long dablk, int crcOffset) throws IOException {
        long fsb = e.allocContig(e.agOfIno(dir.ino), fsbPerBlk);
        List<BmapExtent> list = new ArrayList<>(map.extents());
        BmapExtent x = new BmapExtent(dablk, fsb, fsbPerBlk, false);
        int pos = 0;
        while (pos < list.size() && list.get(pos).fileBlock() < dablk) {
            pos++;
        }
        if (pos > 0) {
            BmapExtent p = list.get(pos - 1);
            if (p.endBlock() == dablk && p.fsBlock() + p.blockCount() == fsb && !p.unwritten()
                    && p.blockCount() + fsbPerBlk <= Alloc.MAX_EXTLEN) {
                list.set(pos - 1, new BmapExtent(p.fileBlock(), p.fsBlock(), p.blockCount() + fsbPerBlk, false));
                x = null;
            }
        }
        if (x != null) {
            list.add(pos, x);
        }
        dir.nblocks(dir.nblocks() + fsbPerBlk);
        BlockMap.writeData(e, dir, list, map);
        map = BlockMap.read(v, e.t, dir, false);
        long off = v.fsbOffset(fsb, field(), dir.offset);
        ByteBuffer b = e.t.create(off, blkSize, crcOffset);
        if (v5) {
            if (crcOffset == DIR3_CRC) {
                b.putLong(0x08, off >> 9);
                AgBtree.putUuid(b, 0x18, v.sb.metadataUuid());
                b.putLong(0x28, dir.ino);
            } else {
                b.putLong(0x10, off >> 9);
                AgBtree.putUuid(b, 0x20, v.sb.metadataUuid());
                b.putLong(0x30, dir.ino);
            }
        }
        return b;
    }

    // ---- data blocks ----

    /** One name in a data block. */
    record Ent(long ino, byte[] name, int ftype) {}

    /** Entries of a data block by offset, parsed up to {@code end} (the leaf area of a single-block directory). */
    private TreeMap<Integer, Ent> parseData(ByteBuffer b, int end, long where) {
        TreeMap<Integer, Ent> out = new TreeMap<>();
        int pos = dataHdr;
        String field = "data block of " + field();
        while (pos < end) {
            if (Superblock.u16(b, pos) == 0xffff) {
                int len = Superblock.u16(b, pos + 2);
                if (len < 8 || (len & 7) != 0 || pos + len > end || Superblock.u16(b, pos + len - 2) != pos) {
                    throw v.corrupt(field, where + pos, "free region of " + len + " bytes is malformed");
                }
                pos += len;
                continue;
            }
            if (pos + 16 > end) {
                throw v.corrupt(field, where + pos, "entry runs past the end");
            }
            int nameLen = Superblock.u8(b, pos + 8);
            int size = entSize(nameLen);
            if (nameLen == 0 || pos + size > end || Superblock.u16(b, pos + size - 2) != pos) {
                throw v.corrupt(field, where + pos, "entry of name length " + nameLen + " is malformed");
            }
            byte[] name = new byte[nameLen];
            b.get(pos + 9, name);
            int type = ftype ? Superblock.u8(b, pos + 9 + nameLen) : 0;
            out.put(pos, new Ent(b.getLong(pos), name, type));
            pos += size;
        }
        if (pos != end) {
            throw v.corrupt(field, where + pos, "entries overrun the data area");
        }
        return out;
    }

    /** The first gap of at least {@code need} bytes before {@code end}, or -1. */
    private int findSpace(TreeMap<Integer, Ent> ents, int need, int end) {
        int pos = dataHdr;
        for (Map.Entry<Integer, Ent> x : ents.entrySet()) {
            if (x.getKey() - pos >= need && pos + need <= end) {
                return pos;
            }
            pos = x.getKey() + entSize(x.getValue().name().length);
        }
        return end - pos >= need ? pos : -1;
    }

    private int dataEnd(TreeMap<Integer, Ent> ents) {
        if (ents.isEmpty()) {
            return dataHdr;
        }
        Map.Entry<Integer, Ent> last = ents.lastEntry();
        return last.getKey() + entSize(last.getValue().name().length);
    }

    /**
     * Writes the entries and the free regions between them up to {@code end}, and the bestfree
     * table; returns the longest free region (0 if none).
     */
    private int writeData(ByteBuffer b, int end, TreeMap<Integer, Ent> ents) {
        b.put(dataHdr, new byte[end - dataHdr]);
        List<int[]> free = new ArrayList<>();
        int pos = dataHdr;
        for (Map.Entry<Integer, Ent> x : ents.entrySet()) {
            int off = x.getKey();
            if (off > pos) {
                writeFree(b, pos, off - pos, free);
            }
            Ent ent = x.getValue();
            int size = entSize(ent.name().length);
            b.putLong(off, ent.ino());
            b.put(off + 8, (byte) ent.name().length);
            b.put(off + 9, ent.name());
            if (ftype) {
                b.put(off + 9 + ent.name().length, (byte) ent.ftype());
            }
            b.putShort(off + size - 2, (short) off);
            pos = off + size;
        }
        if (pos < end) {
            writeFree(b, pos, end - pos, free);
        }
        free.sort(Comparator.comparingInt((int[] f) -> -f[1]).thenComparingInt(f -> f[0]));
        int bf = v5 ? 0x30 : 0x04;
        for (int i = 0; i < 3; i++) {
            int[] f = i < free.size() ? free.get(i) : new int[] {0, 0};
            b.putShort(bf + i * 4, (short) f[0]);
            b.putShort(bf + i * 4 + 2, (short) f[1]);
        }
        return free.isEmpty() ? 0 : free.getFirst()[1];
    }

    private static void writeFree(ByteBuffer b, int off, int len, List<int[]> free) {
        b.putShort(off, (short) 0xffff);
        b.putShort(off + 2, (short) len);
        b.putShort(off + len - 2, (short) off);
        free.add(new int[] {off, len});
    }

    /** Finds {@code name} in the data blocks: {dablk, offset}, or null. */
    private long[] findInData(byte[] name) throws IOException {
        for (BmapExtent x : map.extents()) {
            if (x.fileBlock() >= leafDablk) {
                break;
            }
            long first = (x.fileBlock() + fsbPerBlk - 1) / fsbPerBlk * fsbPerBlk;
            for (long dablk = first; dablk + fsbPerBlk <= Math.min(x.endBlock(), leafDablk); dablk += fsbPerBlk) {
                ByteBuffer b = block(dablk, DIR3_CRC);
                int magic = b.getInt(0);
                int end = blkSize;
                if (magic == (v5 ? BLOCK3_MAGIC : BLOCK_MAGIC)) {
                    end = blkSize - 8 - 8 * (int) Superblock.u32(b, blkSize - 8);
                } else if (magic != (v5 ? DATA3_MAGIC : DATA_MAGIC)) {
                    throw v.corrupt(field(), blockOffset(dablk), "bad magic 0x" + Integer.toHexString(magic));
                }
                for (Map.Entry<Integer, Ent> en : parseData(b, end, blockOffset(dablk)).entrySet()) {
                    if (Arrays.equals(en.getValue().name(), name)) {
                        return new long[] {dablk, en.getKey(), en.getValue().ino()};
                    }
                }
            }
        }
        return null;
    }

    // ---- shortform ----

    private record SfEnt(int off, Ent ent) {}

    private long sfParent;

    private List<SfEnt> parseSf() {
        ByteBuffer b = dir.b;
        int base = dir.dataForkOffset();
        int size = (int) Math.min(dir.size(), Integer.MAX_VALUE);
        String field = "shortform " + field();
        if (size < 6 || size > dir.dataForkSize()) {
            throw v.corrupt(field, dir.offset, "size " + size + " does not fit the data fork");
        }
        int count = Superblock.u8(b, base);
        int inoBytes = Superblock.u8(b, base + 1) > 0 ? 8 : 4;
        sfParent = readIno(b, base + 2, inoBytes);
        List<SfEnt> out = new ArrayList<>();
        int pos = 2 + inoBytes;
        for (int i = 0; i < count; i++) {
            if (pos + 3 > size) {
                throw v.corrupt(field, dir.offset, "entry " + i + " starts past the end");
            }
            int nameLen = Superblock.u8(b, base + pos);
            int off = Superblock.u16(b, base + pos + 1);
            int entSize = 3 + nameLen + (ftype ? 1 : 0) + inoBytes;
            if (nameLen == 0 || pos + entSize > size) {
                throw v.corrupt(field, dir.offset, "entry " + i + " runs past the end");
            }
            byte[] name = new byte[nameLen];
            b.get(base + pos + 3, name);
            int p = pos + 3 + nameLen;
            int type = ftype ? Superblock.u8(b, base + p++) : 0;
            out.add(new SfEnt(off, new Ent(readIno(b, base + p, inoBytes), name, type)));
            pos += entSize;
        }
        return out;
    }

    private static long readIno(ByteBuffer b, int off, int bytes) {
        return bytes == 8 ? b.getLong(off) & 0x00ffffffffffffffL : Superblock.u32(b, off);
    }

    /** Writes a shortform directory; false when it does not fit the data fork. */
    private boolean writeSf(long parent, List<SfEnt> ents) {
        int i8 = parent > 0xffffffffL ? 1 : 0;
        for (SfEnt s : ents) {
            if (s.ent().ino() > 0xffffffffL) {
                i8++;
            }
        }
        int inoBytes = i8 > 0 ? 8 : 4;
        int size = 2 + inoBytes;
        for (SfEnt s : ents) {
            size += 3 + s.ent().name().length + (ftype ? 1 : 0) + inoBytes;
        }
        if (size > dir.dataForkSize() || ents.size() > 255 || i8 > 255) {
            return false;
        }
        ByteBuffer b = dir.b;
        int base = dir.dataForkOffset();
        dir.clearDataFork();
        b.put(base, (byte) ents.size());
        b.put(base + 1, (byte) i8);
        putIno(b, base + 2, parent, inoBytes);
        int pos = base + 2 + inoBytes;
        for (SfEnt s : ents) {
            byte[] name = s.ent().name();
            b.put(pos, (byte) name.length);
            b.putShort(pos + 1, (short) s.off());
            b.put(pos + 3, name);
            pos += 3 + name.length;
            if (ftype) {
                b.put(pos++, (byte) s.ent().ftype());
            }
            putIno(b, pos, s.ent().ino(), inoBytes);
            pos += inoBytes;
        }
        dir.size(size);
        return true;
    }

    private static void putIno(ByteBuffer b, int off, long ino, int bytes) {
        if (bytes == 8) {
            b.putLong(off, ino);
        } else {
            b.putInt(off, (int) ino);
        }
    }

    /** Whether shortform offsets would still fit one directory block with their hash array and tail. */
    private boolean sfOffsetsFit(List<SfEnt> ents) {
        if (ents.isEmpty()) {
            return true;
        }
        SfEnt last = ents.getLast();
        int end = last.off() + entSize(last.ent().name().length);
        return end + (ents.size() + 2) * 8 + 8 <= blkSize;
    }

    private List<SfEnt> renumbered(List<SfEnt> ents) {
        List<SfEnt> out = new ArrayList<>();
        int off = firstOffset();
        for (SfEnt s : ents) {
            out.add(new SfEnt(off, s.ent()));
            off += entSize(s.ent().name().length);
        }
        return out;
    }

    private boolean sfAdd(Ent ent) {
        List<SfEnt> ents = new ArrayList<>(parseSf());
        int off = ents.isEmpty() ? firstOffset()
                : ents.getLast().off() + entSize(ents.getLast().ent().name().length);
        ents.add(new SfEnt(off, ent));
        if (!sfOffsetsFit(ents)) {
            ents = renumbered(ents);
            if (!sfOffsetsFit(ents)) {
                return false;
            }
        }
        return writeSf(sfParent, ents);
    }

    private long sfRemove(byte[] name) {
        List<SfEnt> ents = new ArrayList<>(parseSf());
        for (int i = 0; i < ents.size(); i++) {
            if (Arrays.equals(ents.get(i).ent().name(), name)) {
                long ino = ents.get(i).ent().ino();
                ents.remove(i);
                writeSf(sfParent, ents);
                return ino;
            }
        }
        return -1;
    }

    /** Moves a shortform directory into a new single directory block (same entry offsets). */
    private void sfToBlock() throws IOException {
        List<SfEnt> ents = parseSf();
        if (!sfOffsetsFit(ents)) {
            ents = renumbered(ents);
        }
        long parent = sfParent;
        TreeMap<Integer, Ent> data = new TreeMap<>();
        data.put(dataHdr, new Ent(dir.ino, ".".getBytes(StandardCharsets.US_ASCII), FT_DIR));
        data.put(dataHdr + entSize(1), new Ent(parent, "..".getBytes(StandardCharsets.US_ASCII), FT_DIR));
        for (SfEnt s : ents) {
            data.put(s.off(), s.ent());
        }
        dir.clearDataFork();
        dir.format(Inode.FMT_EXTENTS);
        dir.nextents(0);
        map = new BlockMap.Mapping(List.of(), List.of());
        ByteBuffer b = newBlock(0, DIR3_CRC);
        b.putInt(0, v5 ? BLOCK3_MAGIC : BLOCK_MAGIC);
        writeBlockForm(b, data);
        dir.size(blkSize);
    }

    // ---- single-block directories ----

    /** Writes a whole single-block directory from its entries (hash array rebuilt, no stale entries). */
    private void writeBlockForm(ByteBuffer b, TreeMap<Integer, Ent> data) {
        int count = data.size();
        int end = blkSize - 8 - 8 * count;
        writeData(b, end, data);
        List<long[]> leaf = new ArrayList<>();
        for (Map.Entry<Integer, Ent> x : data.entrySet()) {
            leaf.add(new long[] {DaHash.hash(x.getValue().name()) & 0xffffffffL, address(0, x.getKey())});
        }
        leaf.sort(Comparator.comparingLong((long[] l) -> l[0]));
        for (int i = 0; i < count; i++) {
            b.putInt(end + i * 8, (int) leaf.get(i)[0]);
            b.putInt(end + i * 8 + 4, (int) leaf.get(i)[1]);
        }
        b.putInt(blkSize - 8, count);
        b.putInt(blkSize - 4, 0);
    }

    private TreeMap<Integer, Ent> parseBlockForm(ByteBuffer b) {
        long count = Superblock.u32(b, blkSize - 8);
        long stale = Superblock.u32(b, blkSize - 4);
        if (count > (blkSize - 8 - dataHdr) / 8 || stale > count) {
            throw v.corrupt(field(), blockOffset(0), "leaf count " + count + " (stale " + stale + ") does not fit");
        }
        TreeMap<Integer, Ent> data = parseData(b, blkSize - 8 - 8 * (int) count, blockOffset(0));
        if (data.size() != count - stale) {
            throw v.corrupt(field(), blockOffset(0), data.size() + " entries but " + (count - stale) + " hashes");
        }
        return data;
    }

    private boolean blockAdd(Ent ent) throws IOException {
        ByteBuffer b = block(0, DIR3_CRC);
        TreeMap<Integer, Ent> data = parseBlockForm(b);
        int newEnd = blkSize - 8 - 8 * (data.size() + 1);
        if (dataEnd(data) > newEnd) {
            return false;
        }
        int off = findSpace(data, entSize(ent.name().length), newEnd);
        if (off < 0) {
            return false;
        }
        data.put(off, ent);
        writeBlockForm(b, data);
        dirtyBlock(0);
        return true;
    }

    /** Turns the single block into data block 0 plus a leaf block with the hashes and best free sizes. */
    private void blockToLeaf() throws IOException {
        ByteBuffer b = block(0, DIR3_CRC);
        TreeMap<Integer, Ent> data = parseBlockForm(b);
        b.putInt(0, v5 ? DATA3_MAGIC : DATA_MAGIC);
        int best = writeData(b, blkSize, data);
        dirtyBlock(0);
        List<long[]> hashes = new ArrayList<>();
        for (Map.Entry<Integer, Ent> x : data.entrySet()) {
            hashes.add(new long[] {DaHash.hash(x.getValue().name()) & 0xffffffffL, address(0, x.getKey())});
        }
        hashes.sort(Comparator.comparingLong((long[] l) -> l[0]));
        ByteBuffer lb = newBlock(leafDablk, DA3_CRC);
        lb.putShort(8, (short) (v5 ? LEAF1_3_MAGIC : LEAF1_MAGIC));
        writeLeaf1(lb, hashes, new int[] {best});
    }

    // ---- leaf directories ----

    private List<long[]> readHashes(ByteBuffer lb, int count) {
        List<long[]> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(new long[] {Superblock.u32(lb, leafHdr + i * 8), Superblock.u32(lb, leafHdr + i * 8 + 4)});
        }
        return out;
    }

    private static void dropStale(List<long[]> hashes) {
        hashes.removeIf(h -> h[1] == 0);
    }

    private static void insertSorted(List<long[]> hashes, long hash, long addr) {
        int pos = hashes.size();
        while (pos > 0 && hashes.get(pos - 1)[0] > hash) {
            pos--;
        }
        hashes.add(pos, new long[] {hash, addr});
    }

    private void writeLeaf1(ByteBuffer lb, List<long[]> hashes, int[] bests) {
        lb.put(leafHdr, new byte[blkSize - leafHdr]);
        writeHashes(lb, hashes);
        int bestsOff = blkSize - 4 - 2 * bests.length;
        for (int i = 0; i < bests.length; i++) {
            lb.putShort(bestsOff + i * 2, (short) bests[i]);
        }
        lb.putInt(blkSize - 4, bests.length);
    }

    private void writeHashes(ByteBuffer lb, List<long[]> hashes) {
        int stale = 0;
        for (int i = 0; i < hashes.size(); i++) {
            lb.putInt(leafHdr + i * 8, (int) hashes.get(i)[0]);
            lb.putInt(leafHdr + i * 8 + 4, (int) hashes.get(i)[1]);
            if (hashes.get(i)[1] == 0) {
                stale++;
            }
        }
        lb.putShort(leafCountOff(), (short) hashes.size());
        lb.putShort(leafCountOff() + 2, (short) stale);
    }

    private ByteBuffer leafBlock(long dablk, int magicV5, int magicV4) throws IOException {
        ByteBuffer lb = block(dablk, DA3_CRC);
        int magic = Superblock.u16(lb, 8);
        if (magic != (v5 ? magicV5 : magicV4)) {
            throw v.corrupt(field(), blockOffset(dablk), "leaf block with bad magic 0x" + Integer.toHexString(magic));
        }
        return lb;
    }

    /** Adds into a leaf directory; false when the leaf block has no room left (time for node form). */
    private boolean leafAdd(Ent ent) throws IOException {
        ByteBuffer lb = leafBlock(leafDablk, LEAF1_3_MAGIC, LEAF1_MAGIC);
        int count = Superblock.u16(lb, leafCountOff());
        int bestCount = (int) Superblock.u32(lb, blkSize - 4);
        if (bestCount < 1 || leafHdr + 8L * count + 2L * bestCount + 4 > blkSize) {
            throw v.corrupt(field(), blockOffset(leafDablk), "leaf block with " + count + " hashes and " + bestCount
                    + " best free sizes does not add up");
        }
        List<long[]> hashes = readHashes(lb, count);
        int[] bests = new int[bestCount];
        for (int i = 0; i < bestCount; i++) {
            bests[i] = Superblock.u16(lb, blkSize - 4 - 2 * bestCount + i * 2);
        }
        int need = entSize(ent.name().length);
        int db = -1;
        for (int i = 0; i < bestCount && db < 0; i++) {
            if (bests[i] != NULL_DATAOFF && bests[i] >= need) {
                db = i;
            }
        }
        boolean fresh = db < 0;
        if (fresh) {
            for (int i = 0; i < bestCount && db < 0; i++) {
                if (bests[i] == NULL_DATAOFF) {
                    db = i;
                }
            }
            if (db < 0) {
                db = bestCount;
                bests = Arrays.copyOf(bests, bestCount + 1);
            }
        }
        dropStale(hashes);
        if (leafHdr + 8L * (hashes.size() + 1) + 2L * bests.length + 4 > blkSize) {
            return false;
        }
        Placed placed = putInDataBlock((long) db * fsbPerBlk, fresh, ent, need);
        bests[db] = placed.bestFree();
        insertSorted(hashes, DaHash.hash(ent.name()) & 0xffffffffL, address(db, placed.offset()));
        lb = block(leafDablk, DA3_CRC);
        writeLeaf1(lb, hashes, bests);
        dirtyBlock(leafDablk);
        return true;
    }

    /** Where {@link #putInDataBlock} put an entry, and the block's largest free space after it. */
    private record Placed(int offset, int bestFree) {}

    /**
     * Writes {@code ent} ({@code need} bytes) into the data block at {@code dablk}, a new one when
     * {@code fresh}, in the first space big enough, which its best free size promised.
     */
    private Placed putInDataBlock(long dablk, boolean fresh, Ent ent, int need) throws IOException {
        ByteBuffer b;
        TreeMap<Integer, Ent> data;
        if (fresh) {
            b = newDataBlock(dablk);
            data = new TreeMap<>();
        } else {
            b = block(dablk, DIR3_CRC);
            data = parseData(b, blkSize, blockOffset(dablk));
        }
        int off = findSpace(data, need, blkSize);
        if (off < 0) {
            throw v.corrupt(field(), blockOffset(dablk), "best free size says there is room for " + need
                    + " bytes, there is not");
        }
        data.put(off, ent);
        int best = writeData(b, blkSize, data);
        dirtyBlock(dablk);
        return new Placed(off, best);
    }

    /** A new, empty data block at {@code dablk}; the directory's size grows to cover it. */
    private ByteBuffer newDataBlock(long dablk) throws IOException {
        if ((dablk + fsbPerBlk) << v.sb.blockLog() > Directories.LEAF_OFFSET_BYTES) {
            throw e.unsupported(field() + ": more than 32 GiB of directory entries");
        }
        ByteBuffer b = newBlock(dablk, DIR3_CRC);
        b.putInt(0, v5 ? DATA3_MAGIC : DATA_MAGIC);
        writeData(b, blkSize, new TreeMap<>());
        long end = (dablk + fsbPerBlk) << v.sb.blockLog();
        if (dir.size() < end) {
            dir.size(end);
        }
        return b;
    }

    /** Turns the leaf block into a hash-only leaf and moves the best free sizes to a free index block. */
    private void leafToNode() throws IOException {
        ByteBuffer lb = leafBlock(leafDablk, LEAF1_3_MAGIC, LEAF1_MAGIC);
        int count = Superblock.u16(lb, leafCountOff());
        int bestCount = (int) Superblock.u32(lb, blkSize - 4);
        int[] bests = new int[bestCount];
        for (int i = 0; i < bestCount; i++) {
            bests[i] = Superblock.u16(lb, blkSize - 4 - 2 * bestCount + i * 2);
        }
        if (bestCount > maxBests) {
            throw e.unsupported(field() + ": more data blocks than one free index block holds");
        }
        List<long[]> hashes = readHashes(lb, count);
        lb.putShort(8, (short) (v5 ? LEAFN_3_MAGIC : LEAFN_MAGIC));
        lb.put(leafHdr, new byte[blkSize - leafHdr]);
        writeHashes(lb, hashes);
        dirtyBlock(leafDablk);
        ByteBuffer fb = newBlock(freeDablk, DIR3_CRC);
        fb.putInt(0, v5 ? FREE3_MAGIC : FREE_MAGIC);
        int used = 0;
        for (int i = 0; i < bestCount; i++) {
            fb.putShort(freeHdr + i * 2, (short) bests[i]);
            if (bests[i] != NULL_DATAOFF) {
                used++;
            }
        }
        setFreeHeader(fb, 0, bestCount, used);
    }

    private int freeField(int i) {
        return (v5 ? 0x30 : 0x04) + i * 4;
    }

    private void setFreeHeader(ByteBuffer fb, long firstdb, int nvalid, int nused) {
        fb.putInt(freeField(0), (int) firstdb);
        fb.putInt(freeField(1), nvalid);
        fb.putInt(freeField(2), nused);
    }

    // ---- node directories ----

    private ByteBuffer freeBlock(long k) throws IOException {
        long dablk = freeDablk + k * fsbPerBlk;
        ByteBuffer fb = block(dablk, DIR3_CRC);
        if (fb.getInt(0) != (v5 ? FREE3_MAGIC : FREE_MAGIC)) {
            throw v.corrupt(field(), blockOffset(dablk), "free index block with bad magic 0x" + Integer.toHexString(fb.getInt(0)));
        }
        long firstdb = Superblock.u32(fb, freeField(0));
        long nvalid = Superblock.u32(fb, freeField(1));
        if (firstdb != k * maxBests || nvalid > maxBests || Superblock.u32(fb, freeField(2)) > nvalid) {
            throw v.corrupt(field(), blockOffset(dablk), "free index header (first " + firstdb + ", valid " + nvalid
                    + ") does not add up");
        }
        return fb;
    }

    private void nodeAdd(Ent ent) throws IOException {
        int need = entSize(ent.name().length);
        // pick a data block with room from the free index
        long db = -1;
        long hole = -1;
        long freeBlocks = 0;
        long nextDb = 0;
        for (long k = 0; mapped(freeDablk + k * fsbPerBlk) && db < 0; k++) {
            freeBlocks = k + 1;
            ByteBuffer fb = freeBlock(k);
            int nvalid = (int) Superblock.u32(fb, freeField(1));
            for (int i = 0; i < nvalid; i++) {
                int best = Superblock.u16(fb, freeHdr + i * 2);
                if (best == NULL_DATAOFF) {
                    if (hole < 0) {
                        hole = k * maxBests + i;
                    }
                } else if (best >= need) {
                    db = k * maxBests + i;
                    break;
                }
            }
            nextDb = k * maxBests + nvalid;
        }
        if (freeBlocks == 0) {
            throw v.corrupt(field(), dir.offset, "node directory without a free index block");
        }
        boolean fresh = db < 0;
        if (fresh) {
            db = hole >= 0 ? hole : nextDb;
        }
        long k = db / maxBests;
        int i = (int) (db % maxBests);
        Placed placed = putInDataBlock(db * fsbPerBlk, fresh, ent, need);
        int best = placed.bestFree();
        // the free index entry
        ByteBuffer fb;
        if (k >= freeBlocks) {
            fb = newBlock(freeDablk + k * fsbPerBlk, DIR3_CRC);
            fb.putInt(0, v5 ? FREE3_MAGIC : FREE_MAGIC);
            setFreeHeader(fb, k * maxBests, 0, 0);
        } else {
            fb = freeBlock(k);
        }
        int nvalid = (int) Superblock.u32(fb, freeField(1));
        int nused = (int) Superblock.u32(fb, freeField(2));
        for (int j = nvalid; j < i; j++) {
            fb.putShort(freeHdr + j * 2, (short) NULL_DATAOFF);
        }
        if (fresh) {
            nused++;
        }
        fb.putShort(freeHdr + i * 2, (short) best);
        setFreeHeader(fb, k * maxBests, Math.max(nvalid, i + 1), nused);
        dirtyBlock(freeDablk + k * fsbPerBlk);
        insertHash(DaHash.hash(ent.name()) & 0xffffffffL, address(db, placed.offset()));
    }

    /** One step down a da-btree: the node block and the index taken in it. */
    private record Step(long dablk, int index) {}

    private int nodeCount(ByteBuffer b) {
        return Superblock.u16(b, leafCountOff());
    }

    private int maxNodeEntries() {
        return (blkSize - leafHdr) / 8;
    }

    /** Descends the hash tree to the leaf block that should hold {@code hash}; fills {@code path}. */
    private long descend(long hash, List<Step> path) throws IOException {
        long dablk = leafDablk;
        int expectLevel = -1;
        for (int depth = 0; depth <= MAX_DEPTH; depth++) {
            ByteBuffer b = block(dablk, DA3_CRC);
            int magic = Superblock.u16(b, 8);
            if (magic == (v5 ? LEAFN_3_MAGIC : LEAFN_MAGIC)) {
                if (expectLevel > 0) {
                    throw v.corrupt(field(), blockOffset(dablk), "leaf where a level " + expectLevel + " node was expected");
                }
                return dablk;
            }
            if (magic != (v5 ? NODE3_MAGIC : NODE_MAGIC)) {
                throw v.corrupt(field(), blockOffset(dablk), "hash tree block with bad magic 0x" + Integer.toHexString(magic));
            }
            int count = nodeCount(b);
            int level = Superblock.u16(b, leafCountOff() + 2);
            if (count < 1 || count > maxNodeEntries() || level < 1 || (expectLevel >= 0 && level != expectLevel)) {
                throw v.corrupt(field(), blockOffset(dablk), "node of level " + level + " with " + count + " entries");
            }
            int i = 0;
            while (i < count - 1 && Superblock.u32(b, leafHdr + i * 8) < hash) {
                i++;
            }
            path.add(new Step(dablk, i));
            dablk = Superblock.u32(b, leafHdr + i * 8 + 4);
            expectLevel = level - 1;
            if (expectLevel == 0) {
                expectLevel = -1; // next is a leaf
                ByteBuffer leaf = block(dablk, DA3_CRC);
                if (Superblock.u16(leaf, 8) != (v5 ? LEAFN_3_MAGIC : LEAFN_MAGIC)) {
                    throw v.corrupt(field(), blockOffset(dablk), "level 1 node points to a block that is not a leaf");
                }
                return dablk;
            }
        }
        throw v.corrupt(field(), dir.offset, "hash tree deeper than " + MAX_DEPTH + " levels");
    }

    private void insertHash(long hash, long addr) throws IOException {
        List<Step> path = new ArrayList<>();
        long leafAt = descend(hash, path);
        ByteBuffer lb = block(leafAt, DA3_CRC);
        int count = Superblock.u16(lb, leafCountOff());
        if (leafHdr + 8L * count > blkSize) {
            throw v.corrupt(field(), blockOffset(leafAt), count + " hashes do not fit the leaf");
        }
        List<long[]> hashes = readHashes(lb, count);
        if (leafHdr + 8L * (count + 1) > blkSize) {
            dropStale(hashes);
        }
        insertSorted(hashes, hash, addr);
        if (leafHdr + 8L * hashes.size() <= blkSize) {
            lb.put(leafHdr, new byte[blkSize - leafHdr]);
            writeHashes(lb, hashes);
            dirtyBlock(leafAt);
            fixHashPath(path, hashes.getLast()[0]);
            return;
        }
        // split the leaf: lower half stays (or, at the root, both halves move under a new node)
        int half = hashes.size() / 2;
        List<long[]> lower = new ArrayList<>(hashes.subList(0, half));
        List<long[]> upper = new ArrayList<>(hashes.subList(half, hashes.size()));
        if (path.isEmpty()) {
            long a = unusedLeafDablk(-1);
            ByteBuffer la = newBlock(a, DA3_CRC);
            long b = unusedLeafDablk(a);
            ByteBuffer lbb = newBlock(b, DA3_CRC);
            writeLeafN(la, lower, 0, b);
            writeLeafN(lbb, upper, a, 0);
            ByteBuffer root = block(leafDablk, DA3_CRC);
            root.put(0, new byte[8]);
            root.putShort(8, (short) (v5 ? NODE3_MAGIC : NODE_MAGIC));
            root.put(leafHdr, new byte[blkSize - leafHdr]);
            root.putShort(leafCountOff(), (short) 2);
            root.putShort(leafCountOff() + 2, (short) 1);
            root.putInt(leafHdr, (int) lower.getLast()[0]);
            root.putInt(leafHdr + 4, (int) a);
            root.putInt(leafHdr + 8, (int) upper.getLast()[0]);
            root.putInt(leafHdr + 12, (int) b);
            dirtyBlock(leafDablk);
            return;
        }
        Step parentStep = path.getLast();
        ByteBuffer parent = block(parentStep.dablk(), DA3_CRC);
        int pcount = nodeCount(parent);
        if (pcount >= maxNodeEntries()) {
            throw e.unsupported(field() + ": node directory whose hash B+tree node is full");
        }
        long oldForw = Superblock.u32(lb, 0);
        long nb = unusedLeafDablk(-1);
        ByteBuffer nbb = newBlock(nb, DA3_CRC);
        writeLeafN(nbb, upper, leafAt, oldForw);
        lb = block(leafAt, DA3_CRC);
        lb.put(leafHdr, new byte[blkSize - leafHdr]);
        writeHashes(lb, lower);
        lb.putInt(0, (int) nb);
        dirtyBlock(leafAt);
        if (oldForw != 0) {
            ByteBuffer f = block(oldForw, DA3_CRC);
            f.putInt(4, (int) nb);
            dirtyBlock(oldForw);
        }
        parent = block(parentStep.dablk(), DA3_CRC);
        int at = parentStep.index();
        AgBtree.move(parent, leafHdr + (at + 1) * 8, leafHdr + (at + 2) * 8, (pcount - at - 1) * 8);
        parent.putInt(leafHdr + at * 8, (int) lower.getLast()[0]);
        parent.putInt(leafHdr + (at + 1) * 8, (int) upper.getLast()[0]);
        parent.putInt(leafHdr + (at + 1) * 8 + 4, (int) nb);
        parent.putShort(leafCountOff(), (short) (pcount + 1));
        dirtyBlock(parentStep.dablk());
        path.removeLast();
        fixHashPath(path, Superblock.u32(parent, leafHdr + pcount * 8));
    }

    private void writeLeafN(ByteBuffer b, List<long[]> hashes, long back, long forw) {
        b.putInt(0, (int) forw);
        b.putInt(4, (int) back);
        b.putShort(8, (short) (v5 ? LEAFN_3_MAGIC : LEAFN_MAGIC));
        writeHashes(b, hashes);
    }

    /** The first unmapped directory block in the leaf space, other than {@code besides}. */
    private long unusedLeafDablk(long besides) {
        for (long d = leafDablk + fsbPerBlk; d < freeDablk; d += fsbPerBlk) {
            if (d != besides && !mapped(d)) {
                return d;
            }
        }
        throw e.unsupported(field() + ": no room left in the leaf space");
    }

    /** After the last hash of the block under {@code path} became {@code hash}: fixes the nodes above. */
    private void fixHashPath(List<Step> path, long hash) throws IOException {
        for (int l = path.size() - 1; l >= 0; l--) {
            Step s = path.get(l);
            ByteBuffer b = block(s.dablk(), DA3_CRC);
            if (Superblock.u32(b, leafHdr + s.index() * 8) == hash) {
                return;
            }
            b.putInt(leafHdr + s.index() * 8, (int) hash);
            dirtyBlock(s.dablk());
            if (s.index() != nodeCount(b) - 1) {
                return;
            }
        }
    }

    // ---- removal from block, leaf and node directories ----

    private long longRemove(byte[] name) throws IOException {
        map = BlockMap.read(v, e.t, dir, false);
        long[] at = findInData(name);
        if (at == null) {
            return -1;
        }
        long dablk = at[0];
        int off = (int) at[1];
        long db = dablk / fsbPerBlk;
        ByteBuffer b = block(dablk, DIR3_CRC);
        long hash = DaHash.hash(name) & 0xffffffffL;
        long addr = address(db, off);
        if (b.getInt(0) == (v5 ? BLOCK3_MAGIC : BLOCK_MAGIC)) {
            TreeMap<Integer, Ent> data = parseBlockForm(b);
            data.remove(off);
            writeBlockForm(b, data);
            dirtyBlock(0);
            return at[2];
        }
        TreeMap<Integer, Ent> data = parseData(b, blkSize, blockOffset(dablk));
        data.remove(off);
        int best = writeData(b, blkSize, data);
        dirtyBlock(dablk);
        int leafMagic = Superblock.u16(block(leafDablk, DA3_CRC), 8);
        if (leafMagic == (v5 ? LEAF1_3_MAGIC : LEAF1_MAGIC)) {
            ByteBuffer lb = block(leafDablk, DA3_CRC);
            int bestCount = (int) Superblock.u32(lb, blkSize - 4);
            if (db >= bestCount) {
                throw v.corrupt(field(), blockOffset(leafDablk), "data block " + db + " has no best free size");
            }
            lb.putShort(blkSize - 4 - 2 * bestCount + (int) db * 2, (short) best);
            staleHash(leafDablk, hash, addr);
        } else {
            long k = db / maxBests;
            ByteBuffer fb = freeBlock(k);
            int i = (int) (db % maxBests);
            if (i >= Superblock.u32(fb, freeField(1))) {
                throw v.corrupt(field(), blockOffset(freeDablk + k * fsbPerBlk), "data block " + db
                        + " has no best free size");
            }
            fb.putShort(freeHdr + i * 2, (short) best);
            dirtyBlock(freeDablk + k * fsbPerBlk);
            staleHash(descend(hash, new ArrayList<>()), hash, addr);
        }
        return at[2];
    }

    /** Marks the hash entry for {@code addr} stale, starting at leaf {@code dablk} and moving right. */
    private void staleHash(long dablk, long hash, long addr) throws IOException {
        for (int hops = 0; hops < 1024 && dablk != 0; hops++) {
            ByteBuffer lb = block(dablk, DA3_CRC);
            int count = Superblock.u16(lb, leafCountOff());
            for (int i = 0; i < count; i++) {
                long h = Superblock.u32(lb, leafHdr + i * 8);
                if (h == hash && Superblock.u32(lb, leafHdr + i * 8 + 4) == addr) {
                    lb.putInt(leafHdr + i * 8 + 4, 0);
                    lb.putShort(leafCountOff() + 2, (short) (Superblock.u16(lb, leafCountOff() + 2) + 1));
                    dirtyBlock(dablk);
                    return;
                }
                if (h > hash) {
                    break;
                }
            }
            if (count > 0 && Superblock.u32(lb, leafHdr + (count - 1) * 8) > hash) {
                break;
            }
            dablk = Superblock.u32(lb, 0);
        }
        throw v.corrupt(field(), dir.offset, "no hash entry for the name at address 0x" + Long.toHexString(addr));
    }
}
