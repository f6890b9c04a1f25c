package org.jv2v.fs.xfs;

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
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A read-only XFS filesystem (v4 and v5) on a block device.
 *
 * <p>{@link #read}, {@link #readAll} and {@link #list} follow a symbolic link in the last path
 * component, as open(2) and opendir(3) do; {@link #stat}, {@link #readlink} and {@link #xattrs} do not (lstat semantics).
 * Names are bytes on disk and are decoded as UTF-8. POSIX ACLs appear as XFS stores them, as
 * "trusted.SGI_ACL_FILE" and "trusted.SGI_ACL_DEFAULT".
 *
 * <p>The map of used blocks is only as good as the on-disk free space trees: when the log needs
 * replay ({@link #logState()}) or the filesystem is marked as needing repair, {@link #usedRanges()}
 * reports the whole filesystem as used. Callers converting a guest should refuse such a filesystem.
 */
public final class XfsFileSystem implements FileSystem {
    /** Linux's limit on symbolic links followed while resolving one path. */
    static final int MAX_SYMLINKS = 40;
    /** XFS_SYMLINK_MAXLEN: the longest target XFS stores. */
    static final int MAX_SYMLINK = 1024;
    /** Parsed inodes kept in memory. */
    static final int INODE_CACHE = 4096;
    /** Directory entries kept in memory for lookups, over all cached directories. */
    static final int DIR_CACHE_ENTRIES = 500_000;
    /** Longest path accepted (Linux PATH_MAX). */
    static final int MAX_PATH = 4096;

    private final Volume v;
    private final Superblock sb;
    private final Map<Long, Inode> inodes = new LruMap<>(INODE_CACHE);
    private final LinkedHashMap<Long, Map<String, Directories.Entry>> dirs = new LinkedHashMap<>(64, 0.75f, true);
    private long cachedEntries;
    private XfsLogState logState;
    private List<FreeSpace.AgFree> freeSpace;

    private XfsFileSystem(Volume v) {
        this.v = v;
        this.sb = v.sb;
    }

    /**
     * True when the device starts with a plausible XFS superblock, even one with features this
     * reader does not know (then {@link #open} says which).
     */
    public static boolean probe(BlockDevice device) throws IOException {
        if (device.size() < 512) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(512);
        device.read(b, 0);
        return b.getInt(0) == Superblock.MAGIC && Superblock.read(b).geometryProblem() == null;
    }

    /** Opens the filesystem read-only, checking the superblock, its checksum and the root directory. */
    public static XfsFileSystem open(BlockDevice device) throws IOException {
        if (device.size() < 512) {
            throw BadInputException.of(device.describe() + ": too small for an XFS superblock (" + device.size() + " bytes)");
        }
        ByteBuffer head = ByteBuffer.allocate(512);
        device.read(head, 0);
        Superblock sb = Superblock.read(head);
        String problem = sb.problem();
        if (problem != null) {
            throw BadInputException.of(device.describe() + ": XFS superblock at offset 0x0: " + problem);
        }
        Volume v = new Volume(device, sb);
        if (sb.isV5() && sb.sectSize() <= device.size()) {
            ByteBuffer sector = ByteBuffer.allocate(sb.sectSize());
            device.read(sector, 0);
            v.checkCrc(sector, sb.sectSize(), Superblock.CRC_OFFSET, "superblock", 0);
        }
        if (v.fsBytes > device.size()) {
            throw v.corrupt("superblock", 0x08, "the filesystem needs " + v.fsBytes + " bytes but the device has "
                    + device.size() + ": truncated image?");
        }
        XfsFileSystem fs = new XfsFileSystem(v);
        Inode root = fs.inode(sb.rootIno(), "superblock root inode", 0x38);
        if (root.kind() != FileKind.DIRECTORY) {
            throw v.corrupt("root inode " + sb.rootIno(), root.offset(), "is not a directory");
        }
        return fs;
    }

    @Override
    public String type() {
        return "xfs";
    }

    @Override
    public Optional<String> label() {
        String l = sb.label();
        return l.isEmpty() ? Optional.empty() : Optional.of(l);
    }

    /** The UUID blkid reports: sb_uuid (v5 metadata keeps the original one when it was changed). */
    @Override
    public Optional<String> uuid() {
        return Optional.of(sb.uuid().toString());
    }

    /** 4 or 5. */
    public int version() {
        return sb.isV5() ? 5 : 4;
    }

    public int blockSize() {
        return v.blockSize;
    }

    /** The journal's state; a converter must refuse a filesystem whose log is not clean. */
    public synchronized XfsLogState logState() throws IOException {
        if (logState == null) {
            logState = Journal.state(v);
        }
        return logState;
    }

    /** True when xfs_repair marked the filesystem as needing repair (the kernel then refuses it). */
    public boolean needsRepair() {
        return sb.needsRepair();
    }

    @Override
    public FileStat stat(String path) throws IOException {
        Inode i = resolve(path, false);
        return new FileStat(i.ino(), i.kind(), i.size(), i.mode() & 07777, i.uid(), i.gid(), i.nlink(),
                i.atime(), i.mtime(), i.ctime(), i.rdev());
    }

    @Override
    public List<DirEntry> list(String dir) throws IOException {
        Inode d = resolve(dir, true);
        if (d.kind() != FileKind.DIRECTORY) {
            throw new NotDirectoryException(dir);
        }
        List<DirEntry> out = new ArrayList<>();
        Directories.forEach(v, d, e -> {
            FileKind kind = e.kind();
            if (kind == null) {
                kind = inode(e.ino(), entryName(e, d), d.offset()).kind();
            }
            out.add(new DirEntry(new String(e.name(), StandardCharsets.UTF_8), e.ino(), kind));
            return true;
        });
        return out;
    }

    @Override
    public int read(String file, ByteBuffer dst, long position) throws IOException {
        Inode i = resolve(file, true);
        if (i.kind() != FileKind.REGULAR) {
            throw new FileSystemException(file, null, "not a regular file");
        }
        return read(i, dst, position);
    }

    /** Reads file data of an inode: holes and unwritten extents read as zeros. */
    int read(Inode i, ByteBuffer dst, long position) throws IOException {
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        if (position >= i.size()) {
            return -1;
        }
        if (i.isRealtime()) {
            throw v.corrupt(i.describe(), i.offset(), "data on the realtime device is not supported");
        }
        if (i.format() != Inode.FMT_EXTENTS && i.format() != Inode.FMT_BTREE) {
            throw v.corrupt(i.describe(), i.offset(), "regular file with data fork format " + i.format());
        }
        Fork fork = Fork.data(v, i);
        long end = position + Math.min(dst.remaining(), i.size() - position);
        int total = (int) (end - position);
        long pos = position;
        int bs = v.blockSize;
        while (pos < end) {
            long fileBlock = pos / bs;
            BmapExtent e = fork.find(fileBlock);
            long chunkEnd;
            if (e == null || e.fileBlock() > fileBlock) {
                chunkEnd = e == null ? end : Math.min(end, e.fileBlock() * bs);
                zero(dst, (int) (chunkEnd - pos));
            } else {
                chunkEnd = Math.min(end, e.endBlock() * bs);
                int n = (int) (chunkEnd - pos);
                if (e.unwritten()) {
                    zero(dst, n);
                } else {
                    long dev = v.fsbOffset(e.fsBlock(), "data fork of " + i.describe(), i.offset())
                            + (pos - e.fileBlock() * bs);
                    ByteBuffer slice = dst.duplicate();
                    slice.limit(slice.position() + n);
                    v.readInto(slice, dev, "data of " + i.describe());
                    dst.position(dst.position() + n);
                }
            }
            pos = chunkEnd;
        }
        return total;
    }

    private static void zero(ByteBuffer dst, int n) {
        if (dst.hasArray()) {
            int p = dst.arrayOffset() + dst.position();
            Arrays.fill(dst.array(), p, p + n, (byte) 0);
            dst.position(dst.position() + n);
        } else {
            for (int k = 0; k < n; k++) {
                dst.put((byte) 0);
            }
        }
    }

    /** Reads a whole regular file, following a symbolic link at the end of the path as {@link #read} does. */
    @Override
    public byte[] readAll(String file, int maxBytes) throws IOException {
        Inode i = resolve(file, true);
        if (i.kind() != FileKind.REGULAR) {
            throw new FileSystemException(file, null, "not a regular file");
        }
        if (i.size() > maxBytes) {
            throw new FileSystemException(file, null, i.size() + " bytes, more than the " + maxBytes + " allowed");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) i.size());
        while (buf.hasRemaining() && read(i, buf, buf.position()) > 0) {
            // keep reading
        }
        return buf.array();
    }

    @Override
    public String readlink(String link) throws IOException {
        Inode i = resolve(link, false);
        if (i.kind() != FileKind.SYMLINK) {
            throw new NotLinkException(link);
        }
        return new String(symlinkTarget(i), StandardCharsets.UTF_8);
    }

    private byte[] symlinkTarget(Inode i) throws IOException {
        String field = "symbolic link " + i.describe();
        if (i.size() <= 0 || i.size() > MAX_SYMLINK) {
            throw v.corrupt(field, i.offset(), "target length " + i.size() + " outside 1.." + MAX_SYMLINK);
        }
        int len = (int) i.size();
        byte[] out = new byte[len];
        if (i.format() == Inode.FMT_LOCAL) {
            if (len > i.dataFork().capacity()) {
                throw v.corrupt(field, i.offset(), "target of " + len + " bytes does not fit the data fork");
            }
            i.dataFork().get(0, out);
            return out;
        }
        if (i.format() != Inode.FMT_EXTENTS && i.format() != Inode.FMT_BTREE) {
            throw v.corrupt(field, i.offset(), "data fork format " + i.format());
        }
        // v5: each extent starts with a header (magic, offset, bytes, crc, uuid, owner, blkno)
        Fork fork = Fork.data(v, i);
        int hdr = sb.isV5() ? 0x38 : 0;
        long needed = (len + (v.blockSize - hdr) - 1) / (v.blockSize - hdr);
        int[] done = {0};
        long[] nextBlock = {0};
        fork.forEach(0, needed, e -> {
            if (done[0] >= len) {
                return;
            }
            if (e.fileBlock() != nextBlock[0] || e.endBlock() > needed || e.unwritten()) {
                throw v.corrupt(field, i.offset(), "target extent [" + e.fileBlock() + ", +" + e.blockCount()
                        + ") does not continue the target blocks [0, " + needed + ")");
            }
            nextBlock[0] = e.endBlock();
            long off = v.fsbOffset(e.fsBlock(), field, i.offset());
            int bytes = (int) (e.blockCount() * v.blockSize);
            ByteBuffer b = v.read(off, bytes, field);
            int n = Math.min(bytes - hdr, len - done[0]);
            if (hdr > 0) {
                if (b.getInt(0) != 0x58534c4d) { // "XSLM"
                    throw v.corrupt(field, off, "bad magic 0x" + Integer.toHexString(b.getInt(0)));
                }
                v.checkCrc(b, bytes, 0x0c, field, off);
                v.checkSelf(b, 0x10, 0x28, off, 0x20, 8, i.ino(), field);
                if (Superblock.u32(b, 0x04) != done[0] || Superblock.u32(b, 0x08) != n) {
                    throw v.corrupt(field, off, "holds bytes [" + Superblock.u32(b, 0x04) + ", +"
                            + Superblock.u32(b, 0x08) + ") of the target, expected [" + done[0] + ", +" + n + ")");
                }
            }
            b.get(hdr, out, done[0], n);
            done[0] += n;
        });
        if (done[0] != len) {
            throw v.corrupt(field, i.offset(), "target blocks hold " + done[0] + " of " + len + " bytes");
        }
        return out;
    }

    @Override
    public Map<String, byte[]> xattrs(String path) throws IOException {
        return Attributes.read(v, resolve(path, false));
    }

    @Override
    public List<ByteRange> usedRanges() throws IOException {
        if (!logState().clean() || sb.needsRepair()) {
            return List.of(new ByteRange(0, v.fsBytes));
        }
        List<ByteRange> used = FreeSpace.used(v, freeSpace());
        if (sb.logStart() != 0) {
            long logOff = v.fsbOffset(sb.logStart(), "superblock log start", 0x30);
            long logEnd = logOff + sb.logBlocks() * sb.blockSize();
            boolean covered = used.stream().anyMatch(r -> r.offset() <= logOff && r.end() >= logEnd);
            if (!covered) {
                throw v.corrupt("free space B+trees", logOff, "the internal log overlaps space marked free");
            }
        }
        return used;
    }

    @Override
    public SpaceUsage space() throws IOException {
        long free = 0;
        for (FreeSpace.AgFree ag : freeSpace()) {
            free += ag.agf().freeBlocks() + ag.agf().flCount() + ag.agf().btreeBlocks();
        }
        long total = sb.dataBlocks() - (sb.logStart() != 0 ? sb.logBlocks() : 0);
        return new SpaceUsage(total * sb.blockSize(), free * sb.blockSize());
    }

    private synchronized List<FreeSpace.AgFree> freeSpace() throws IOException {
        if (freeSpace == null) {
            List<FreeSpace.AgFree> list = new ArrayList<>();
            for (long ag = 0; ag < sb.agCount(); ag++) {
                list.add(FreeSpace.scan(v, ag));
            }
            freeSpace = List.copyOf(list);
        }
        return freeSpace;
    }

    /** Forgets every cached inode, directory and free space map (after an edit changed them). */
    synchronized void invalidate() {
        v.invalidate();
        synchronized (inodes) {
            inodes.clear();
        }
        synchronized (dirs) {
            dirs.clear();
            cachedEntries = 0;
        }
        freeSpace = null;
    }

    Volume volume() {
        return v;
    }

    /** The inode a path names (lstat semantics unless {@code followLast}). */
    Inode resolveInode(String path, boolean followLast) throws IOException {
        return resolve(path, followLast);
    }

    /** The entry {@code name} of directory {@code dir}, or null. */
    Directories.Entry entry(Inode dir, String name) throws IOException {
        return lookup(dir, name);
    }

    @Override
    public void close() {
        // the device belongs to whoever opened it
    }

    // ---- inodes and paths ----

    Inode inode(long ino) throws IOException {
        return inode(ino, "inode number", 0);
    }

    private Inode inode(long ino, String referrer, long referrerOffset) throws IOException {
        synchronized (inodes) {
            Inode i = inodes.get(ino);
            if (i != null) {
                return i;
            }
        }
        Inode i = Inode.read(v, ino, referrer, referrerOffset);
        synchronized (inodes) {
            inodes.put(ino, i);
        }
        return i;
    }

    private Inode resolve(String path, boolean followLast) throws IOException {
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("not an absolute path: " + path);
        }
        if (path.length() > MAX_PATH) {
            throw new FileSystemException(path, null, "path longer than " + MAX_PATH);
        }
        Deque<String> todo = new ArrayDeque<>(components(path));
        Inode root = inode(sb.rootIno(), "superblock root inode", 0x38);
        Deque<Inode> stack = new ArrayDeque<>();
        stack.push(root);
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.pollFirst();
            if (c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (stack.size() > 1) {
                    stack.pop();
                }
                continue;
            }
            Inode dir = stack.peek();
            if (dir.kind() != FileKind.DIRECTORY) {
                throw new NotDirectoryException(path);
            }
            Directories.Entry e = lookup(dir, c);
            if (e == null) {
                throw new NoSuchFileException(path);
            }
            Inode child = inode(e.ino(), entryName(e, dir), dir.offset());
            if (child.kind() == FileKind.SYMLINK && (followLast || !todo.isEmpty())) {
                if (++links > MAX_SYMLINKS) {
                    throw new FileSystemException(path, null, "too many levels of symbolic links");
                }
                String target = new String(symlinkTarget(child), StandardCharsets.UTF_8);
                List<String> parts = components(target);
                for (int k = parts.size() - 1; k >= 0; k--) {
                    todo.addFirst(parts.get(k));
                }
                if (target.startsWith("/")) {
                    stack.clear();
                    stack.push(root);
                }
                continue;
            }
            stack.push(child);
        }
        return stack.peek();
    }

    private static String entryName(Directories.Entry e, Inode dir) {
        return "entry \"" + new String(e.name(), StandardCharsets.UTF_8) + "\" of directory " + dir.describe();
    }

    private static List<String> components(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    /** Finds a name in a directory; block directories are read once and kept for further lookups. */
    private Directories.Entry lookup(Inode dir, String name) throws IOException {
        byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
        if (dir.format() == Inode.FMT_LOCAL) {
            Directories.Entry[] found = {null};
            Directories.forEach(v, dir, e -> {
                if (Arrays.equals(e.name(), wanted)) {
                    found[0] = e;
                    return false;
                }
                return true;
            });
            return found[0];
        }
        synchronized (dirs) {
            Map<String, Directories.Entry> m = dirs.get(dir.ino());
            if (m != null) {
                return m.get(name);
            }
        }
        Map<String, Directories.Entry> m = new HashMap<>();
        Directories.Entry[] found = {null};
        Directories.forEach(v, dir, e -> {
            if (m.size() < DIR_CACHE_ENTRIES) {
                m.put(new String(e.name(), StandardCharsets.UTF_8), e);
            }
            if (found[0] == null && Arrays.equals(e.name(), wanted)) {
                found[0] = e;
            }
            return true;
        });
        if (m.size() < DIR_CACHE_ENTRIES) {
            synchronized (dirs) {
                dirs.put(dir.ino(), m);
                cachedEntries += m.size();
                var it = dirs.entrySet().iterator();
                while (cachedEntries > DIR_CACHE_ENTRIES && it.hasNext()) {
                    var eldest = it.next();
                    if (eldest.getKey() == dir.ino()) {
                        continue;
                    }
                    cachedEntries -= eldest.getValue().size();
                    it.remove();
                }
            }
        }
        return found[0];
    }
}
