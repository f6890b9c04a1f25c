package org.jv2v.fs.btrfs;

import org.jv2v.BadInputException;
import org.jv2v.LruMap;
import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A btrfs filesystem, read-only, seen through one subvolume.
 *
 * <p>{@link #open} shows the default subvolume as "/", as a mount without options does. Subvolumes
 * linked below it appear where they are linked, as directories whose content is the other
 * subvolume's tree (inode 256, as Linux shows them). {@link #subvolumes()} lists them all with
 * their paths from the top level, and {@link #openSubvolume(String)} opens another one as a
 * {@code subvol=} mount option does ("@", "/@home"; "" or "/" is the top level, id 5).
 *
 * <p>Metadata checksums (crc32c, xxhash64, sha256, blake2b) are verified on every tree block and
 * on the superblock; data checksums (the csum tree) are not. Names are decoded as UTF-8.
 * Compressed extents (zlib, lzo, zstd) are read; encrypted extents are refused per file. RAID5/6
 * chunks are refused when read; SINGLE, DUP, RAID0, RAID1, RAID1C3/4 and RAID10 are read, the
 * striped ones when every device is given ({@link BtrfsFormat#open(List)}).
 */
public final class BtrfsFileSystem implements FileSystem {
    /** Linux's limit on symbolic links followed while resolving one path (ELOOP). */
    static final int MAX_SYMLINKS = 40;
    /** PATH_MAX: a longer symlink target cannot be used anyway. */
    static final int MAX_SYMLINK_TARGET = 4096;
    /** Deepest directory chain followed when naming a subvolume's location (PATH_MAX / 2). */
    static final int MAX_PATH_DEPTH = 2048;
    /** Decompressed extents kept (128 KiB each at most). */
    private static final int EXTENT_CACHE = 32;
    static final long EMPTY_SUBVOL_DIR = 2;
    static final int S_IFMT = 0170000;
    private static final byte[] ZEROS = new byte[64 * 1024];

    /** One subvolume (or snapshot), as {@code btrfs subvolume list} shows it. */
    public record Subvolume(long id, long parentId, String path, boolean readOnly, Optional<String> uuid) {}

    /** An inode in a tree; {@code ino == 2} with {@code placeholder} is the empty stand-in for an unlinked subvolume. */
    private record Ino(long tree, long ino, boolean placeholder) {}

    /** State shared by all views of one filesystem. */
    private static final class Shared {
        final Volume v;
        final Map<String, byte[]> extents = new LruMap<>(EXTENT_CACHE);

        Shared(Volume v) {
            this.v = v;
        }
    }

    private final Shared shared;
    private final Volume v;
    private final long subvol;
    private final Ino root;

    private BtrfsFileSystem(Shared shared, long subvol) throws IOException {
        this.shared = shared;
        this.v = shared.v;
        this.subvol = subvol;
        Volume.Root r = v.treeRoot(subvol);
        if (r == null) {
            throw new NoSuchFileException("subvolume " + subvol + " (no root item)");
        }
        Volume.Item it = v.find(v.rootTree, rootItemKey(subvol));
        long dirId = it == null ? 256 : Items.RootItem.read(it, v.name).rootDirId();
        this.root = new Ino(subvol, dirId, false);
    }

    private Key rootItemKey(long id) throws IOException {
        Volume.Item it = v.floor(v.rootTree, new Key(id, Key.ROOT_ITEM, -1));
        return it != null && it.key().objectId() == id && it.key().type() == Key.ROOT_ITEM ? it.key() : null;
    }

    /** Opens a single-device filesystem showing its default subvolume. */
    public static BtrfsFileSystem open(BlockDevice device) throws IOException {
        return open(List.of(device));
    }

    /** Opens a filesystem from all its devices (any order), showing its default subvolume. */
    public static BtrfsFileSystem open(List<BlockDevice> devices) throws IOException {
        Shared s = new Shared(Volume.open(devices));
        BtrfsFileSystem top = new BtrfsFileSystem(s, Volume.FS_TREE);
        long def = top.defaultSubvolumeId();
        return def == Volume.FS_TREE ? top : new BtrfsFileSystem(s, def);
    }

    @Override
    public String type() {
        return "btrfs";
    }

    @Override
    public Optional<String> label() {
        byte[] l = v.sb.label();
        int n = 0;
        while (n < l.length && l[n] != 0) {
            n++;
        }
        return n == 0 ? Optional.empty() : Optional.of(new String(l, 0, n, StandardCharsets.UTF_8));
    }

    /** The filesystem UUID (fsid), as blkid prints it (UUID=). */
    @Override
    public Optional<String> uuid() {
        return Optional.of(Superblock.uuidString(v.sb.fsid()));
    }

    /** The device's own UUID (blkid's UUID_SUB) of the first device. */
    public String deviceUuid() {
        return Superblock.uuidString(v.sb.devUuid());
    }

    public ChecksumType checksumType() {
        return v.csum;
    }

    /** True when a log tree is present: fsync'd changes not yet in the trees (the filesystem was not unmounted). */
    public boolean hasLogTree() {
        return v.sb.logRoot() != 0;
    }

    /** The id of the subvolume this view shows as "/". */
    public long subvolumeId() {
        return subvol;
    }

    /** The default subvolume: the root tree's "default" directory item (set-default), else 5. */
    public long defaultSubvolumeId() throws IOException {
        byte[] name = "default".getBytes(StandardCharsets.US_ASCII);
        Volume.Item it = v.find(v.rootTree, new Key(Volume.ROOT_TREE_DIR, Key.DIR_ITEM, Hashes.nameHash(name)));
        if (it != null) {
            for (Items.DirEntryItem e : Items.DirEntryItem.readAll(it, v.name, false)) {
                if (java.util.Arrays.equals(e.name(), name)) {
                    return e.location().objectId();
                }
            }
        }
        return Volume.FS_TREE;
    }

    /** Every subvolume and snapshot, with its path from the top level (as btrfs subvolume list prints it). */
    public List<Subvolume> subvolumes() throws IOException {
        Map<Long, long[]> parent = new TreeMap<>(Long::compareUnsigned); // child -> {parent}
        Map<Long, Items.RootRef> refs = new HashMap<>();
        v.walk(v.rootTree, new Key(256, Key.ROOT_BACKREF, 0), new Key(-256, Key.ROOT_BACKREF, -1), it -> {
            if (it.key().type() == Key.ROOT_BACKREF && !parent.containsKey(it.key().objectId())) {
                parent.put(it.key().objectId(), new long[] {it.key().offset()});
                refs.put(it.key().objectId(), Items.RootRef.read(it, v.name));
            }
            return true;
        });
        Map<Long, String> paths = new HashMap<>();
        List<Subvolume> out = new ArrayList<>();
        for (long id : parent.keySet()) {
            String p = subvolPath(id, parent, refs, paths);
            if (p == null) {
                continue; // linked from a subvolume that is gone
            }
            Key k = rootItemKey(id);
            if (k == null) {
                continue;
            }
            Items.RootItem ri = Items.RootItem.read(v.find(v.rootTree, k), v.name);
            out.add(new Subvolume(id, parent.get(id)[0], p, (ri.flags() & 1) != 0,
                    Optional.ofNullable(ri.uuid()).map(Superblock::uuidString)));
        }
        return out;
    }

    /**
     * Subvolume {@code id}'s path from the top level, or null when its chain of parents leads to a
     * subvolume that is gone. Climbs the ROOT_BACKREF parents without recursion, each subvolume
     * once: a subvolume that turns out to be its own ancestor is an error, never a hang.
     */
    private String subvolPath(long id, Map<Long, long[]> parent, Map<Long, Items.RootRef> refs, Map<Long, String> memo)
            throws IOException {
        List<Long> chain = new ArrayList<>();
        java.util.Set<Long> onChain = new java.util.HashSet<>();
        long cur = id;
        while (cur != Volume.FS_TREE && !memo.containsKey(cur)) {
            if (!onChain.add(cur)) {
                throw BadInputException.of(v.name + ": root tree: subvolume " + cur + " is its own ancestor (the "
                        + "ROOT_BACKREF items of subvolumes " + chainText(chain, cur) + " loop)");
            }
            long[] par = parent.get(cur);
            if (par == null) {
                return null;
            }
            chain.add(cur);
            cur = par[0];
        }
        String up = cur == Volume.FS_TREE ? "" : memo.get(cur);
        for (int i = chain.size() - 1; i >= 0; i--) {
            long sub = chain.get(i);
            Items.RootRef ref = refs.get(sub);
            String dir = dirPath(parent.get(sub)[0], ref.dirId());
            up = join(join(up, dir), new String(ref.name(), StandardCharsets.UTF_8));
            memo.put(sub, up);
        }
        return id == Volume.FS_TREE ? "" : memo.get(id);
    }

    /** "256 -> 257 -> 256": the loop part of a chain of parents. */
    private static String chainText(List<Long> chain, long again) {
        StringBuilder b = new StringBuilder();
        for (long x : chain.subList(chain.indexOf(again), chain.size())) {
            b.append(Long.toUnsignedString(x)).append(" -> ");
        }
        return b.append(Long.toUnsignedString(again)).toString();
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : b.isEmpty() ? a : a + "/" + b;
    }

    /** The path of directory {@code dir} inside tree {@code tree}, from that tree's root directory. */
    private String dirPath(long tree, long dir) throws IOException {
        Volume.Root r = v.treeRoot(tree);
        if (r == null) {
            throw BadInputException.of(v.name + ": root tree: subvolume " + tree + " has no root item");
        }
        Key rk = rootItemKey(tree);
        long top = Items.RootItem.read(v.find(v.rootTree, rk), v.name).rootDirId();
        Deque<String> parts = new ArrayDeque<>();
        long ino = dir;
        for (int depth = 0; ino != top; depth++) {
            if (depth > MAX_PATH_DEPTH) {
                throw BadInputException.of(v.name + ": tree " + tree + ": directory " + ino + " is more than "
                        + MAX_PATH_DEPTH + " levels deep (a loop of inode refs)");
            }
            Items.InodeRef ref = firstRef(r, ino);
            if (ref == null) {
                throw BadInputException.of(v.name + ": tree " + tree + ": directory " + ino + " has no inode ref");
            }
            parts.addFirst(new String(ref.name(), StandardCharsets.UTF_8));
            ino = ref.parent();
        }
        return String.join("/", parts);
    }

    private Items.InodeRef firstRef(Volume.Root r, long ino) throws IOException {
        Items.InodeRef[] found = new Items.InodeRef[1];
        v.walk(r, new Key(ino, Key.INODE_REF, 0), new Key(ino, Key.INODE_EXTREF, -1), it -> {
            found[0] = it.key().type() == Key.INODE_REF ? Items.InodeRef.readRef(it, v.name)
                    : Items.InodeRef.readExtref(it, v.name);
            return false;
        });
        return found[0];
    }

    /**
     * Another subvolume of the same filesystem as its own view, named as in {@code subvol=}: the
     * path from the top level, with or without a leading "/"; "" or "/" is the top level (id 5).
     */
    public BtrfsFileSystem openSubvolume(String path) throws IOException {
        String p = path.replaceAll("^/+", "").replaceAll("/+$", "").replaceAll("/+", "/");
        if (p.isEmpty()) {
            return new BtrfsFileSystem(shared, Volume.FS_TREE);
        }
        for (Subvolume s : subvolumes()) {
            if (s.path().equals(p)) {
                return new BtrfsFileSystem(shared, s.id());
            }
        }
        throw new NoSuchFileException(v.name + ": subvolume " + path);
    }

    /** Another subvolume by id, as {@code subvolid=} names it. */
    public BtrfsFileSystem openSubvolume(long id) throws IOException {
        if (id != Volume.FS_TREE && (Long.compareUnsigned(id, 256) < 0 || Long.compareUnsigned(id, -256) > 0)) {
            throw new NoSuchFileException(v.name + ": subvolume " + id + " (not a subvolume id)");
        }
        return new BtrfsFileSystem(shared, id);
    }

    // ---- paths

    private Volume.Root tree(long id) throws IOException {
        Volume.Root r = v.treeRoot(id);
        if (r == null) {
            throw BadInputException.of(v.name + ": root tree: subvolume " + id + " has no root item");
        }
        return r;
    }

    private Items.InodeItem inode(Ino i) throws IOException {
        if (i.placeholder()) {
            return null;
        }
        Volume.Item it = v.find(tree(i.tree()), new Key(i.ino(), Key.INODE_ITEM, 0));
        if (it == null) {
            throw BadInputException.of(v.name + ": tree " + i.tree() + ": inode " + i.ino() + " has no inode item");
        }
        return Items.InodeItem.read(it, v.name);
    }

    private static FileKind kind(int mode) {
        return switch (mode & S_IFMT) {
            case 0040000 -> FileKind.DIRECTORY;
            case 0120000 -> FileKind.SYMLINK;
            case 0020000 -> FileKind.CHAR_DEVICE;
            case 0060000 -> FileKind.BLOCK_DEVICE;
            case 0010000 -> FileKind.FIFO;
            case 0140000 -> FileKind.SOCKET;
            default -> FileKind.REGULAR;
        };
    }

    private FileKind kindOf(Ino i) throws IOException {
        Items.InodeItem ii = inode(i);
        return ii == null ? FileKind.DIRECTORY : kind(ii.mode());
    }

    private Ino resolve(String path, boolean followLast) throws IOException {
        if (path == null || !path.startsWith("/")) {
            throw new NoSuchFileException(path, null, "not an absolute path");
        }
        Deque<Ino> stack = new ArrayDeque<>();
        stack.push(root);
        Deque<String> parts = new ArrayDeque<>(List.of(path.split("/")));
        int links = 0;
        while (!parts.isEmpty()) {
            String part = parts.pollFirst();
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (stack.size() > 1) {
                    stack.pop();
                }
                continue;
            }
            Ino cur = stack.peek();
            if (kindOf(cur) != FileKind.DIRECTORY) {
                throw new NotDirectoryException(path);
            }
            Ino child = lookup(cur, part);
            if (child == null) {
                throw new NoSuchFileException(path);
            }
            boolean last = parts.stream().allMatch(p -> p.isEmpty() || p.equals("."));
            if ((!last || followLast) && kindOf(child) == FileKind.SYMLINK) {
                if (++links > MAX_SYMLINKS) {
                    throw new FileSystemLoopException(path);
                }
                String target = readlink(child);
                if (target.startsWith("/")) {
                    stack.clear();
                    stack.push(root);
                }
                List<String> t = List.of(target.split("/"));
                for (int i = t.size() - 1; i >= 0; i--) {
                    parts.addFirst(t.get(i));
                }
                continue;
            }
            stack.push(child);
        }
        return stack.peek();
    }

    private Ino lookup(Ino dir, String name) throws IOException {
        if (dir.placeholder()) {
            return null;
        }
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        Volume.Item it = v.find(tree(dir.tree()), new Key(dir.ino(), Key.DIR_ITEM, Hashes.nameHash(n)));
        if (it == null) {
            return null;
        }
        for (Items.DirEntryItem e : Items.DirEntryItem.readAll(it, v.name, false)) {
            if (java.util.Arrays.equals(e.name(), n)) {
                return target(dir, e);
            }
        }
        return null;
    }

    /** Where a directory entry leads: an inode of the same tree, or the root of a subvolume. */
    private Ino target(Ino dir, Items.DirEntryItem e) throws IOException {
        Key loc = e.location();
        if (loc.type() == Key.INODE_ITEM) {
            return new Ino(dir.tree(), loc.objectId(), false);
        }
        if (loc.type() != Key.ROOT_ITEM) {
            throw BadInputException.of(v.name + ": tree " + dir.tree() + ": directory " + dir.ino() + " entry "
                    + new String(e.name(), StandardCharsets.UTF_8) + " points at key type " + loc.type());
        }
        long sub = loc.objectId();
        // the kernel crosses into the subvolume only when a ROOT_REF links it here (a snapshot keeps
        // the entries of nested subvolumes but shows them as empty directories)
        Volume.Item ref = v.find(v.rootTree, new Key(dir.tree(), Key.ROOT_REF, sub));
        if (ref != null) {
            Items.RootRef rr = Items.RootRef.read(ref, v.name);
            if (rr.dirId() == dir.ino() && java.util.Arrays.equals(rr.name(), e.name()) && v.treeRoot(sub) != null) {
                Key rk = rootItemKey(sub);
                long top = Items.RootItem.read(v.find(v.rootTree, rk), v.name).rootDirId();
                return new Ino(sub, top, false);
            }
        }
        return new Ino(dir.tree(), EMPTY_SUBVOL_DIR, true);
    }

    // ---- FileSystem

    @Override
    public FileStat stat(String path) throws IOException {
        Ino i = resolve(path, false);
        Items.InodeItem ii = inode(i);
        if (ii == null) {
            return new FileStat(EMPTY_SUBVOL_DIR, FileKind.DIRECTORY, 0, 0755, 0, 0, 1, Instant.EPOCH, Instant.EPOCH,
                    Instant.EPOCH, 0);
        }
        FileKind k = kind(ii.mode());
        long rdev = k == FileKind.CHAR_DEVICE || k == FileKind.BLOCK_DEVICE ? userDev(ii.rdev()) : 0;
        return new FileStat(i.ino(), k, ii.size(), ii.mode() & 07777, ii.uid(), ii.gid(), ii.nlink(),
                time(ii.atimeSec(), ii.atimeNsec()), time(ii.mtimeSec(), ii.mtimeNsec()),
                time(ii.ctimeSec(), ii.ctimeNsec()), rdev);
    }

    /** The creation time btrfs keeps (otime), which {@link FileStat} has no field for. */
    public Instant birthTime(String path) throws IOException {
        Items.InodeItem ii = inode(resolve(path, false));
        return ii == null ? Instant.EPOCH : time(ii.otimeSec(), ii.otimeNsec());
    }

    /** A timespec; seconds beyond what Instant holds (only damage makes them) are clamped. */
    private static Instant time(long sec, int nsec) {
        long s = Math.clamp(sec, Instant.MIN.getEpochSecond(), Instant.MAX.getEpochSecond() - 1);
        return Instant.ofEpochSecond(s, Math.floorMod(nsec, 1_000_000_000));
    }

    /**
     * The device number as stat reports it. btrfs stores the kernel's dev_t (major in the bits
     * from 20 up, minor below); stat encodes it as glibc's makedev.
     */
    static long userDev(long kdev) {
        long major = kdev >>> 20;
        long minor = kdev & 0xFFFFF;
        return (major & 0xFFF) << 8 | (major & ~0xFFFL) << 32 | (minor & 0xFF) | (minor & ~0xFFL) << 12;
    }

    @Override
    public List<DirEntry> list(String dir) throws IOException {
        Ino d = resolve(dir, true);
        if (kindOf(d) != FileKind.DIRECTORY) {
            throw new NotDirectoryException(dir);
        }
        List<DirEntry> out = new ArrayList<>();
        if (d.placeholder()) {
            return out;
        }
        v.walk(tree(d.tree()), new Key(d.ino(), Key.DIR_INDEX, 0), new Key(d.ino(), Key.DIR_INDEX, -1), it -> {
            for (Items.DirEntryItem e : Items.DirEntryItem.readAll(it, v.name, false)) {
                String name = new String(e.name(), StandardCharsets.UTF_8);
                if (e.location().type() == Key.ROOT_ITEM) {
                    Ino t = target(d, e);
                    out.add(new DirEntry(name, t.ino(), FileKind.DIRECTORY));
                } else {
                    out.add(new DirEntry(name, e.location().objectId(), fileType(e.type())));
                }
            }
            return true;
        });
        return out;
    }

    private static FileKind fileType(int ft) {
        FileKind k = FileKind.ofDirEntryType(ft);
        return k == null ? FileKind.REGULAR : k;
    }

    @Override
    public int read(String file, ByteBuffer dst, long position) throws IOException {
        Ino f = resolve(file, false);
        Items.InodeItem ii = inode(f);
        if (ii == null || kind(ii.mode()) != FileKind.REGULAR) {
            throw new IOException(file + ": not a regular file");
        }
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        if (position >= ii.size()) {
            return -1;
        }
        int n = (int) Math.min(dst.remaining(), ii.size() - position);
        readRange(f, ii.size(), dst, position, n);
        dst.position(dst.position() + n);
        return n;
    }

    /** Fills {@code dst[pos .. pos + n)} (absolute, from dst's position) with file bytes {@code [at, at + n)}. */
    private void readRange(Ino f, long size, ByteBuffer dst, long at, int n) throws IOException {
        int base = dst.position();
        for (int i = 0; i < n; i += ZEROS.length) { // holes, prealloc and what no extent covers read as zeros
            dst.put(base + i, ZEROS, 0, Math.min(ZEROS.length, n - i));
        }
        if (n == 0) {
            return;
        }
        Volume.Root r = tree(f.tree());
        long end = at + n;
        Volume.Item first = v.floor(r, new Key(f.ino(), Key.EXTENT_DATA, at));
        long from = first != null && first.key().objectId() == f.ino() && first.key().type() == Key.EXTENT_DATA
                ? first.key().offset() : at;
        v.walk(r, new Key(f.ino(), Key.EXTENT_DATA, from), new Key(f.ino(), Key.EXTENT_DATA, end - 1), it -> {
            Items.FileExtent e = Items.FileExtent.read(it, v.name);
            long eEnd = e.fileOffset() + e.numBytes();
            if (e.numBytes() < 0 || eEnd < e.fileOffset()) {
                throw Items.bad(it, v.name, "file extent", "num_bytes " + Long.toUnsignedString(e.numBytes())
                        + " overflows");
            }
            long s = Math.max(at, e.fileOffset());
            long t = Math.min(end, eEnd);
            if (t > s) {
                copyExtent(it, e, s - e.fileOffset(), dst, base + (int) (s - at), (int) (t - s));
            }
            return true;
        });
    }

    /** Copies {@code len} bytes starting {@code inExtent} bytes into extent {@code e} to {@code dst[to...]}. */
    private void copyExtent(Volume.Item it, Items.FileExtent e, long inExtent, ByteBuffer dst, int to, int len)
            throws IOException {
        if (e.encryption() != 0 || e.otherEncoding() != 0) {
            throw Items.bad(it, v.name, "file extent", "encrypted or otherwise encoded data, which jv2v does not read");
        }
        if (e.type() == Items.FileExtent.PREALLOC || e.type() != Items.FileExtent.INLINE && e.diskBytenr() == 0) {
            return; // zeros
        }
        String where = v.name + ": file extent " + it.key() + " in the leaf at logical 0x"
                + Long.toHexString(it.node().logical);
        if (e.compression() == Decompress.NONE) {
            if (e.type() == Items.FileExtent.INLINE) {
                if (inExtent + len > e.inlineSize()) {
                    throw Items.bad(it, v.name, "file extent", "inline data of " + e.inlineSize()
                            + " bytes is shorter than the file needs");
                }
                dst.put(to, it.leaf(), e.inlineOffset() + (int) inExtent, len);
                return;
            }
            v.read(e.diskBytenr() + e.offset() + inExtent, dst.slice(to, len));
            return;
        }
        byte[] plain = decompressed(it, e, where);
        long src = (e.type() == Items.FileExtent.INLINE ? 0 : e.offset()) + inExtent;
        if (src + len > plain.length) {
            throw Items.bad(it, v.name, "file extent", "range [" + src + ", +" + len + ") is outside the "
                    + plain.length + " decompressed bytes");
        }
        dst.put(to, plain, (int) src, len);
    }

    private byte[] decompressed(Volume.Item it, Items.FileExtent e, String where) throws IOException {
        boolean inline = e.type() == Items.FileExtent.INLINE;
        long ram = e.ramBytes();
        if (ram <= 0 || ram > (inline ? v.sb.nodeSize() : Decompress.MAX_EXTENT)) {
            throw Items.bad(it, v.name, "file extent", "ram_bytes " + Long.toUnsignedString(ram) + " outside 1.."
                    + (inline ? v.sb.nodeSize() : Decompress.MAX_EXTENT) + " for a compressed extent");
        }
        String cacheKey = inline ? "i" + it.node().logical + ":" + it.offset() : "d" + e.diskBytenr();
        synchronized (shared.extents) {
            byte[] c = shared.extents.get(cacheKey);
            if (c != null && c.length == ram) {
                return c;
            }
        }
        byte[] out;
        if (inline) {
            out = Decompress.decompress(e.compression(), it.leaf(), e.inlineOffset(), e.inlineSize(), (int) ram,
                    v.sb.sectorSize(), where);
        } else {
            long disk = e.diskNumBytes();
            if (disk <= 0 || disk > Decompress.MAX_EXTENT) {
                throw Items.bad(it, v.name, "file extent", "disk_num_bytes " + Long.toUnsignedString(disk)
                        + " outside 1.." + Decompress.MAX_EXTENT + " for a compressed extent");
            }
            byte[] raw = new byte[(int) disk];
            v.read(e.diskBytenr(), raw, 0, raw.length);
            out = Decompress.decompress(e.compression(), raw, 0, raw.length, (int) ram, v.sb.sectorSize(), where);
        }
        synchronized (shared.extents) {
            shared.extents.put(cacheKey, out);
        }
        return out;
    }

    @Override
    public String readlink(String link) throws IOException {
        Ino i = resolve(link, false);
        if (kindOf(i) != FileKind.SYMLINK) {
            throw new IOException(link + ": not a symbolic link");
        }
        return readlink(i);
    }

    private String readlink(Ino i) throws IOException {
        Items.InodeItem ii = inode(i);
        if (ii.size() < 0 || ii.size() > MAX_SYMLINK_TARGET) {
            throw BadInputException.of(v.name + ": tree " + i.tree() + ": symlink inode " + i.ino() + " has a target of "
                    + Long.toUnsignedString(ii.size()) + " bytes (at most " + MAX_SYMLINK_TARGET + ")");
        }
        ByteBuffer b = ByteBuffer.allocate((int) ii.size());
        readRange(i, ii.size(), b, 0, b.capacity());
        return new String(b.array(), StandardCharsets.UTF_8);
    }

    @Override
    public Map<String, byte[]> xattrs(String path) throws IOException {
        Ino i = resolve(path, false);
        Map<String, byte[]> out = new TreeMap<>();
        if (i.placeholder()) {
            return out;
        }
        v.walk(tree(i.tree()), new Key(i.ino(), Key.XATTR_ITEM, 0), new Key(i.ino(), Key.XATTR_ITEM, -1), it -> {
            for (Items.DirEntryItem e : Items.DirEntryItem.readAll(it, v.name, true)) {
                out.put(new String(e.name(), StandardCharsets.UTF_8), e.data());
            }
            return true;
        });
        return out;
    }

    /** The used ranges of the first device given. */
    @Override
    public List<ByteRange> usedRanges() throws IOException {
        return usedRanges(v.primary);
    }

    /**
     * Every byte range of {@code device} (one of the filesystem's devices) that the filesystem
     * uses: the first MiB (boot loader area and primary superblock), the superblock mirrors, all of
     * every SYSTEM chunk, all of every RAID5/6 chunk (not mapped by jv2v), and the physical copies
     * of every extent the extent tree records
     * (EXTENT_ITEM for data and old-style metadata, METADATA_ITEM for tree blocks). When a log
     * tree is present its blocks and the data it references are not in the extent tree yet, so
     * then every allocated chunk counts as used.
     */
    public List<ByteRange> usedRanges(BlockDevice device) throws IOException {
        return UsedRanges.of(v, device);
    }

    /** Total bytes and free bytes as the superblock counts them (total_bytes minus bytes_used). */
    @Override
    public SpaceUsage space() {
        long total = v.sb.totalBytes();
        return new SpaceUsage(total, Math.max(0, total - v.sb.bytesUsed()));
    }

    @Override
    public void close() {
        // the devices belong to the caller
    }
}
