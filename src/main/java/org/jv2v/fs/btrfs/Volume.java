package org.jv2v.fs.btrfs;

import org.jv2v.BadInputException;
import org.jv2v.LruMap;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The device layer of a btrfs filesystem: its devices, the superblock, the chunk map, and checked
 * reads of tree blocks and data by logical address. Tree walks check every block (checksum,
 * address, fsid, level, generation, item bounds, key order, and that each child's keys lie within
 * the range its parent gives it), so a damaged tree is an error and a walk visits each block at
 * most once: no loops.
 */
final class Volume {
    /** Tree blocks kept in memory (at 16 KiB each, 16 MiB). */
    static final int NODE_CACHE = 1024;
    static final long ROOT_TREE = 1;
    static final long EXTENT_TREE = 2;
    static final long CHUNK_TREE = 3;
    static final long FS_TREE = 5;
    static final long ROOT_TREE_DIR = 6;
    static final long FIRST_CHUNK_TREE_OBJECTID = 256;

    /** A tree's root block. */
    record Root(long treeId, long bytenr, int level, long generation) {}

    /** One leaf item: its key and where its data is in the leaf. */
    record Item(Key key, Node node, int offset, int size) {
        byte[] data() {
            return Arrays.copyOfRange(node.data, offset, offset + size);
        }

        byte[] leaf() {
            return node.data;
        }
    }

    @FunctionalInterface
    interface Visitor {
        /** Returns false to stop the walk. */
        boolean visit(Item item) throws IOException;
    }

    final Map<Long, BlockDevice> devices;
    final BlockDevice primary;
    final Superblock sb;
    final ChecksumType csum;
    final ChunkMap chunks;
    final String name;
    final Root rootTree;
    private final Map<Long, Node> cache = new LruMap<>(NODE_CACHE);
    private final Map<Long, Root> roots = new HashMap<>();

    private Volume(Map<Long, BlockDevice> devices, BlockDevice primary, Superblock sb) throws IOException {
        this.devices = devices;
        this.primary = primary;
        this.sb = sb;
        this.csum = ChecksumType.of(sb.csumType());
        this.name = primary.describe();
        this.chunks = new ChunkMap(name);
        loadChunks();
        this.rootTree = new Root(ROOT_TREE, sb.root(), sb.rootLevel(), sb.generation());
    }

    static Volume open(List<BlockDevice> devs) throws IOException {
        if (devs.isEmpty()) {
            throw new IllegalArgumentException("no device");
        }
        Map<Long, BlockDevice> byId = new HashMap<>();
        Superblock master = null;
        BlockDevice masterDev = null;
        for (BlockDevice d : devs) {
            Superblock s = readSuperblock(d);
            if (master != null && !Arrays.equals(s.fsid(), master.fsid())) {
                throw BadInputException.of(d.describe() + ": superblock fsid at offset 0x10020: "
                        + Superblock.uuidString(s.fsid()) + " is another filesystem than "
                        + Superblock.uuidString(master.fsid()) + " of " + masterDev.describe());
            }
            if (byId.put(s.devId(), d) != null) {
                throw BadInputException.of(d.describe() + ": superblock dev_item.devid at offset 0x100c9: device "
                        + s.devId() + " given twice");
            }
            if (master == null || Long.compareUnsigned(s.generation(), master.generation()) > 0) {
                master = s;
                masterDev = d;
            }
        }
        return new Volume(byId, devs.getFirst(), master);
    }

    /** Reads and checks the primary superblock of one device. */
    static Superblock readSuperblock(BlockDevice d) throws IOException {
        String where = d.describe() + ": superblock at offset 0x10000";
        if (d.size() < Superblock.OFFSET + Superblock.SIZE) {
            throw BadInputException.of(d.describe() + ": " + d.size() + " bytes is too small for btrfs");
        }
        ByteBuffer b = ByteBuffer.allocate(Superblock.SIZE);
        d.read(b, Superblock.OFFSET);
        byte[] raw = b.array();
        Superblock s = Superblock.read(raw);
        if (s.magic() != Superblock.MAGIC) {
            throw BadInputException.of(where + ": no btrfs magic");
        }
        ChecksumType t = ChecksumType.of(s.csumType());
        if (t == null) {
            throw BadInputException.of(where + ": csum_type (0xc4) " + s.csumType() + " is unknown");
        }
        if (!t.verify(raw, Superblock.SIZE)) {
            throw BadInputException.of(where + ": checksum (" + t.name().toLowerCase() + ") does not match");
        }
        if (s.bytenr() != Superblock.OFFSET) {
            throw BadInputException.of(where + ": bytenr (0x30) 0x" + Long.toHexString(s.bytenr()) + " is not 0x10000");
        }
        int ss = s.sectorSize();
        if (ss < 4096 || ss > 65536 || Integer.bitCount(ss) != 1) {
            throw BadInputException.of(where + ": sectorsize (0x90) " + ss + " is not a power of two from 4096 to 65536");
        }
        int ns = s.nodeSize();
        if (ns < ss || ns > 65536 || Integer.bitCount(ns) != 1) {
            throw BadInputException.of(where + ": nodesize (0x94) " + ns + " is not a power of two from the sector size"
                    + " to 65536");
        }
        if (s.sysChunkArraySize() < Key.SIZE || s.sysChunkArraySize() > Superblock.MAX_SYS_CHUNK_ARRAY) {
            throw BadInputException.of(where + ": sys_chunk_array_size (0xa0) " + s.sysChunkArraySize()
                    + " outside 17.." + Superblock.MAX_SYS_CHUNK_ARRAY);
        }
        if (s.rootLevel() > Node.MAX_LEVEL || s.chunkRootLevel() > Node.MAX_LEVEL) {
            throw BadInputException.of(where + ": root_level (0xc6) " + s.rootLevel() + " or chunk_root_level (0xc7) "
                    + s.chunkRootLevel() + " above " + Node.MAX_LEVEL);
        }
        long unknown = s.incompatFlags() & ~Superblock.INCOMPAT_SUPPORTED;
        if (unknown != 0) {
            String what = (unknown & Superblock.INCOMPAT_ZONED) != 0 ? "zoned"
                    : (unknown & Superblock.INCOMPAT_EXTENT_TREE_V2) != 0 ? "extent-tree-v2"
                    : (unknown & Superblock.INCOMPAT_RAID_STRIPE_TREE) != 0 ? "raid-stripe-tree" : "unknown";
            throw BadInputException.of(where + ": incompat_flags (0xbc) 0x" + Long.toHexString(unknown) + " (" + what
                    + "): a btrfs feature jv2v does not read");
        }
        return s;
    }

    private void loadChunks() throws IOException {
        byte[] a = sb.sysChunkArray();
        int n = sb.sysChunkArraySize();
        int p = 0;
        String where = name + ": superblock sys_chunk_array at offset 0x" + Long.toHexString(0x1032BL);
        while (p < n) {
            if (p + Key.SIZE + ChunkMap.CHUNK_HEADER > n) {
                throw BadInputException.of(where + " + " + p + ": truncated chunk");
            }
            Key k = Key.read(a, p);
            if (k.type() != Key.CHUNK_ITEM) {
                throw BadInputException.of(where + " + " + p + ": key type " + k.type() + " is not a chunk item");
            }
            p += Key.SIZE;
            int stripes = Hashes.le16(a, p + 0x2C);
            int size = ChunkMap.CHUNK_HEADER + stripes * ChunkMap.STRIPE_SIZE;
            if (p + size > n) {
                throw BadInputException.of(where + " + " + p + ": chunk with " + stripes + " stripes runs past the array");
            }
            chunks.add(ChunkMap.parse(k.offset(), a, p, size, where), where);
            p += size;
        }
        Root chunkRoot = new Root(CHUNK_TREE, sb.chunkRoot(), sb.chunkRootLevel(), sb.chunkRootGeneration());
        List<ChunkMap.Chunk> found = new ArrayList<>();
        walk(chunkRoot, new Key(FIRST_CHUNK_TREE_OBJECTID, Key.CHUNK_ITEM, 0),
                new Key(FIRST_CHUNK_TREE_OBJECTID, Key.CHUNK_ITEM, -1), it -> {
                    found.add(ChunkMap.parse(it.key().offset(), it.leaf(), it.offset(), it.size(),
                            name + ": chunk tree leaf at logical 0x" + Long.toHexString(it.node().logical)));
                    return true;
                });
        for (ChunkMap.Chunk c : found) {
            chunks.add(c, name + ": chunk tree");
        }
    }

    // ---- tree blocks

    Node node(long logical, int level, long generation, long treeId) throws IOException {
        synchronized (cache) {
            Node n = cache.get(logical);
            if (n != null) {
                checkExpected(n, level, generation, treeId, logical, null);
                return n;
            }
        }
        if (logical % sb.sectorSize() != 0 || logical == 0) {
            throw BadInputException.of(name + ": tree block of tree " + treeId + " at logical 0x"
                    + Long.toHexString(logical) + ": address is not sector-aligned");
        }
        List<ChunkMap.Copy> copies = chunks.copies(logical, sb.nodeSize());
        BadInputException first = null;
        boolean anyDevice = false;
        for (ChunkMap.Copy c : copies) {
            BlockDevice d = devices.get(c.devId());
            if (d == null) {
                continue;
            }
            anyDevice = true;
            String where = name + ": tree block of tree " + treeName(treeId) + " at logical 0x"
                    + Long.toHexString(logical) + ", offset 0x" + Long.toHexString(c.offset())
                    + (devices.size() > 1 ? " of " + d.describe() : "");
            try {
                if (c.length() < sb.nodeSize()) {
                    throw BadInputException.of(where + ": crosses a chunk or stripe boundary");
                }
                if (c.offset() + sb.nodeSize() > d.size()) {
                    throw BadInputException.of(where + ": past the end of the device (" + d.size() + " bytes)");
                }
                ByteBuffer b = ByteBuffer.allocate(sb.nodeSize());
                d.read(b, c.offset());
                Node n = check(b.array(), logical, where);
                checkExpected(n, level, generation, treeId, logical, where);
                synchronized (cache) {
                    cache.put(logical, n);
                }
                return n;
            } catch (BadInputException e) {
                if (first == null) {
                    first = e; // try the other mirror (DUP, RAID1) before giving up
                }
            }
        }
        if (!anyDevice) {
            throw BadInputException.of(name + ": tree block at logical 0x" + Long.toHexString(logical)
                    + " is on device " + copies.getFirst().devId() + ", which was not given (pass every device of"
                    + " the filesystem)");
        }
        throw first;
    }

    private void checkExpected(Node n, int level, long generation, long treeId, long logical, String where) {
        String w = where != null ? where : name + ": tree block of tree " + treeName(treeId) + " at logical 0x"
                + Long.toHexString(logical);
        if (level >= 0 && n.level != level) {
            throw BadInputException.of(w + ": level " + n.level + " where " + level
                    + " was expected (a loop or a misdirected pointer)");
        }
        if (generation != 0 && n.generation != generation) {
            throw BadInputException.of(w + ": generation " + n.generation + " where its parent says " + generation);
        }
    }

    private Node check(byte[] d, long logical, String where) {
        if (!csum.verify(d, d.length)) {
            throw BadInputException.of(where + ": checksum (" + csum.name().toLowerCase() + ") does not match");
        }
        if (Hashes.le64(d, 0x30) != logical) {
            throw BadInputException.of(where + ": header bytenr (0x30) is 0x" + Long.toHexString(Hashes.le64(d, 0x30)));
        }
        if (!Arrays.equals(d, 0x20, 0x30, sb.metadataFsid(), 0, 16)) {
            throw BadInputException.of(where + ": header fsid (0x20) belongs to another filesystem");
        }
        Node n = new Node(logical, d);
        if (n.level > Node.MAX_LEVEL) {
            throw BadInputException.of(where + ": level (0x64) " + n.level + " above " + Node.MAX_LEVEL);
        }
        int per = n.isLeaf() ? Node.ITEM : Node.KEY_PTR;
        long max = (d.length - Node.HEADER) / per;
        if ((n.count & 0xFFFF_FFFFL) > max || n.count == 0 && !n.isLeaf()) {
            throw BadInputException.of(where + ": nritems (0x60) " + Integer.toUnsignedString(n.count)
                    + " does not fit (at most " + max + (n.isLeaf() ? "" : ", at least 1") + ")");
        }
        Key prev = null;
        for (int i = 0; i < n.count; i++) {
            Key k = n.key(i);
            if (prev != null && prev.compareTo(k) >= 0) {
                throw BadInputException.of(where + ": key " + i + " " + k + " is not above the previous key " + prev);
            }
            prev = k;
            if (n.isLeaf()) {
                long off = n.itemOffset(i) & 0xFFFF_FFFFL;
                long size = n.itemSize(i) & 0xFFFF_FFFFL;
                long itemsEnd = Node.HEADER + (long) n.count * Node.ITEM;
                if (off < itemsEnd || off + size > d.length) {
                    throw BadInputException.of(where + ": item " + i + " data [" + (off - Node.HEADER) + ", +" + size
                            + ") outside the leaf");
                }
            } else if (n.blockPtr(i) == 0) {
                throw BadInputException.of(where + ": key pointer " + i + " has block address 0");
            }
        }
        return n;
    }

    static String treeName(long id) {
        return switch ((int) id) {
            case 1 -> "root";
            case 2 -> "extent";
            case 3 -> "chunk";
            case 4 -> "dev";
            case 5 -> "fs";
            case 7 -> "csum";
            default -> Long.toUnsignedString(id);
        };
    }

    // ---- walks

    /** Visits every item with {@code min <= key <= max} in key order. */
    void walk(Root root, Key min, Key max, Visitor v) throws IOException {
        walk(root.treeId(), root.bytenr(), root.level(), root.generation(), null, null, min, max, v);
    }

    private boolean walk(long tree, long bytenr, int level, long gen, Key low, Key high, Key min, Key max, Visitor v)
            throws IOException {
        Node n = node(bytenr, level, gen, tree);
        checkRange(n, low, high, tree);
        if (n.isLeaf()) {
            for (int i = 0; i < n.count; i++) {
                Key k = n.key(i);
                if (k.compareTo(min) < 0) {
                    continue;
                }
                if (k.compareTo(max) > 0 || !v.visit(new Item(k, n, n.itemOffset(i), n.itemSize(i)))) {
                    return false;
                }
            }
            return true;
        }
        int start = Math.max(0, lastAtMost(n, min));
        for (int i = start; i < n.count; i++) {
            Key k = n.key(i);
            if (k.compareTo(max) > 0) {
                return false;
            }
            Key next = i + 1 < n.count ? n.key(i + 1) : high;
            if (!walk(tree, n.blockPtr(i), n.level - 1, n.ptrGeneration(i), k, next, min, max, v)) {
                return false;
            }
        }
        return true;
    }

    /** The item with the greatest key not above {@code key}, or null. */
    Item floor(Root root, Key key) throws IOException {
        Node n = node(root.bytenr(), root.level(), root.generation(), root.treeId());
        Key low = null;
        Key high = null;
        while (true) {
            checkRange(n, low, high, root.treeId());
            int i = lastAtMost(n, key);
            if (i < 0) {
                return null;
            }
            if (n.isLeaf()) {
                return new Item(n.key(i), n, n.itemOffset(i), n.itemSize(i));
            }
            low = n.key(i);
            high = i + 1 < n.count ? n.key(i + 1) : high;
            n = node(n.blockPtr(i), n.level - 1, n.ptrGeneration(i), root.treeId());
        }
    }

    /** The item with exactly {@code key}, or null. */
    Item find(Root root, Key key) throws IOException {
        Item it = floor(root, key);
        return it != null && it.key().equals(key) ? it : null;
    }

    /** The last index whose key is at most {@code key}, -1 when all are above it. */
    private static int lastAtMost(Node n, Key key) {
        int lo = 0;
        int hi = n.count - 1;
        int ans = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (n.key(mid).compareTo(key) <= 0) {
                ans = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return ans;
    }

    /** A child's keys must lie in [low, high) as its parent says: this rules out loops and shared blocks. */
    private void checkRange(Node n, Key low, Key high, long tree) {
        if (n.count == 0) {
            return;
        }
        if (low != null && !n.key(0).equals(low)) {
            throw BadInputException.of(name + ": tree block of tree " + treeName(tree) + " at logical 0x"
                    + Long.toHexString(n.logical) + ": first key " + n.key(0) + " differs from its parent's " + low);
        }
        if (high != null && n.key(n.count - 1).compareTo(high) >= 0) {
            throw BadInputException.of(name + ": tree block of tree " + treeName(tree) + " at logical 0x"
                    + Long.toHexString(n.logical) + ": last key " + n.key(n.count - 1)
                    + " is not below its parent's next key " + high);
        }
    }

    // ---- roots

    /** The root of tree {@code id} from its ROOT_ITEM in the root tree (the newest one), or null. */
    Root treeRoot(long id) throws IOException {
        synchronized (roots) {
            Root r = roots.get(id);
            if (r != null) {
                return r;
            }
        }
        Item it = floor(rootTree, new Key(id, Key.ROOT_ITEM, -1));
        if (it == null || it.key().objectId() != id || it.key().type() != Key.ROOT_ITEM) {
            return null;
        }
        Items.RootItem ri = Items.RootItem.read(it, name);
        if (ri.level() > Node.MAX_LEVEL) {
            throw BadInputException.of(name + ": root item of tree " + id + " in the leaf at logical 0x"
                    + Long.toHexString(it.node().logical) + ": level " + ri.level() + " above " + Node.MAX_LEVEL);
        }
        Root r = new Root(id, ri.bytenr(), ri.level(), ri.generation());
        synchronized (roots) {
            roots.put(id, r);
        }
        return r;
    }

    // ---- data

    /** Reads {@code len} bytes at logical address {@code logical} (from the first copy on a device we have). */
    void read(long logical, byte[] dst, int off, int len) throws IOException {
        read(logical, ByteBuffer.wrap(dst, off, len));
    }

    /** Fills {@code dst}'s remaining bytes from logical address {@code logical}. */
    void read(long logical, ByteBuffer dst) throws IOException {
        long pos = logical;
        int start = dst.position();
        int len = dst.remaining();
        int done = 0;
        while (done < len) {
            List<ChunkMap.Copy> copies = chunks.copies(pos, len - done);
            ChunkMap.Copy use = null;
            for (ChunkMap.Copy c : copies) {
                if (devices.containsKey(c.devId())) {
                    use = c;
                    break;
                }
            }
            if (use == null) {
                throw BadInputException.of(name + ": data at logical 0x" + Long.toHexString(pos) + " is on device "
                        + copies.getFirst().devId() + ", which was not given (pass every device of the filesystem)");
            }
            BlockDevice d = devices.get(use.devId());
            int n = (int) use.length();
            if (use.offset() < 0 || use.offset() + n > d.size()) {
                throw BadInputException.of(name + ": data at logical 0x" + Long.toHexString(pos) + " maps to offset 0x"
                        + Long.toHexString(use.offset()) + ", past the end of " + d.describe());
            }
            d.read(dst.slice(start + done, n), use.offset());
            done += n;
            pos += n;
        }
    }
}
