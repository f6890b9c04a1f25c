package org.jv2v.fs.ntfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;

/**
 * A directory's $I30 index: a B+ tree whose root lives in $INDEX_ROOT and whose other nodes are
 * INDX blocks of $INDEX_ALLOCATION, allocated per $BITMAP. Entries are $FILE_NAME keys in NTFS
 * collation order (upper-cased by $UpCase); an entry with a subnode points to the block of smaller
 * keys.
 */
final class Index {
    static final String I30 = "$I30";
    /** Far deeper than any real tree (a 4 KiB block holds tens of names), small enough to stop a crafted one. */
    static final int MAX_DEPTH = 32;

    /** One directory entry: the file it names and the $FILE_NAME key. */
    record Entry(long fileRef, FileName key) {
        long record() {
            return fileRef & Volume.MREF_MASK;
        }
    }

    interface Visitor {
        /** Returns false to stop the walk. */
        boolean visit(Entry e) throws IOException;
    }

    private final Volume vol;
    private final Inode dir;
    private final String what;
    private final ByteBuffer root;
    private final long rootDisk;
    private final int blockSize;
    private final int vcnUnit;
    private final Stream alloc;
    private final byte[] bitmap;

    Index(Volume vol, Inode dir) throws IOException {
        this.vol = vol;
        this.dir = dir;
        this.what = "directory (MFT record " + dir.number + ") index";
        var roots = dir.find(Ntfs.AT_INDEX_ROOT, I30);
        if (roots.size() != 1 || !roots.getFirst().resident()) {
            throw Ntfs.bad(vol.name, "MFT record " + dir.number + " is a directory without a resident $INDEX_ROOT $I30");
        }
        Attr r = roots.getFirst();
        this.root = Ntfs.le(r.value());
        this.rootDisk = r.diskOffset();
        if (r.value().length < 0x20) {
            throw Ntfs.bad(vol.name, what + " root", rootDisk, "$INDEX_ROOT of " + r.value().length + " bytes is too short");
        }
        if (root.getInt(0x00) != Ntfs.AT_FILE_NAME) {               // 0x00 indexed attribute type
            throw Ntfs.bad(vol.name, what + " root", rootDisk, "does not index $FILE_NAME");
        }
        this.blockSize = root.getInt(0x08);                          // 0x08 bytes per index block
        if (blockSize < Ntfs.FIXUP_STRIDE || blockSize > BootSector.MAX_RECORD_SIZE || Integer.bitCount(blockSize) != 1) {
            throw Ntfs.bad(vol.name, what + " root block size", rootDisk, blockSize + " is not a power of two in 512..65536");
        }
        this.vcnUnit = blockSize >= vol.boot.clusterSize() ? vol.boot.clusterSize() : Ntfs.FIXUP_STRIDE;
        this.alloc = dir.stream(Ntfs.AT_INDEX_ALLOCATION, I30);
        Stream bm = dir.stream(Ntfs.AT_BITMAP, I30);
        if (alloc != null && bm == null) {
            throw Ntfs.bad(vol.name, what + " has $INDEX_ALLOCATION but no $BITMAP");
        }
        // One bit per index block: an allocation of N bytes needs N / blockSize / 8 bytes.
        this.bitmap = bm == null ? new byte[0]
                : bm.readAll((int) Math.min(Integer.MAX_VALUE, alloc.dataSize / blockSize / 8 + 8));
    }

    /** Visits every entry in collation order; returns false if the visitor stopped the walk. */
    boolean walk(Visitor v) throws IOException {
        return walkNode(root, 0x10, rootDisk, v, new HashSet<>(), 0, "root");
    }

    private boolean walkNode(ByteBuffer b, int header, long disk, Visitor v, Set<Long> seen, int depth, String node)
            throws IOException {
        int[] bounds = nodeBounds(b, header, disk, node);
        int p = bounds[0];
        int end = bounds[1];
        while (true) {
            EntryAt e = entryAt(b, p, end, disk, node);
            if (e.subnode >= 0 && !walkNode(e.subnode, v, seen, depth + 1)) {
                return false;
            }
            if (e.last) {
                return true;
            }
            if (!v.visit(new Entry(e.ref, e.key))) {
                return false;
            }
            p += e.length;
        }
    }

    private boolean walkNode(long vcn, Visitor v, Set<Long> seen, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw Ntfs.bad(vol.name, what + " is deeper than " + MAX_DEPTH + " levels (a loop?)");
        }
        if (!seen.add(vcn)) {
            throw loop(vcn);
        }
        Block blk = block(vcn);
        return walkNode(blk.b, 0x18, blk.disk, v, seen, depth, "block VCN " + vcn);
    }

    /**
     * The entry whose name equals {@code name}: exactly if such an entry exists, else
     * case-insensitively (by $UpCase), else null.
     */
    Entry lookup(String name) throws IOException {
        Entry[] best = new Entry[1];
        Entry exact = lookupNode(root, 0x10, rootDisk, name, best, new HashSet<>(), 0, "root");
        return exact != null ? exact : best[0];
    }

    private Entry lookupNode(ByteBuffer b, int header, long disk, String name, Entry[] candidate, Set<Long> seen,
                             int depth, String node) throws IOException {
        int[] bounds = nodeBounds(b, header, disk, node);
        int p = bounds[0];
        int end = bounds[1];
        UpCase up = vol.upcase;
        while (true) {
            EntryAt e = entryAt(b, p, end, disk, node);
            int cmp = e.last ? -1 : up.compare(name, e.key.name());
            if (cmp <= 0 && e.subnode >= 0) {
                // Names equal under $UpCase may sit on both sides: search the smaller ones too.
                Entry found = lookupBlock(e.subnode, name, candidate, seen, depth + 1);
                if (found != null) {
                    return found;
                }
            }
            if (cmp < 0) {
                return null;
            }
            if (cmp == 0) {
                Entry hit = new Entry(e.ref, e.key);
                if (e.key.name().equals(name)) {
                    return hit;
                }
                if (candidate[0] == null) {
                    candidate[0] = hit;
                }
            }
            p += e.length;
        }
    }

    private Entry lookupBlock(long vcn, String name, Entry[] candidate, Set<Long> seen, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw Ntfs.bad(vol.name, what + " is deeper than " + MAX_DEPTH + " levels (a loop?)");
        }
        if (!seen.add(vcn)) {
            throw loop(vcn);
        }
        Block blk = block(vcn);
        return lookupNode(blk.b, 0x18, blk.disk, name, candidate, seen, depth, "block VCN " + vcn);
    }

    private org.jv2v.BadInputException loop(long vcn) {
        long disk = alloc == null ? -1 : alloc.deviceOffset(Math.max(0, Math.min(vcn, Long.MAX_VALUE / vcnUnit)) * vcnUnit);
        return Ntfs.bad(vol.name, what + " block VCN " + vcn, Math.max(disk, 0),
                "reached twice: the index tree has a loop");
    }

    /** [first entry, end of entries] of the node whose header starts at {@code h}. */
    private int[] nodeBounds(ByteBuffer b, int h, long disk, String node) {
        if (h + 0x10 > b.capacity()) {
            throw Ntfs.bad(vol.name, what + " " + node + " header", disk + h, "runs past the node");
        }
        long entriesOff = Ntfs.u32(b, h);                                // 0x00 entries offset
        long indexLen = Ntfs.u32(b, h + 0x04);                           // 0x04 bytes in use
        if (entriesOff < 0x10 || entriesOff >= indexLen || h + indexLen > b.capacity()) {
            throw Ntfs.bad(vol.name, what + " " + node + " header", disk + h, "entries at +" + entriesOff
                    + " up to +" + indexLen + " do not fit the " + (b.capacity() - h) + " bytes of the node");
        }
        return new int[] {(int) (h + entriesOff), (int) (h + indexLen)};
    }

    private record EntryAt(long ref, int length, boolean last, long subnode, FileName key) {}

    private EntryAt entryAt(ByteBuffer b, int p, int end, long disk, String node) {
        if (p + 0x10 > end) {
            throw Ntfs.bad(vol.name, what + " " + node + " entry", disk + p, "entries end without a last-entry mark");
        }
        long ref = b.getLong(p);                                         // 0x00 file reference
        int len = Ntfs.u16(b, p + 0x08);                                 // 0x08 entry length
        int keyLen = Ntfs.u16(b, p + 0x0A);                              // 0x0A key length
        int flags = Ntfs.u16(b, p + 0x0C);                               // 0x0C flags: 1 subnode, 2 last
        boolean sub = (flags & 1) != 0;
        boolean last = (flags & 2) != 0;
        if (len < 0x10 + (sub ? 8 : 0) || (len & 7) != 0 || p + len > end) {
            throw Ntfs.bad(vol.name, what + " " + node + " entry length", disk + p + 8,
                    len + " is not a multiple of 8 inside the node");
        }
        long subnode = -1;
        if (sub) {
            subnode = b.getLong(p + len - 8);                            // last 8 bytes: subnode VCN
            if (subnode < 0) {
                throw Ntfs.bad(vol.name, what + " " + node + " subnode", disk + p + len - 8, "negative VCN " + subnode);
            }
        }
        FileName key = null;
        if (!last) {
            if (0x10 + keyLen > len - (sub ? 8 : 0)) {
                throw Ntfs.bad(vol.name, what + " " + node + " key length", disk + p + 0x0A,
                        keyLen + " runs past the entry of " + len + " bytes");
            }
            key = FileName.read(b, p + 0x10, keyLen, vol.name, what + " " + node + " key", disk + p + 0x10);
        }
        return new EntryAt(ref, len, last, subnode, key);
    }

    private record Block(ByteBuffer b, long disk) {}

    private Block block(long vcn) throws IOException {
        if (alloc == null) {
            throw Ntfs.bad(vol.name, what + " points to block VCN " + vcn + " but has no $INDEX_ALLOCATION");
        }
        long pos;
        try {
            pos = Math.multiplyExact(vcn, (long) vcnUnit);
        } catch (ArithmeticException e) {
            pos = Long.MAX_VALUE;
        }
        if (pos > alloc.dataSize - blockSize) {
            throw Ntfs.bad(vol.name, what + " block VCN " + vcn + " is past the end of $INDEX_ALLOCATION ("
                    + alloc.dataSize + " bytes)");
        }
        long bit = pos / blockSize;
        if (bit / 8 >= bitmap.length || (bitmap[(int) (bit / 8)] & (1 << (bit % 8))) == 0) {
            throw Ntfs.bad(vol.name, what + " block VCN " + vcn + " is in use by the tree but free in $BITMAP");
        }
        byte[] raw = new byte[blockSize];
        ByteBuffer b = Ntfs.le(raw);
        alloc.read(pos, b);
        long disk = alloc.deviceOffset(pos);
        if (raw[0] != 'I' || raw[1] != 'N' || raw[2] != 'D' || raw[3] != 'X') {
            throw Ntfs.bad(vol.name, what + " block VCN " + vcn + " magic", disk, "not \"INDX\"");
        }
        Fixups.apply(b, blockSize, vol.name, what + " block VCN " + vcn, disk);
        long selfVcn = b.getLong(0x10);                                  // 0x10 this block's VCN
        if (selfVcn != vcn) {
            throw Ntfs.bad(vol.name, what + " block VCN field", disk + 0x10, "says " + selfVcn + ", expected " + vcn);
        }
        return new Block(b, disk);
    }

    Inode directory() {
        return dir;
    }
}
