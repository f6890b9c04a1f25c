package org.jv2v.fs.ext;

import org.jv2v.Jv2vException;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Adds and removes directory entries in the three directory forms: linear blocks (an entry goes
 * where an existing record has room, else into a new block), htree (dir_index: the entry goes to
 * the leaf its name hash selects; a full leaf is split in two by hash and the index above gains
 * an entry, a full index node is split, a full root grows a level), and inline directories (in
 * the inode, turned into a block directory when they overflow). Every changed block gets its
 * checksum (leaf tail or dx tail with metadata_csum).
 */
final class DirEditor {
    static final int FT_REG = 1;
    static final int FT_DIR = 2;
    static final int FT_SYMLINK = 7;
    /** The metadata_csum tail of a leaf block: a fake entry (inode 0, rec_len 12, type 0xde) and the crc. */
    static final int TAIL = 12;
    /** dx_tail after an index node's entries: reserved word and crc. */
    static final int DX_TAIL = 8;
    /** Links at which a directory's count stops (EXT4_LINK_MAX); with dir_nlink it then reads 1. */
    static final int LINK_MAX = 65000;
    /** Attempts at one htree insertion: each either inserts or makes room (a split or a new level). */
    private static final int MAX_INSERT_ATTEMPTS = 16;

    private final ExtFileSystem fs;
    private final MetaStore meta;
    private final Allocator alloc;
    private final FileLayout layout;
    private final int bs;
    private final boolean metaCsum;
    private final boolean fileType;

    DirEditor(ExtFileSystem fs, MetaStore meta, Allocator alloc, FileLayout layout) {
        this.fs = fs;
        this.meta = meta;
        this.alloc = alloc;
        this.layout = layout;
        this.bs = (int) fs.blockSize();
        this.metaCsum = fs.metadataCsum();
        this.fileType = fs.superblock().hasIncompat(Superblock.INCOMPAT_FILETYPE);
    }

    /** A live entry lifted out of a block, to be written elsewhere; {@code hash} when an htree split needs it. */
    private record Entry(byte[] name, long ino, int type, int hash) {
        Entry withHash(int h) {
            return new Entry(name, ino, type, h);
        }
    }

    static int entrySize(int nameLen) {
        return (8 + nameLen + 3) & ~3;
    }

    /** One directory open for editing: its block mapping, which appending blocks changes. */
    final class Dir {
        final InodeRecord in;
        private final List<FileLayout.Piece> pieces;
        private final List<Long> oldTree;
        private boolean layoutChanged;

        private Dir(InodeRecord in, List<FileLayout.Piece> pieces, List<Long> oldTree) {
            this.in = in;
            this.pieces = pieces;
            this.oldTree = oldTree;
        }

        long blocks() {
            return in.size() / bs;
        }

        /** The physical block of a logical block, or -1 for a hole. */
        long physical(long logical) {
            int lo = 0;
            int hi = pieces.size() - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                FileLayout.Piece p = pieces.get(mid);
                if (logical < p.logical()) {
                    hi = mid - 1;
                } else if (logical >= p.end()) {
                    lo = mid + 1;
                } else {
                    return p.physical() + (logical - p.logical());
                }
            }
            return -1;
        }

        /** Adds a block holding {@code content} (already sealed) at the end of the directory. */
        long append(byte[] content) throws IOException {
            long logical = blocks();
            long goal = pieces.isEmpty() ? fs.groupFirstBlock(groupOf(in.number))
                    : pieces.getLast().physical() + pieces.getLast().length();
            long blk = alloc.allocate(goal, 1).getFirst().start();
            meta.replace(blk, content);
            FileLayout.Piece last = pieces.isEmpty() ? null : pieces.getLast();
            if (last != null && last.end() == logical && last.physical() + last.length() == blk && !last.unwritten()) {
                pieces.set(pieces.size() - 1, new FileLayout.Piece(last.logical(), last.physical(),
                        last.length() + 1, false));
            } else {
                pieces.add(new FileLayout.Piece(logical, blk, 1, false));
            }
            in.setSize(in.size() + bs);
            layoutChanged = true;
            return logical;
        }

        /** Writes the new mapping when blocks were added (the old tree blocks freed, a new tree built). */
        void finish() throws IOException {
            if (!layoutChanged) {
                return;
            }
            for (long b : oldTree) {
                alloc.free(b, 1, "directory inode " + in.number, in.diskOffset() + 0x28);
            }
            oldTree.clear();
            long goal = pieces.isEmpty() ? fs.groupFirstBlock(groupOf(in.number)) : pieces.getFirst().physical();
            long tree = layout.build(in, pieces, goal);
            long data = 0;
            for (FileLayout.Piece p : pieces) {
                data += p.length();
            }
            in.setBlocks(data + tree + (in.fileAcl() != 0 ? 1 : 0));
            layoutChanged = false;
        }
    }

    private int groupOf(long ino) {
        return (int) ((ino - 1) / fs.superblock().inodesPerGroup());
    }

    Dir open(InodeRecord in) throws IOException {
        if (in.has(Inode.FL_INLINE_DATA)) {
            return new Dir(in, new ArrayList<>(), new ArrayList<>());
        }
        if (in.size() % bs != 0 || in.size() == 0 || in.size() > ExtFileSystem.MAX_DIR_BYTES) {
            throw fs.bad("directory inode " + in.number + " i_size", in.diskOffset() + 0x04, in.size()
                    + " is not a whole number of blocks, at least one, up to " + ExtFileSystem.MAX_DIR_BYTES + " bytes");
        }
        FileLayout.Mapping m = layout.read(in);
        for (FileLayout.Piece p : m.pieces()) {
            if (p.end() > in.size() / bs || p.unwritten()) {
                throw fs.bad("directory inode " + in.number + " block map", in.diskOffset() + 0x28,
                        "blocks past i_size or unwritten blocks in a directory");
            }
        }
        return new Dir(in, new ArrayList<>(m.pieces()), new ArrayList<>(m.tree()));
    }

    // ---- entries in a byte region ----

    private int recLen(byte[] b, int p) {
        int r = Le.u16(b, p + 4);
        return bs == 65536 && (r == 0 || r == 65535) ? 65536 : r;
    }

    private void putRecLen(byte[] b, int p, int len) {
        Le.put16(b, p + 4, len == 65536 ? 65535 : len);
    }

    private int nameLen(byte[] b, int p) {
        return fileType ? Le.u8(b, p + 6) : Le.u16(b, p + 6);
    }

    private void writeEntry(byte[] b, int p, int recLen, byte[] name, long ino, int type) {
        Le.put32(b, p, ino);
        putRecLen(b, p, recLen);
        if (fileType) {
            Le.put8(b, p + 6, name.length);
            Le.put8(b, p + 7, type);
        } else {
            Le.put16(b, p + 6, name.length);
        }
        System.arraycopy(name, 0, b, p + 8, name.length);
        Arrays.fill(b, p + 8 + name.length, p + recLen, (byte) 0);
    }

    /**
     * Puts an entry into the first record of {@code b[from, to)} with room for it (the slack after
     * a live entry, or a deleted one); false when none has.
     */
    private boolean tryInsert(InodeRecord dir, byte[] b, int from, int to, long diskAt, byte[] name, long ino,
                              int type) {
        int need = entrySize(name.length);
        int p = from;
        while (p < to) {
            if (p + 8 > to) {
                throw fs.bad("directory inode " + dir.number + " entry", diskAt + p, "runs past its block");
            }
            long e = Le.u32(b, p);
            int rl = recLen(b, p);
            int used = e == 0 ? 0 : entrySize(nameLen(b, p));
            if (rl < 8 || rl % 4 != 0 || p + rl > to || used > rl) {
                throw fs.bad("directory inode " + dir.number + " entry rec_len", diskAt + p + 4, rl
                        + " does not fit its block or its name");
            }
            if (rl - used >= need) {
                if (e == 0) {
                    writeEntry(b, p, rl, name, ino, type);
                } else {
                    putRecLen(b, p, used);
                    writeEntry(b, p + used, rl - used, name, ino, type);
                }
                return true;
            }
            p += rl;
        }
        return false;
    }

    /** Removes the entry named {@code name} from {@code b[from, to)}: {inode, file type}, or null. */
    private long[] tryRemove(InodeRecord dir, byte[] b, int from, int to, long diskAt, byte[] name) {
        int prev = -1;
        int p = from;
        while (p + 8 <= to) {
            long e = Le.u32(b, p);
            int rl = recLen(b, p);
            int nl = nameLen(b, p);
            if (rl < 8 || rl % 4 != 0 || p + rl > to || (e != 0 && 8 + nl > rl)) {
                throw fs.bad("directory inode " + dir.number + " entry rec_len", diskAt + p + 4, rl
                        + " does not fit its block or its name");
            }
            if (e != 0 && nl == name.length && Arrays.equals(b, p + 8, p + 8 + nl, name, 0, nl)) {
                int type = fileType ? Le.u8(b, p + 7) : 0;
                if (prev >= 0) {
                    putRecLen(b, prev, recLen(b, prev) + rl);
                } else {
                    Le.put32(b, p, 0);
                }
                return new long[] {e, type};
            }
            prev = p;
            p += rl;
        }
        return null;
    }

    /** The end of a leaf block's entries: before the checksum tail with metadata_csum (which must be there). */
    private int leafEnd(InodeRecord dir, byte[] b, long blk) {
        if (!metaCsum) {
            return bs;
        }
        int t = bs - TAIL;
        if (Le.u32(b, t) != 0 || Le.u16(b, t + 4) != TAIL || Le.u8(b, t + 6) != 0 || Le.u8(b, t + 7) != 0xde) {
            throw fs.bad("directory inode " + dir.number + " block checksum tail", blk * bs + t,
                    "missing (e2fsck would add it)");
        }
        return t;
    }

    private boolean hasTail(byte[] b) {
        int t = bs - TAIL;
        return Le.u32(b, t) == 0 && Le.u16(b, t + 4) == TAIL && Le.u8(b, t + 6) == 0 && Le.u8(b, t + 7) == 0xde;
    }

    private void sealLeaf(InodeRecord dir, byte[] b) {
        if (!metaCsum) {
            return;
        }
        int t = bs - TAIL;
        Le.put32(b, t, 0);
        Le.put16(b, t + 4, TAIL);
        Le.put8(b, t + 6, 0);
        Le.put8(b, t + 7, 0xde);
        Le.put32(b, t + 8, Crc32c.update(dir.seed(), b, 0, t));
    }

    private int regionEnd() {
        return metaCsum ? bs - TAIL : bs;
    }

    /** The first block of a new directory: "." and "..". */
    byte[] newDirBlock(InodeRecord dir, long parent) {
        byte[] b = new byte[bs];
        writeEntry(b, 0, 12, new byte[] {'.'}, dir.number, FT_DIR);
        writeEntry(b, 12, regionEnd() - 12, new byte[] {'.', '.'}, parent, FT_DIR);
        sealLeaf(dir, b);
        return b;
    }

    // ---- insert and remove ----

    void insert(Dir d, byte[] name, long ino, int type) throws IOException {
        if (d.in.has(Inode.FL_INLINE_DATA)) {
            insertInline(d, name, ino, type);
        } else if (d.in.has(Inode.FL_INDEX)) {
            insertIndexed(d, name, ino, type);
        } else {
            insertLinear(d, name, ino, type);
        }
    }

    /** Removes {@code name}; returns {inode, file type}. */
    long[] remove(Dir d, byte[] name) throws IOException {
        if (d.in.has(Inode.FL_INLINE_DATA)) {
            return removeInline(d, name);
        }
        if (d.in.has(Inode.FL_INDEX) && fs.superblock().hasCompat(Superblock.COMPAT_DIR_INDEX)) {
            // the leaf the name hashes to; any other block only if it is not there (hash collisions)
            long rootPhys = d.physical(0);
            if (rootPhys >= 0) {
                byte[] root = meta.read(rootPhys);
                checkRoot(d, root, rootPhys);
                int hash = DirHash.hash(name, hashVersion(d, root), hashSeed());
                long leafPhys = d.physical(descend(d, hash).getLast().child());
                if (leafPhys >= 0) {
                    byte[] copy = meta.read(leafPhys).clone();
                    long[] r = tryRemove(d.in, copy, 0, bs, leafPhys * bs, name);
                    if (r != null) {
                        sealLeaf(d.in, copy);
                        meta.replace(leafPhys, copy);
                        return r;
                    }
                }
            }
        }
        for (long l = 0; l < d.blocks(); l++) {
            long p = d.physical(l);
            if (p < 0) {
                continue;
            }
            byte[] copy = meta.read(p).clone();
            long[] r = tryRemove(d.in, copy, 0, bs, p * bs, name);
            if (r != null) {
                if (hasTail(copy)) {
                    sealLeaf(d.in, copy);
                }
                meta.replace(p, copy);
                return r;
            }
        }
        throw new NoSuchFileException(new String(name, java.nio.charset.StandardCharsets.UTF_8));
    }

    private void insertLinear(Dir d, byte[] name, long ino, int type) throws IOException {
        for (long l = 0; l < d.blocks(); l++) {
            long p = d.physical(l);
            if (p < 0) {
                continue;
            }
            byte[] copy = meta.read(p).clone();
            if (tryInsert(d.in, copy, 0, leafEnd(d.in, copy, p), p * bs, name, ino, type)) {
                sealLeaf(d.in, copy);
                meta.replace(p, copy);
                return;
            }
        }
        byte[] b = new byte[bs];
        writeEntry(b, 0, regionEnd(), name, ino, type);
        sealLeaf(d.in, b);
        d.append(b);
    }

    // ---- inline directories ----

    private void insertInline(Dir d, byte[] name, long ino, int type) throws IOException {
        InodeRecord in = d.in;
        byte[] ib = in.iblock();
        if (tryInsert(in, ib, 4, Inode.IBLOCK_SIZE, in.diskOffset() + 0x28, name, ino, type)) {
            in.setIblock(ib);
            return;
        }
        List<IbodyXattrs.Entry> xattrs = IbodyXattrs.parse(fs, in);
        int di = IbodyXattrs.findData(xattrs);
        if (di >= 0 && xattrs.get(di).value().length > 0) {
            byte[] v = xattrs.get(di).value().clone();
            if (tryInsert(in, v, 0, v.length, in.diskOffset(), name, ino, type)) {
                xattrs.set(di, IbodyXattrs.entry(Xattrs.INDEX_SYSTEM, IbodyXattrs.DATA, v));
                IbodyXattrs.write(in, xattrs);
                return;
            }
        }
        // no room: the directory becomes a block directory holding all its entries and the new one
        List<Entry> entries = new ArrayList<>();
        collect(in, ib, 4, Inode.IBLOCK_SIZE, in.diskOffset() + 0x28, entries);
        if (di >= 0) {
            byte[] v = xattrs.get(di).value();
            collect(in, v, 0, v.length, in.diskOffset(), entries);
            xattrs.remove(di);
            IbodyXattrs.write(in, xattrs);
        }
        entries.add(new Entry(name, ino, type, 0));
        long parent = Le.u32(ib, 0);
        boolean extents = fs.superblock().hasIncompat(Superblock.INCOMPAT_EXTENTS);
        in.setFlags((in.flags() & ~Inode.FL_INLINE_DATA) | (extents ? Inode.FL_EXTENTS : 0));
        in.setIblock(extents ? FileLayout.emptyExtentRoot() : new byte[Inode.IBLOCK_SIZE]);
        in.setSize(0);
        byte[] b = new byte[bs];
        writeEntry(b, 0, 12, new byte[] {'.'}, in.number, FT_DIR);
        writeEntry(b, 12, 12, new byte[] {'.', '.'}, parent, FT_DIR);
        int pos = 24;
        int last = 12;
        for (Entry e : entries) {
            int size = entrySize(e.name().length);
            if (pos + size > regionEnd()) {
                putRecLen(b, last, regionEnd() - last);
                sealLeaf(in, b);
                d.append(b);
                b = new byte[bs];
                pos = 0;
            }
            writeEntry(b, pos, size, e.name(), e.ino(), e.type());
            last = pos;
            pos += size;
        }
        putRecLen(b, last, regionEnd() - last);
        sealLeaf(in, b);
        d.append(b);
    }

    /** The live entries of {@code b[from, to)}; {@code diskAt} is where {@code b[0]} lies, for messages. */
    private void collect(InodeRecord dir, byte[] b, int from, int to, long diskAt, List<Entry> out) {
        int p = from;
        while (p + 8 <= to) {
            long e = Le.u32(b, p);
            int rl = recLen(b, p);
            int nl = nameLen(b, p);
            if (rl < 8 || p + rl > to || (e != 0 && 8 + nl > rl)) {
                throw fs.bad("directory inode " + dir.number + " entry rec_len", diskAt + p + 4,
                        rl + " does not fit its block or its name");
            }
            if (e != 0) {
                out.add(new Entry(Arrays.copyOfRange(b, p + 8, p + 8 + nl), e, fileType ? Le.u8(b, p + 7) : 0, 0));
            }
            p += rl;
        }
    }

    private long[] removeInline(Dir d, byte[] name) throws IOException {
        InodeRecord in = d.in;
        byte[] ib = in.iblock();
        long[] r = tryRemove(in, ib, 4, Inode.IBLOCK_SIZE, in.diskOffset() + 0x28, name);
        if (r != null) {
            in.setIblock(ib);
            return r;
        }
        List<IbodyXattrs.Entry> xattrs = IbodyXattrs.parse(fs, in);
        int di = IbodyXattrs.findData(xattrs);
        if (di >= 0) {
            byte[] v = xattrs.get(di).value().clone();
            r = tryRemove(in, v, 0, v.length, in.diskOffset(), name);
            if (r != null) {
                xattrs.set(di, IbodyXattrs.entry(Xattrs.INDEX_SYSTEM, IbodyXattrs.DATA, v));
                IbodyXattrs.write(in, xattrs);
                return r;
            }
        }
        throw new NoSuchFileException(new String(name, java.nio.charset.StandardCharsets.UTF_8));
    }

    // ---- htree ----

    /** One index node on the way down: where it is, its count and limit, and the entry followed. */
    private record Frame(long logical, long physical, int countOff, int count, int limit, int at, long child) {}

    private int dxLimit(int countOff) {
        return (bs - countOff - (metaCsum ? DX_TAIL : 0)) / 8;
    }

    private void sealDx(InodeRecord dir, byte[] b, int countOff) {
        if (!metaCsum) {
            return;
        }
        int limit = Le.u16(b, countOff);
        int count = Le.u16(b, countOff + 2);
        int tail = countOff + 8 * limit;
        Le.put32(b, tail, 0);
        int c = Crc32c.update(dir.seed(), b, 0, countOff + 8 * count);
        c = Crc32c.update(c, b, tail, 4);
        c = Crc32c.update(c, new byte[4], 0, 4);
        Le.put32(b, tail + 4, c);
    }

    private int dxChecksum(InodeRecord dir, byte[] b, int countOff) {
        int limit = Le.u16(b, countOff);
        int count = Le.u16(b, countOff + 2);
        int tail = countOff + 8 * limit;
        int c = Crc32c.update(dir.seed(), b, 0, countOff + 8 * count);
        c = Crc32c.update(c, b, tail, 4);
        return Crc32c.update(c, new byte[4], 0, 4);
    }

    private int levelsAllowed() {
        return fs.superblock().hasIncompat(Superblock.INCOMPAT_LARGEDIR) ? 3 : 2;
    }

    /** The hash version the root names, as the superblock's signedness makes it (0..5). */
    private int hashVersion(Dir d, byte[] root) throws IOException {
        int v = Le.u8(root, 0x1c);                                   // 0x1c hash_version
        if (v > DirHash.TEA) {
            throw new Jv2vException(fs.device().describe() + ": directory inode " + d.in.number
                    + " uses hash version " + v + ", which jv2v does not write");
        }
        int flags = Le.i32(meta.read(Superblock.OFFSET / bs), (int) (Superblock.OFFSET % bs) + 0x160); // 0x160 s_flags
        return (flags & 0x2) != 0 ? v + DirHash.UNSIGNED : v; // EXT2_FLAGS_UNSIGNED_HASH
    }

    private int[] hashSeed() throws IOException {
        byte[] sb = meta.read(Superblock.OFFSET / bs);
        int at = (int) (Superblock.OFFSET % bs) + 0xec;              // 0xec s_hash_seed[4]
        return new int[] {Le.i32(sb, at), Le.i32(sb, at + 4), Le.i32(sb, at + 8), Le.i32(sb, at + 12)};
    }

    private List<Frame> descend(Dir d, int hash) throws IOException {
        long rootPhys = d.physical(0);
        if (rootPhys < 0) {
            throw fs.bad("directory inode " + d.in.number + " htree root", d.in.diskOffset() + 0x28, "block 0 is a hole");
        }
        byte[] node = meta.read(rootPhys);
        int levels = Le.u8(node, 0x1e);                              // 0x1e indirect_levels
        List<Frame> frames = new ArrayList<>();
        long logical = 0;
        long phys = rootPhys;
        int countOff = 0x20;
        for (int level = 0; ; level++) {
            String where = "directory inode " + d.in.number + " htree node (block " + logical + ")";
            int limit = Le.u16(node, countOff);
            int count = Le.u16(node, countOff + 2);
            if (limit != dxLimit(countOff) || count == 0 || count > limit) {
                throw fs.bad(where + " count/limit", phys * bs + countOff, "count " + count + ", limit " + limit
                        + " where the limit is " + dxLimit(countOff));
            }
            if (metaCsum) {
                fs.checkCrc(node, countOff + 8 * limit + 4, dxChecksum(d.in, node, countOff), where + " checksum",
                        phys * bs + countOff + 8L * limit + 4);
            }
            int at = 0;
            long prev = 0;
            for (int i = 1; i < count; i++) {
                long h = Le.u32(node, countOff + 8 * i);
                if (h < prev) {
                    throw fs.bad(where + " hash", phys * bs + countOff + 8 * i, "hashes out of order");
                }
                prev = h;
                if (Integer.compareUnsigned((int) h, hash) <= 0) {
                    at = i;
                }
            }
            long child = Le.u32(node, countOff + 8 * at + 4) & 0x0fffffff;
            if (child == 0 || child >= d.blocks()) {
                throw fs.bad(where + " block", phys * bs + countOff + 8 * at + 4, "block " + child
                        + " is not within the directory's " + d.blocks() + " blocks");
            }
            frames.add(new Frame(logical, phys, countOff, count, limit, at, child));
            if (level == levels) {
                return frames;
            }
            logical = child;
            phys = d.physical(child);
            if (phys < 0) {
                throw fs.bad(where + " block", d.in.diskOffset() + 0x28, "index block " + child + " is a hole");
            }
            node = meta.read(phys);
            countOff = 8;
            if (Le.u32(node, 0) != 0 || recLen(node, 0) != bs || nameLen(node, 0) != 0) {
                throw fs.bad("directory inode " + d.in.number + " htree node (block " + logical + ")", phys * bs,
                        "not an index node");
            }
        }
    }

    private void checkRoot(Dir d, byte[] r, long phys) {
        String where = "directory inode " + d.in.number + " htree root";
        if (recLen(r, 0) != 12 || Le.u8(r, 6) != 1 || r[8] != '.' || recLen(r, 12) != bs - 12
                || Le.u8(r, 12 + 6) != 2 || r[20] != '.' || r[21] != '.') {
            throw fs.bad(where, phys * bs, "\".\" and \"..\" are not where an htree root has them");
        }
        if (Le.u32(r, 0x18) != 0 || Le.u8(r, 0x1d) != 8) {               // 0x18 reserved_zero, 0x1d info_length
            throw fs.bad(where + " dx_root_info", phys * bs + 0x18, "reserved_zero is not 0 or info_length not 8");
        }
        if ((Le.u8(r, 0x1f) & 1) != 0) {                                // 0x1f unused_flags
            throw fs.bad(where + " unused_flags", phys * bs + 0x1f, "an incompatible hash flag is set");
        }
        if (Le.u8(r, 0x1e) >= levelsAllowed()) {
            throw fs.bad(where + " indirect_levels", phys * bs + 0x1e, Le.u8(r, 0x1e) + " levels is more than "
                    + (levelsAllowed() - 1));
        }
    }

    private void insertIndexed(Dir d, byte[] name, long ino, int type) throws IOException {
        if (!fs.superblock().hasCompat(Superblock.COMPAT_DIR_INDEX)) {
            throw fs.bad("directory inode " + d.in.number + " i_flags", d.in.diskOffset() + 0x20,
                    "indexed (htree) but the filesystem has no dir_index feature");
        }
        long rootPhys = d.physical(0);
        if (rootPhys < 0) {
            throw fs.bad("directory inode " + d.in.number + " htree root", d.in.diskOffset() + 0x28, "block 0 is a hole");
        }
        byte[] root = meta.read(rootPhys);
        checkRoot(d, root, rootPhys);
        int version = hashVersion(d, root);
        int[] seed = hashSeed();
        int hash = DirHash.hash(name, version, seed);
        for (int attempt = 0; attempt < MAX_INSERT_ATTEMPTS; attempt++) {
            List<Frame> frames = descend(d, hash);
            Frame parent = frames.getLast();
            long leafPhys = d.physical(parent.child());
            if (leafPhys < 0) {
                throw fs.bad("directory inode " + d.in.number + " htree leaf", d.in.diskOffset() + 0x28,
                        "block " + parent.child() + " is a hole");
            }
            byte[] copy = meta.read(leafPhys).clone();
            if (tryInsert(d.in, copy, 0, leafEnd(d.in, copy, leafPhys), leafPhys * bs, name, ino, type)) {
                sealLeaf(d.in, copy);
                meta.replace(leafPhys, copy);
                return;
            }
            if (parent.count() == parent.limit()) {
                makeRoom(d, frames);
            } else {
                splitLeaf(d, parent, leafPhys, version, seed);
            }
        }
        throw new IllegalStateException("directory inode " + d.in.number + ": no room after "
                + MAX_INSERT_ATTEMPTS + " htree splits");
    }

    /** The leaf's parent is full: split the highest full node below one with room, or grow the root. */
    private void makeRoom(Dir d, List<Frame> frames) throws IOException {
        int k = frames.size() - 1;
        while (k >= 0 && frames.get(k).count() == frames.get(k).limit()) {
            k--;
        }
        if (k >= 0) {
            splitNode(d, frames.get(k), frames.get(k + 1));
            return;
        }
        Frame root = frames.getFirst();
        byte[] r = meta.read(root.physical());
        int levels = Le.u8(r, 0x1e);
        if (levels + 1 >= levelsAllowed()) {
            throw new Jv2vException(fs.device().describe() + ": directory inode " + d.in.number
                    + " is full: its htree index has no room for another level");
        }
        // the root's entries move to a new node; the root keeps one entry pointing at it
        byte[] node = newIndexNode(root.count());
        Le.put32(node, 8 + 4, Le.u32(r, 0x20 + 4));
        System.arraycopy(r, 0x20 + 8, node, 8 + 8, 8 * (root.count() - 1));
        sealDx(d.in, node, 8);
        long logical = d.append(node);
        r = meta.edit(root.physical());
        Arrays.fill(r, 0x20 + 8, 0x20 + 8 * root.limit(), (byte) 0);
        Le.put16(r, 0x22, 1);
        Le.put32(r, 0x24, logical);
        Le.put8(r, 0x1e, levels + 1);
        sealDx(d.in, r, 0x20);
    }

    private byte[] newIndexNode(int count) {
        byte[] node = new byte[bs];
        putRecLen(node, 0, bs); // a fake empty entry spanning the block: old readers skip it
        Le.put16(node, 8, dxLimit(8));
        Le.put16(node, 10, count);
        return node;
    }

    /** Moves the upper half of a full index node to a new node, indexed in its parent after it. */
    private void splitNode(Dir d, Frame parent, Frame child) throws IOException {
        byte[] c = meta.edit(child.physical());
        int count = child.count();
        int split = count / 2;
        int moved = count - split;
        byte[] node = newIndexNode(moved);
        Le.put32(node, 8 + 4, Le.u32(c, 8 + 8 * split + 4));
        System.arraycopy(c, 8 + 8 * (split + 1), node, 8 + 8, 8 * (moved - 1));
        long key = Le.u32(c, 8 + 8 * split);
        Arrays.fill(c, 8 + 8 * split, 8 + 8 * count, (byte) 0);
        Le.put16(c, 10, split);
        sealDx(d.in, c, 8);
        sealDx(d.in, node, 8);
        long logical = d.append(node);
        insertIndex(d, parent, parent.at() + 1, key, logical);
    }

    private void insertIndex(Dir d, Frame f, int pos, long hash, long block) throws IOException {
        byte[] b = meta.edit(f.physical());
        int off = f.countOff();
        int count = Le.u16(b, off + 2);
        if (count >= Le.u16(b, off)) {
            throw new IllegalStateException("index node full");
        }
        System.arraycopy(b, off + 8 * pos, b, off + 8 * (pos + 1), 8 * (count - pos));
        Le.put32(b, off + 8 * pos, hash);
        Le.put32(b, off + 8 * pos + 4, block);
        Le.put16(b, off + 2, count + 1);
        sealDx(d.in, b, off);
    }

    /**
     * Splits a full leaf: its entries sorted by hash, the upper part (about half the bytes) moves
     * to a new block, whose first hash (odd when it continues the hash of the last entry left
     * behind) goes into the parent after the leaf's entry.
     */
    private void splitLeaf(Dir d, Frame parent, long leafPhys, int version, int[] seed) throws IOException {
        byte[] b = meta.read(leafPhys);
        int end = leafEnd(d.in, b, leafPhys);
        List<Entry> entries = new ArrayList<>();
        collect(d.in, b, 0, end, leafPhys * bs, entries);
        if (entries.size() < 2) {
            throw new IllegalStateException("directory inode " + d.in.number + ": a full leaf with "
                    + entries.size() + " entries");
        }
        List<Entry> hashed = new ArrayList<>();
        for (Entry e : entries) {
            hashed.add(e.withHash(DirHash.hash(e.name(), version, seed)));
        }
        hashed.sort(Comparator.comparingLong(e -> e.hash() & 0xffffffffL));
        int n = hashed.size();
        int moved = 0;
        int move = 0;
        for (int i = n - 1; i > 0; i--) {
            int s = entrySize(hashed.get(i).name().length);
            if (moved + s / 2 > end / 2) {
                break;
            }
            moved += s;
            move++;
        }
        move = Math.max(1, move);
        int split = n - move;
        int hash2 = hashed.get(split).hash();
        boolean continued = hashed.get(split - 1).hash() == hash2;
        byte[] lower = pack(d.in, hashed.subList(0, split));
        byte[] upper = pack(d.in, hashed.subList(split, n));
        meta.replace(leafPhys, lower);
        long logical = d.append(upper);
        insertIndex(d, parent, parent.at() + 1, (hash2 & 0xffffffffL) | (continued ? 1 : 0), logical);
    }

    private byte[] pack(InodeRecord dir, List<Entry> entries) {
        byte[] b = new byte[bs];
        int end = regionEnd();
        int pos = 0;
        int last = -1;
        for (Entry e : entries) {
            int size = entrySize(e.name().length);
            writeEntry(b, pos, size, e.name(), e.ino(), e.type());
            last = pos;
            pos += size;
        }
        if (last < 0) {
            putRecLen(b, 0, end);
        } else {
            putRecLen(b, last, end - last);
        }
        sealLeaf(dir, b);
        return b;
    }
}
