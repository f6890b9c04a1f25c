package org.jv2v.fs.fat;

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
import java.nio.ByteOrder;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongUnaryOperator;

/**
 * A FAT12, FAT16 or FAT32 filesystem, read-only.
 *
 * <p>FAT has no owners, permissions or inode numbers; this reader presents what Linux's vfat
 * driver shows with its defaults when root mounts it (uid=0, gid=0, umask 022, no showexec):
 * directories 0755, files 0755, files with the read-only attribute 0555. The inode number is the
 * device offset of the file's 32-byte directory entry divided by 32 (the root directory is 1), so
 * it is stable and unique. Times are FAT's local times read in a zone ({@link ZoneOffset#UTC}
 * unless {@link #open(BlockDevice, ZoneId)} says otherwise; Linux uses its kernel time zone, which
 * is UTC in most guests and in the libguestfs appliance). ctime is the modification time, as on
 * Linux; the creation time, with its 10 ms field, is in {@link #entry(String)}.
 *
 * <p>Names: long (VFAT) names where a valid set precedes the short entry, else the 8.3 name with
 * the NT lower-case bits applied. Lookups accept the long or the short name, ignoring case, as
 * Linux's vfat does.
 */
public final class FatFileSystem implements FileSystem {
    /** FAT's directory limit: 65536 entries of 32 bytes. */
    static final long MAX_DIR_BYTES = 65536L * DirParser.ENTRY;
    /** Directories whose entries are kept for lookups. */
    private static final int CACHE_DIRS = 64;
    /** Files whose cluster chains are kept for reads. */
    private static final int CACHE_CHAINS = 16;
    private static final int ROOT_INODE = 1;
    private static final int MODE_DIR = 0755;
    private static final int MODE_FILE = 0755;
    private static final int MODE_READ_ONLY_FILE = 0555;

    private final BlockDevice dev;
    private final BootSector boot;
    private final Geometry g;
    private final FatTable fat;
    private final ZoneId zone;
    private final FatDirEntry rootEntry;
    private final Map<Long, List<FatDirEntry>> dirCache = new LruMap<>(CACHE_DIRS);
    private final Map<Long, Chain> chainCache = new LruMap<>(CACHE_CHAINS);
    private final Optional<String> label;
    private volatile Long freeClusters;

    /** A file's clusters as runs, with the file offset where each run starts. */
    private record Chain(List<FatTable.Run> runs, long[] startByte) {}

    private FatFileSystem(BlockDevice dev, BootSector boot, Geometry g, ZoneId zone) throws IOException {
        this.dev = dev;
        this.boot = boot;
        this.g = g;
        this.zone = zone;
        this.fat = new FatTable(dev, g);
        LocalDateTime epoch = LocalDateTime.ofEpochSecond(0, 0, ZoneOffset.UTC);
        this.rootEntry = new FatDirEntry("/", "", FatDirEntry.DIRECTORY, g.rootCluster(), 0, null, epoch, null, 0);
        this.label = readLabel();
    }

    /** Opens with FAT's local times read as UTC. */
    public static FatFileSystem open(BlockDevice dev) throws IOException {
        return open(dev, ZoneOffset.UTC);
    }

    /** Opens, reading FAT's local times in {@code zone} (the guest's time zone, when known). */
    public static FatFileSystem open(BlockDevice dev, ZoneId zone) throws IOException {
        if (dev.size() < BootSector.SIZE) {
            throw BadInputException.of(dev.describe() + ": " + dev.size() + " bytes is too small for a FAT boot sector");
        }
        ByteBuffer b = ByteBuffer.allocate(BootSector.SIZE);
        dev.read(b, 0);
        BootSector boot = BootSector.read(b.flip());
        Geometry g = Geometry.of(boot, dev.size(), dev.describe());
        return new FatFileSystem(dev, boot, g, zone);
    }

    @Override
    public String type() {
        return "vfat";
    }

    public FatType fatType() {
        return g.type();
    }

    public int clusterSize() {
        return g.clusterSize();
    }

    public long clusterCount() {
        return g.clusterCount();
    }

    /**
     * The label as blkid reports it: the root directory's volume-label entry, else the boot
     * sector's, trailing spaces removed; "NO NAME" means none.
     */
    @Override
    public Optional<String> label() {
        return label;
    }

    private Optional<String> readLabel() throws IOException {
        byte[] root = dirBytes(rootEntry).data();
        String fromDir = DirParser.volumeLabel(root, root.length);
        fromDir = fromDir == null ? null : DirParser.rtrim(fromDir);
        if (fromDir != null && !fromDir.equals("NO NAME")) {
            return Optional.of(fromDir);
        }
        if (boot.bootSignature() == 0x29) {
            String l = DirParser.rtrim(new String(boot.volumeLabel(), DirParser.OEM));
            if (!l.isEmpty() && !l.equals("NO NAME")) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    /** The volume serial number as blkid prints it ("1A2B-3C4D"), when the boot sector has one. */
    @Override
    public Optional<String> uuid() {
        if (!boot.hasExtendedFields()) {
            return Optional.empty();
        }
        long id = boot.volumeId();
        return Optional.of(String.format("%04X-%04X", id >>> 16, id & 0xFFFF));
    }

    /**
     * True when the volume was not cleanly unmounted: FAT[1]'s clean-shutdown bit (FAT16 bit 15,
     * FAT32 bit 27) is clear, as Windows leaves it while mounted, or the boot sector's state byte
     * (0x25 / 0x41) has bit 0 set, as Linux leaves it. FAT12 has only the latter.
     */
    public boolean isDirty() throws IOException {
        return (boot.state() & 1) != 0 || !cleanShutdownBit();
    }

    /** FAT[1]'s clean-shutdown bit (always true on FAT12, which has none). */
    public boolean cleanShutdownBit() throws IOException {
        long v = fat.entry(1);
        return switch (g.type()) {
            case FAT12 -> true;
            case FAT16 -> (v & 0x8000) != 0;
            case FAT32 -> (v & 0x0800_0000L) != 0;
        };
    }

    /** FAT[1]'s hard-error bit is clear: a disk I/O error was seen while mounted (never on FAT12). */
    public boolean hardErrorReported() throws IOException {
        long v = fat.entry(1);
        return switch (g.type()) {
            case FAT12 -> false;
            case FAT16 -> (v & 0x4000) == 0;
            case FAT32 -> (v & 0x0400_0000L) == 0;
        };
    }

    /**
     * The free-cluster count that FAT32's FSInfo sector claims, when it has a valid one (a hint
     * only: {@link #space()} counts the FAT itself).
     */
    public OptionalLong fsInfoFreeClusters() throws IOException {
        if (g.type() != FatType.FAT32 || boot.fsInfoSector() == 0 || boot.fsInfoSector() == 0xFFFF
                || boot.fsInfoSector() >= boot.reservedSectors()) {
            return OptionalLong.empty();
        }
        ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        dev.read(b, (long) boot.fsInfoSector() * g.sectorSize());
        if (b.getInt(0x000) != 0x41615252 || b.getInt(0x1E4) != 0x61417272 || b.getInt(0x1FC) != 0xAA550000) {
            return OptionalLong.empty(); // FSI_LeadSig, FSI_StrucSig, FSI_TrailSig
        }
        long free = b.getInt(0x1E8) & 0xFFFF_FFFFL; // FSI_Free_Count
        return free == 0xFFFF_FFFFL || free > g.clusterCount() ? OptionalLong.empty() : OptionalLong.of(free);
    }

    /** The directory entry of {@code path} (the root has a synthetic one). */
    public FatDirEntry entry(String path) throws IOException {
        return resolve(path);
    }

    @Override
    public FileStat stat(String path) throws IOException {
        FatDirEntry e = resolve(path);
        boolean root = e == rootEntry;
        Instant mtime = root ? Instant.EPOCH : toInstant(e.modified());
        Instant atime = root || e.accessed() == null ? mtime : e.accessed().atStartOfDay(zone).toInstant();
        if (e.isDirectory()) {
            List<FatDirEntry> children = readDir(e);
            long subdirs = children.stream().filter(FatDirEntry::isDirectory).count();
            long size = root && g.type() != FatType.FAT32 ? g.rootDirBytes() : dirClusters(e) * g.clusterSize();
            return new FileStat(inode(e), FileKind.DIRECTORY, size, MODE_DIR, 0, 0, subdirs + 2, atime, mtime,
                    mtime, 0);
        }
        int mode = e.isReadOnly() ? MODE_READ_ONLY_FILE : MODE_FILE;
        return new FileStat(inode(e), FileKind.REGULAR, e.size(), mode, 0, 0, 1, atime, mtime, mtime, 0);
    }

    private Instant toInstant(LocalDateTime t) {
        return t.atZone(zone).toInstant();
    }

    private long inode(FatDirEntry e) {
        return e == rootEntry ? ROOT_INODE : e.entryOffset() / DirParser.ENTRY;
    }

    @Override
    public List<DirEntry> list(String dir) throws IOException {
        FatDirEntry d = resolve(dir);
        if (!d.isDirectory()) {
            throw new NotDirectoryException(dir);
        }
        List<DirEntry> out = new ArrayList<>();
        for (FatDirEntry e : readDir(d)) {
            out.add(new DirEntry(e.name(), inode(e), e.isDirectory() ? FileKind.DIRECTORY : FileKind.REGULAR));
        }
        return out;
    }

    /** The entries of a directory with everything FAT records about them. */
    public List<FatDirEntry> entries(String dir) throws IOException {
        FatDirEntry d = resolve(dir);
        if (!d.isDirectory()) {
            throw new NotDirectoryException(dir);
        }
        return readDir(d);
    }

    @Override
    public int read(String file, ByteBuffer dst, long position) throws IOException {
        FatDirEntry e = resolve(file);
        if (e.isDirectory()) {
            throw new IOException(file + ": is a directory");
        }
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        if (position >= e.size()) {
            return -1;
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        Chain chain = fileChain(e, file);
        int done = 0;
        long pos = position;
        int cs = g.clusterSize();
        while (dst.hasRemaining() && pos < e.size()) {
            int i = runIndex(chain, pos);
            FatTable.Run r = chain.runs().get(i);
            long inRun = pos - chain.startByte()[i];
            long runBytes = r.count() * cs;
            int n = (int) Math.min(dst.remaining(), Math.min(runBytes - inRun, e.size() - pos));
            ByteBuffer slice = dst.slice(dst.position(), n);
            dev.read(slice, g.clusterOffset(r.first()) + inRun);
            dst.position(dst.position() + n);
            done += n;
            pos += n;
        }
        return done;
    }

    private static int runIndex(Chain c, long pos) {
        int lo = 0;
        int hi = c.startByte().length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (c.startByte()[mid] <= pos) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private Chain fileChain(FatDirEntry e, String path) throws IOException {
        synchronized (chainCache) {
            Chain c = chainCache.get(e.entryOffset());
            if (c != null) {
                return c;
            }
        }
        long first = firstCluster(e);
        if (first == 0) {
            throw BadInputException.of(dev.describe() + ": directory entry of " + path + " at offset 0x"
                    + Long.toHexString(e.entryOffset()) + ": " + e.size() + " bytes but no first cluster");
        }
        long needed = (e.size() + g.clusterSize() - 1) / g.clusterSize();
        List<FatTable.Run> runs = fat.chain(first, needed, true, path);
        long[] starts = new long[runs.size()];
        long at = 0;
        for (int i = 0; i < runs.size(); i++) {
            starts[i] = at;
            at += runs.get(i).count() * g.clusterSize();
        }
        Chain c = new Chain(runs, starts);
        synchronized (chainCache) {
            chainCache.put(e.entryOffset(), c);
        }
        return c;
    }

    private long firstCluster(FatDirEntry e) {
        // DIR_FstClusHI is only meaningful on FAT32 (OS/2 kept other data there on FAT16)
        return g.type() == FatType.FAT32 ? e.firstCluster() : e.firstCluster() & 0xFFFF;
    }

    @Override
    public String readlink(String link) throws IOException {
        resolve(link);
        throw new IOException(link + ": not a symbolic link (FAT has none)");
    }

    /** FAT has no extended attributes: always empty (the path must exist). */
    @Override
    public Map<String, byte[]> xattrs(String path) throws IOException {
        resolve(path);
        return Map.of();
    }

    /**
     * The boot sector and reserved sectors, every FAT copy, the FAT12/16 root directory region, and
     * every cluster whose FAT entry is not zero (bad clusters included, erring on the safe side).
     */
    @Override
    public List<ByteRange> usedRanges() throws IOException {
        List<ByteRange> out = new ArrayList<>();
        out.add(new ByteRange(0, g.dataOffset()));
        fat.forEachUsedRun((first, count) -> {
            long off = g.clusterOffset(first);
            long len = count * g.clusterSize();
            ByteRange last = out.getLast();
            if (last.end() == off) {
                out.set(out.size() - 1, new ByteRange(last.offset(), last.length() + len));
            } else {
                out.add(new ByteRange(off, len));
            }
        });
        return out;
    }

    /** Data clusters in total and free, counted in the FAT (as statvfs on Linux reports them). */
    @Override
    public SpaceUsage space() throws IOException {
        Long free = freeClusters;
        if (free == null) {
            long[] used = {0};
            fat.forEachUsedRun((first, count) -> used[0] += count);
            free = g.clusterCount() - used[0];
            freeClusters = free;
        }
        return new SpaceUsage(g.clusterCount() * g.clusterSize(), free * g.clusterSize());
    }

    @Override
    public void close() {
        // the device belongs to the caller
    }

    // ---- paths and directories

    private FatDirEntry resolve(String path) throws IOException {
        if (path == null || !path.startsWith("/")) {
            throw new NoSuchFileException(path, null, "not an absolute path");
        }
        List<FatDirEntry> stack = new ArrayList<>();
        stack.add(rootEntry);
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (stack.size() > 1) {
                    stack.removeLast();
                }
                continue;
            }
            FatDirEntry cur = stack.getLast();
            if (!cur.isDirectory()) {
                throw new NotDirectoryException(path);
            }
            FatDirEntry found = lookup(readDir(cur), part);
            if (found == null) {
                throw new NoSuchFileException(path);
            }
            stack.add(found);
        }
        return stack.getLast();
    }

    private static FatDirEntry lookup(List<FatDirEntry> entries, String name) {
        for (FatDirEntry e : entries) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        for (FatDirEntry e : entries) {
            if (e.name().equalsIgnoreCase(name) || e.shortName().equalsIgnoreCase(name)) {
                return e;
            }
        }
        return null;
    }

    private List<FatDirEntry> readDir(FatDirEntry dir) throws IOException {
        long key = dir == rootEntry ? -1 : dir.entryOffset();
        synchronized (dirCache) {
            List<FatDirEntry> c = dirCache.get(key);
            if (c != null) {
                return c;
            }
        }
        DirBytes d = dirBytes(dir);
        List<FatDirEntry> entries = DirParser.parse(d.data(), d.data().length, d.offsetOf());
        for (FatDirEntry e : entries) {
            if (e.isDirectory() && firstCluster(e) == 0) {
                throw BadInputException.of(dev.describe() + ": directory entry of " + e.name() + " at offset 0x"
                        + Long.toHexString(e.entryOffset()) + ": a directory without a first cluster");
            }
        }
        entries = List.copyOf(entries);
        synchronized (dirCache) {
            dirCache.put(key, entries);
        }
        return entries;
    }

    /** A directory's raw bytes, and where on the device each of them is. */
    private record DirBytes(byte[] data, LongUnaryOperator offsetOf) {}

    private DirBytes dirBytes(FatDirEntry dir) throws IOException {
        if (dir == rootEntry && g.type() != FatType.FAT32) {
            ByteBuffer b = ByteBuffer.allocate((int) g.rootDirBytes());
            dev.read(b, g.rootDirOffset());
            long base = g.rootDirOffset();
            return new DirBytes(b.array(), i -> base + i);
        }
        List<FatTable.Run> runs = dirRuns(dir);
        long bytes = runs.stream().mapToLong(FatTable.Run::count).sum() * g.clusterSize();
        byte[] data = new byte[(int) bytes];
        long[] runStart = new long[runs.size()];
        int at = 0;
        for (int i = 0; i < runs.size(); i++) {
            FatTable.Run r = runs.get(i);
            runStart[i] = at;
            int n = (int) (r.count() * g.clusterSize());
            dev.read(ByteBuffer.wrap(data, at, n), g.clusterOffset(r.first()));
            at += n;
        }
        return new DirBytes(data, i -> {
            int r = java.util.Arrays.binarySearch(runStart, i);
            if (r < 0) {
                r = -r - 2;
            }
            return g.clusterOffset(runs.get(r).first()) + (i - runStart[r]);
        });
    }

    private List<FatTable.Run> dirRuns(FatDirEntry dir) throws IOException {
        long max = MAX_DIR_BYTES / g.clusterSize();
        String what = dir == rootEntry ? "root directory" : "directory " + dir.name();
        List<FatTable.Run> runs = fat.chain(firstCluster(dir), max + 1, false, what);
        long n = runs.stream().mapToLong(FatTable.Run::count).sum();
        if (n > max) {
            throw BadInputException.of(dev.describe() + ": " + what + " (first cluster " + firstCluster(dir)
                    + "): longer than FAT's limit of " + MAX_DIR_BYTES + " bytes");
        }
        return runs;
    }

    private long dirClusters(FatDirEntry dir) throws IOException {
        return dirRuns(dir).stream().mapToLong(FatTable.Run::count).sum();
    }

}
