package org.jv2v.fs.ntfs;

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
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A read-only NTFS volume, seen the way ntfs-3g (as libguestfs mounts it) shows it:
 * <ul>
 * <li>names: Win32 and POSIX names are listed, DOS 8.3 aliases are not; lookups match exactly, or
 *     else case-insensitively by the volume's $UpCase; the metadata files ($MFT ...) are hidden
 *     from listings but reachable by path;</li>
 * <li>stat: mode 0777 for everything (ntfs-3g's default without permission mapping), uid/gid 0,
 *     times from $STANDARD_INFORMATION (atime = last access, mtime = last data change, ctime =
 *     last MFT change), directories report one link and the size of their index allocation;</li>
 * <li>symbolic links: Windows symlinks and junctions (reparse points), WSL symlinks and the
 *     Interix links ntfs-3g itself creates ("IntxLNK"); Interix FIFOs, sockets and devices too;</li>
 * <li>data: resident and non-resident, sparse, initialized size honoured, LZNT1-compressed files
 *     decompressed; EFS-encrypted files and files stored by a reparse driver (WOF "compact OS",
 *     deduplication) are refused with an error rather than read wrongly;</li>
 * <li>named data streams: not listed; readable as {@code "file:stream"}, and as xattrs
 *     {@code user.NAME} (ntfs-3g's default streams_interface=xattr) when at most 64 KiB.</li>
 * </ul>
 */
public final class NtfsFileSystem implements FileSystem {
    /** Linux follows at most 40 symbolic links in one path lookup (MAXSYMLINKS); so do we. */
    static final int MAX_SYMLINKS = 40;
    /** Linux xattr values are at most 64 KiB (XATTR_SIZE_MAX); bigger streams are not shown as xattrs. */
    static final int MAX_XATTR = 64 << 10;
    /** Interix symlinks hold a PATH_MAX UTF-16 target after their 8-byte magic. */
    static final int MAX_INTX = 8 + 2 * 4096;
    static final int MAX_VOLUME_NAME = 1024;
    /** Where ntfs-3g points junctions and absolute links whose target is not on this volume. */
    static final String FOREIGN_TARGET_DIR = "/.NTFS-3G/";

    /** Paths recently resolved (the volume never changes under a reader): a read loop resolves once. */
    static final int PATH_CACHE = 1024;

    private final Volume vol;
    private final Map<String, Long> resolved = new LruMap<>(PATH_CACHE);

    private NtfsFileSystem(Volume vol) {
        this.vol = vol;
    }

    public static NtfsFileSystem open(BlockDevice device) throws IOException {
        return new NtfsFileSystem(Volume.open(device));
    }

    /** The core, for tests in this package that locate on-disk structures. */
    Volume volume() {
        return vol;
    }

    /** The MFT record number of {@code path} (without following a final symlink). */
    long recordOf(String path) throws IOException {
        return resolve(path, false).number;
    }

    @Override
    public String type() {
        return "ntfs";
    }

    @Override
    public Optional<String> label() {
        try {
            Stream s = vol.inode(Ntfs.FILE_VOLUME).stream(Ntfs.AT_VOLUME_NAME, "");
            if (s == null) {
                return Optional.empty();
            }
            String label = new String(s.readAll(MAX_VOLUME_NAME), StandardCharsets.UTF_16LE);
            return label.isEmpty() ? Optional.empty() : Optional.of(label);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The volume serial number as blkid prints it: 16 upper-case hex digits. */
    @Override
    public Optional<String> uuid() {
        return Optional.of(String.format("%016X", vol.boot.serial()));
    }

    /** The NTFS version ("3.1" for everything since Windows XP). */
    public String version() throws IOException {
        byte[] vi = volumeInformation();
        return (vi[0x08] & 0xFF) + "." + (vi[0x09] & 0xFF);
    }

    public int clusterSize() {
        return vol.boot.clusterSize();
    }

    /** Dirty flag, hibernation and $LogFile state: whether Windows left the volume safe to write. */
    public NtfsVolumeState state() throws IOException {
        byte[] vi = volumeInformation();
        int flags = Ntfs.u16(Ntfs.le(vi), 0x0A);               // 0x0A volume flags
        boolean dirty = (flags & 0x0001) != 0;                  // VOLUME_IS_DIRTY
        LogFileState log = LogFileState.check(vol);
        return new NtfsVolumeState(dirty, hibernated(), log.unclean(), log.cachedMetadata());
    }

    private byte[] volumeInformation() throws IOException {
        Stream s = vol.inode(Ntfs.FILE_VOLUME).stream(Ntfs.AT_VOLUME_INFORMATION, "");
        if (s == null || s.dataSize < 0x0C) {
            throw Ntfs.bad(vol.name, "$Volume (MFT record 3) has no valid $VOLUME_INFORMATION");
        }
        return s.readAll(64);
    }

    /** ntfs-3g's test: /hiberfil.sys exists and is under 4096 bytes, or starts with "hibr" or "HIBR". */
    private boolean hibernated() throws IOException {
        Index.Entry e = index(vol.inode(Ntfs.FILE_ROOT)).lookup("hiberfil.sys");
        if (e == null) {
            return false;
        }
        Stream s = vol.inode(e.record()).stream(Ntfs.AT_DATA, "");
        if (s == null || s.dataSize < 4096) {
            return true;
        }
        ByteBuffer head = ByteBuffer.allocate(4);
        s.read(0, head);
        String magic = new String(head.array(), StandardCharsets.US_ASCII);
        return magic.equals("hibr") || magic.equals("HIBR");
    }

    @Override
    public FileStat stat(String path) throws IOException {
        Inode i = resolve(path, false);
        return stat(i);
    }

    private FileStat stat(Inode i) throws IOException {
        FileKind kind = kind(i);
        long size;
        long rdev = 0;
        switch (kind) {
            case DIRECTORY -> {
                Stream a = i.stream(Ntfs.AT_INDEX_ALLOCATION, Index.I30);
                size = a == null ? 0 : a.dataSize;
            }
            case SYMLINK -> size = symlinkTarget(i).getBytes(StandardCharsets.UTF_8).length;
            default -> {
                Stream d = i.stream(Ntfs.AT_DATA, "");
                size = d == null ? 0 : d.dataSize;
                if (kind == FileKind.CHAR_DEVICE || kind == FileKind.BLOCK_DEVICE) {
                    rdev = interixDevice(i);
                }
            }
        }
        StandardInformation si = i.si;
        long links = kind == FileKind.DIRECTORY ? 1 : i.base.linkCount();
        return new FileStat(i.number, kind, size, 0777, 0, 0, links, Ntfs.filetime(si.accessed()),
                Ntfs.filetime(si.modified()), Ntfs.filetime(si.mftChanged()), rdev);
    }

    /** The Windows file attribute flags (FILE_ATTRIBUTE_READONLY 0x1, HIDDEN 0x2, SYSTEM 0x4 ...). */
    public int windowsAttributes(String path) throws IOException {
        return resolve(path, false).fileAttributes();
    }

    /** Names of the alternate data streams of a file, readable as {@code path + ":" + name}. */
    public List<String> streams(String path) throws IOException {
        return resolve(path, false).namedStreams();
    }

    @Override
    public List<DirEntry> list(String dir) throws IOException {
        Inode d = resolve(dir, true);
        if (kind(d) != FileKind.DIRECTORY) {
            throw new NotDirectoryException(dir);
        }
        List<DirEntry> out = new ArrayList<>();
        boolean root = d.number == Ntfs.FILE_ROOT;
        index(d).walk(e -> {
            long rec = e.record();
            if (e.key().dosOnly() || rec == Ntfs.FILE_ROOT) {
                return true;                                    // 8.3 aliases; the root's "." entry
            }
            if (root && rec < Ntfs.FILE_FIRST_USER && e.key().name().startsWith("$")) {
                return true;                                    // metadata files, hidden as ntfs-3g does
            }
            out.add(new DirEntry(e.key().name(), rec, kind(vol.inode(rec))));
            return true;
        });
        return out;
    }

    @Override
    public int read(String file, ByteBuffer dst, long position) throws IOException {
        Inode i;
        String streamName = "";
        try {
            i = resolve(file, true);
        } catch (NoSuchFileException e) {
            int slash = file.lastIndexOf('/');
            int colon = file.indexOf(':', slash + 1);
            if (colon < 0) {
                throw e;
            }
            i = resolve(file.substring(0, colon), true);
            streamName = file.substring(colon + 1);
        }
        if (streamName.isEmpty()) {
            FileKind k = kind(i);
            if (k == FileKind.DIRECTORY) {
                throw new IOException(file + ": is a directory");
            }
            refuseForeignData(i, file);
        }
        Stream s = i.stream(Ntfs.AT_DATA, streamName);
        if (s == null) {
            if (!streamName.isEmpty()) {
                throw new NoSuchFileException(file, null, "no data stream \"" + streamName + "\"");
            }
            return dst.hasRemaining() ? -1 : 0;
        }
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        return s.read(position, dst);
    }

    /** Files whose bytes a reparse driver supplies: the unnamed $DATA is not their content. */
    private void refuseForeignData(Inode i, String file) throws IOException {
        Reparse r = reparse(i);
        if (r == null) {
            return;
        }
        if (r.tag() == Reparse.TAG_WOF) {
            throw Ntfs.bad(vol.name, file + ": compressed by the Windows Overlay Filter (\"compact OS\"), which jv2v"
                    + " cannot decompress");
        }
        if (r.tag() == Reparse.TAG_DEDUP) {
            throw Ntfs.bad(vol.name, file + ": stored by Windows data deduplication, which jv2v cannot read");
        }
    }

    @Override
    public String readlink(String link) throws IOException {
        Inode i = resolve(link, false);
        if (kind(i) != FileKind.SYMLINK) {
            throw new IOException(link + ": not a symbolic link");
        }
        return symlinkTarget(i);
    }

    @Override
    public Map<String, byte[]> xattrs(String path) throws IOException {
        Inode i = resolve(path, false);
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (String name : i.namedStreams()) {
            Stream s = i.stream(Ntfs.AT_DATA, name);
            if (s.dataSize <= MAX_XATTR && !s.encrypted()) {
                out.put("user." + name, s.readAll(MAX_XATTR));
            }
        }
        return out;
    }

    /**
     * The clusters $Bitmap marks in use, plus the bytes after the last whole cluster (the backup
     * boot sector lives in the volume's last sector, outside every cluster). When Windows did not
     * leave the volume consistent ({@link #state()}: hibernated, fast startup, unclean journal or
     * dirty), $Bitmap may lag behind what is really in use, so the whole device is reported.
     */
    @Override
    public List<ByteRange> usedRanges() throws IOException {
        if (state().writeRefusal().isPresent()) {
            return List.of(new ByteRange(0, vol.device.size()));
        }
        return bitmapRanges();
    }

    /** What $Bitmap says, whatever the volume's state. */
    List<ByteRange> bitmapRanges() throws IOException {
        List<ByteRange> out = new ArrayList<>();
        long cs = vol.boot.clusterSize();
        long clusters = vol.boot.clusterCount();
        long[] runStart = {-1};
        forEachBitmapByte((first, bits) -> {
            // Whole bytes that continue a run, or stay outside one, need no look at each bit.
            if (bits == 0xFF && runStart[0] >= 0 && first + 8 <= clusters || bits == 0 && runStart[0] < 0) {
                return;
            }
            for (int bit = 0; bit < 8 && first + bit < clusters; bit++) {
                long c = first + bit;
                boolean used = (bits & (1 << bit)) != 0;
                if (used && runStart[0] < 0) {
                    runStart[0] = c;
                } else if (!used && runStart[0] >= 0) {
                    out.add(new ByteRange(runStart[0] * cs, (c - runStart[0]) * cs));
                    runStart[0] = -1;
                }
            }
        }, true);
        if (runStart[0] >= 0) {
            out.add(new ByteRange(runStart[0] * cs, (clusters - runStart[0]) * cs));
        }
        long tail = clusters * cs;
        long tailEnd = Math.min(vol.device.size(), (vol.boot.totalSectors() + 1) * vol.boot.bytesPerSector());
        if (tailEnd > tail) {
            add(out, new ByteRange(tail, tailEnd - tail));
        }
        long last = vol.device.size() - vol.boot.bytesPerSector();
        if (last >= tailEnd) {
            add(out, new ByteRange(last, vol.boot.bytesPerSector()));
        }
        return out;
    }

    private static void add(List<ByteRange> out, ByteRange r) {
        if (!out.isEmpty() && out.getLast().end() >= r.offset()) {
            ByteRange prev = out.removeLast();
            out.add(new ByteRange(prev.offset(), Math.max(prev.end(), r.end()) - prev.offset()));
        } else {
            out.add(r);
        }
    }

    @Override
    public SpaceUsage space() throws IOException {
        long clusters = vol.boot.clusterCount();
        long[] used = {0};
        forEachBitmapByte((first, bits) -> {
            int valid = (int) Math.min(8, clusters - first);
            used[0] += Integer.bitCount(bits & ((1 << valid) - 1));
        }, false);
        long cs = vol.boot.clusterSize();
        return new SpaceUsage(clusters * cs, (clusters - used[0]) * cs);
    }

    private interface BitmapVisitor {
        void visit(long firstCluster, int bits);
    }

    /** Streams $Bitmap (one bit per cluster) a MiB at a time; it is 32 MiB for 1 TiB of 4 KiB clusters. */
    private void forEachBitmapByte(BitmapVisitor v, boolean everyByte) throws IOException {
        Stream bm = vol.inode(Ntfs.FILE_BITMAP).stream(Ntfs.AT_DATA, "");
        long clusters = vol.boot.clusterCount();
        long need = (clusters + 7) / 8;
        if (bm == null || bm.dataSize < need) {
            throw Ntfs.bad(vol.name, "$Bitmap (MFT record 6) holds " + (bm == null ? 0 : bm.dataSize)
                    + " bytes, fewer than the " + need + " the volume's " + clusters + " clusters need");
        }
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        for (long pos = 0; pos < need; pos += buf.capacity()) {
            buf.clear().limit((int) Math.min(buf.capacity(), need - pos));
            bm.read(pos, buf);
            byte[] a = buf.array();
            int n = buf.position();
            for (int k = 0; k < n; k++) {
                int bits = a[k] & 0xFF;
                if (!everyByte && bits == 0) {
                    continue;
                }
                v.visit((pos + k) * 8, bits);
            }
        }
    }

    @Override
    public void close() {
        // The device belongs to whoever opened it.
    }

    // ---- paths, kinds and links -------------------------------------------------------------

    private Index index(Inode dir) throws IOException {
        Index i = dir.index;
        if (i == null) {
            i = new Index(vol, dir);
            dir.index = i;
        }
        return i;
    }

    /** Resolves an absolute path, following symbolic links on the way (and at the end if asked). */
    private Inode resolve(String path, boolean followLast) throws IOException {
        String key = (followLast ? "F" : "L") + path;
        Long cached;
        synchronized (resolved) {
            cached = resolved.get(key);
        }
        if (cached != null) {
            return vol.inode(cached);
        }
        Inode i = walkPath(path, followLast);
        synchronized (resolved) {
            resolved.put(key, i.number);
        }
        return i;
    }

    private Inode walkPath(String path, boolean followLast) throws IOException {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("not an absolute path: " + path);
        }
        Deque<String> todo = new ArrayDeque<>();
        addComponents(todo, path, false);
        Deque<Inode> stack = new ArrayDeque<>();
        stack.push(vol.inode(Ntfs.FILE_ROOT));
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.pollFirst();
            if (c.equals("..")) {
                if (stack.size() > 1) {
                    stack.pop();
                }
                continue;
            }
            Inode dir = stack.peek();
            if (kind(dir) != FileKind.DIRECTORY) {
                throw new NotDirectoryException(path);
            }
            Index.Entry e = index(dir).lookup(c);
            if (e == null) {
                throw new NoSuchFileException(path);
            }
            Inode child = vol.inode(e.record());
            boolean last = todo.isEmpty();
            if ((!last || followLast) && kind(child) == FileKind.SYMLINK) {
                if (++links > MAX_SYMLINKS) {
                    throw new java.nio.file.FileSystemLoopException(path);
                }
                String target = symlinkTarget(child);
                if (target.startsWith("/")) {
                    while (stack.size() > 1) {
                        stack.pop();
                    }
                }
                addComponents(todo, target, true);
                continue;
            }
            stack.push(child);
        }
        return stack.peek();
    }

    private static void addComponents(Deque<String> todo, String path, boolean front) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (!p.isEmpty() && !p.equals(".")) {
                parts.add(p);
            }
        }
        if (front) {
            for (int k = parts.size() - 1; k >= 0; k--) {
                todo.addFirst(parts.get(k));
            }
        } else {
            todo.addAll(parts);
        }
    }

    private Reparse reparse(Inode i) throws IOException {
        if ((i.fileAttributes() & Ntfs.FILE_ATTR_REPARSE_POINT) == 0) {
            return null;
        }
        Stream s = i.stream(Ntfs.AT_REPARSE_POINT, "");
        if (s == null) {
            return null;
        }
        // A reparse point holds at most 16 KiB of data (MAXIMUM_REPARSE_DATA_BUFFER_SIZE).
        byte[] v = s.readAll((16 << 10) + 8);
        Attr a = i.find(Ntfs.AT_REPARSE_POINT, "").getFirst();
        return Reparse.read(v, vol.name, a.describe(), a.diskOffset());
    }

    /** What ntfs-3g would show this file as. */
    FileKind kind(Inode i) throws IOException {
        FileKind k = i.kind;
        if (k == null) {
            k = decideKind(i);
            i.kind = k;
        }
        return k;
    }

    private FileKind decideKind(Inode i) throws IOException {
        Reparse r = reparse(i);
        if (r != null) {
            switch (r.tag()) {
                case Reparse.TAG_SYMLINK, Reparse.TAG_MOUNT_POINT, Reparse.TAG_LX_SYMLINK -> {
                    return FileKind.SYMLINK;
                }
                case Reparse.TAG_AF_UNIX -> {
                    return FileKind.SOCKET;
                }
                case Reparse.TAG_LX_FIFO -> {
                    return FileKind.FIFO;
                }
                case Reparse.TAG_LX_CHR -> {
                    return FileKind.CHAR_DEVICE;
                }
                case Reparse.TAG_LX_BLK -> {
                    return FileKind.BLOCK_DEVICE;
                }
                default -> {
                    // Other drivers' reparse points (WOF, dedup, cloud files): an ordinary file or directory.
                }
            }
        }
        if (i.directory()) {
            return FileKind.DIRECTORY;
        }
        int fa = i.fileAttributes();
        if ((fa & Ntfs.FILE_ATTR_SYSTEM) != 0) {
            Stream d = i.stream(Ntfs.AT_DATA, "");
            if (d != null) {
                if ((fa & Ntfs.FILE_ATTR_HIDDEN) == 0 && d.dataSize == 0) {
                    return FileKind.FIFO;
                }
                if ((fa & Ntfs.FILE_ATTR_HIDDEN) == 0 && d.dataSize == 1) {
                    return FileKind.SOCKET;
                }
                if (d.dataSize > 8 && d.dataSize <= MAX_INTX && !d.encrypted()) {
                    byte[] head = new byte[8];
                    d.read(0, ByteBuffer.wrap(head));
                    String magic = new String(head, 0, 7, StandardCharsets.US_ASCII);
                    if (magic.equals("IntxLNK") && head[7] == 1) {
                        return FileKind.SYMLINK;
                    }
                    if (d.dataSize == 24 && head[7] == 0 && magic.equals("IntxBLK")) {
                        return FileKind.BLOCK_DEVICE;
                    }
                    if (d.dataSize == 24 && head[7] == 0 && magic.equals("IntxCHR")) {
                        return FileKind.CHAR_DEVICE;
                    }
                }
            }
        }
        return FileKind.REGULAR;
    }

    private long interixDevice(Inode i) throws IOException {
        Stream d = i.stream(Ntfs.AT_DATA, "");
        if (d == null || d.dataSize != 24) {
            return 0;                                           // a WSL device keeps its numbers in an EA
        }
        ByteBuffer b = Ntfs.le(ByteBuffer.allocate(24));
        d.read(0, b);
        long major = b.getLong(8);
        long minor = b.getLong(16);
        // glibc's makedev()
        return ((major & 0xFFFFF000L) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFFFF00L) << 12) | (minor & 0xFF);
    }

    /**
     * The target of a symbolic link as ntfs-3g shows it, with the volume mounted at "/": relative
     * Windows links with '/' separators; junctions and absolute links to a path found on this
     * volume as that path ("/Users/Public", in the case the volume stores); others under
     * "/.NTFS-3G/" ("/.NTFS-3G/D:/data"), where ntfs-3g lets the user place the foreign volumes.
     */
    private String symlinkTarget(Inode i) throws IOException {
        Reparse r = reparse(i);
        String what = "MFT record " + i.number + " reparse point";
        if (r != null) {
            if (r.tag() == Reparse.TAG_LX_SYMLINK) {
                return r.wslTarget(vol.name, what);
            }
            String sub = r.substituteName(vol.name, what);
            if (r.tag() == Reparse.TAG_SYMLINK && r.relative() && !sub.startsWith("\\") && !isDriveAbsolute(sub)) {
                return relativeTarget(i, sub);
            }
            return windowsAbsoluteTarget(sub, what);
        }
        Stream d = i.stream(Ntfs.AT_DATA, "");
        byte[] v = d.readAll(MAX_INTX);
        return Ntfs.utf16(Ntfs.le(v), 8, (v.length - 8) / 2);
    }

    private static boolean isDriveAbsolute(String s) {
        return s.length() >= 2 && s.charAt(1) == ':';
    }

    private String windowsAbsoluteTarget(String sub, String what) throws IOException {
        String path;
        String drive = null;
        if (sub.startsWith("\\??\\") && sub.length() >= 7 && sub.charAt(5) == ':' && sub.charAt(6) == '\\') {
            drive = sub.substring(4, 6);
            path = sub.substring(7);
        } else if (sub.startsWith("\\??\\Volume{") || sub.startsWith("\\\\?\\Volume{")) {
            String v = sub.substring(4);
            return FOREIGN_TARGET_DIR + (v.endsWith("\\") ? v.substring(0, v.length() - 1) : v).replace('\\', '/');
        } else if (isDriveAbsolute(sub) && sub.length() >= 3 && sub.charAt(2) == '\\') {
            drive = sub.substring(0, 2);
            path = sub.substring(3);
        } else if (sub.startsWith("\\") && !sub.startsWith("\\\\")) {
            path = sub.substring(1);
        } else {
            throw new IOException(vol.name + ": " + what + ": target \"" + sub + "\" is not a path jv2v can follow");
        }
        String onVolume = findCaseInsensitive(path);
        if (onVolume != null) {
            return onVolume;
        }
        String prefix = drive == null ? "" : Character.toUpperCase(drive.charAt(0)) + ":/";
        return FOREIGN_TARGET_DIR + prefix + path.replace('\\', '/');
    }

    /**
     * A relative Windows link with '/' separators and, like ntfs-3g, each component that exists
     * spelled as the volume stores it; from the first missing component or reparse point on, the
     * rest is kept as written.
     */
    private String relativeTarget(Inode link, String sub) throws IOException {
        Inode cur = parentOf(link);
        StringBuilder out = new StringBuilder();
        boolean asWritten = false;
        for (String c : sub.split("\\\\", -1)) {
            if (!out.isEmpty()) {
                out.append('/');
            }
            if (asWritten || c.isEmpty() || c.equals(".")) {
                out.append(c);
            } else if (c.equals("..")) {
                out.append(c);
                cur = parentOf(cur);
            } else {
                Index.Entry e = cur.directory() ? index(cur).lookup(c) : null;
                if (e == null) {
                    asWritten = true;
                    out.append(c);
                    continue;
                }
                Inode next = vol.inode(e.record());
                out.append(storedName(e, cur, next));
                asWritten = (next.fileAttributes() & Ntfs.FILE_ATTR_REPARSE_POINT) != 0;
                cur = next;
            }
        }
        return out.toString();
    }

    /** The directory holding the (first Win32 or POSIX) name of {@code i}; the root's parent is itself. */
    private Inode parentOf(Inode i) throws IOException {
        for (FileName fn : i.fileNames()) {
            if (!fn.dosOnly()) {
                return vol.inode(fn.parentRef() & Volume.MREF_MASK);
            }
        }
        return vol.inode(Ntfs.FILE_ROOT);
    }

    /** The long name of the file an index entry names: a DOS alias is replaced by its Win32 name. */
    private static String storedName(Index.Entry e, Inode dir, Inode file) {
        if (e.key().dosOnly()) {
            for (FileName fn : file.fileNames()) {
                if (!fn.dosOnly() && (fn.parentRef() & Volume.MREF_MASK) == dir.number) {
                    return fn.name();
                }
            }
        }
        return e.key().name();
    }

    /** "/" plus the path's components as this volume spells them, or null when it is not here. */
    private String findCaseInsensitive(String windowsPath) throws IOException {
        Inode cur = vol.inode(Ntfs.FILE_ROOT);
        StringBuilder out = new StringBuilder();
        for (String c : windowsPath.split("\\\\")) {
            if (c.isEmpty()) {
                continue;
            }
            if (!cur.directory()) {
                return null;
            }
            Index.Entry e = index(cur).lookup(c);
            if (e == null) {
                return null;
            }
            Inode next = vol.inode(e.record());
            out.append('/').append(storedName(e, cur, next));
            cur = next;
        }
        return out.isEmpty() ? "/" : out.toString();
    }
}
