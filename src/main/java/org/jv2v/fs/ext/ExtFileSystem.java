package org.jv2v.fs.ext;

import org.jv2v.BadInputException;
import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An ext2, ext3 or ext4 filesystem, read-only. Everything read from the device is checked before
 * it is used; a corrupt structure is a {@link BadInputException} naming the device, the field and
 * its byte offset.
 */
public final class ExtFileSystem implements FileSystem {
    static final long ROOT_INODE = 2;
    /** Linux's limit on symbolic links followed while resolving one path (ELOOP). */
    static final int MAX_SYMLINKS = 40;
    /** Linux's PATH_MAX: a longer symlink target cannot be used anyway. */
    static final int MAX_SYMLINK_TARGET = 4096;
    /**
     * Largest directory read: largedir allows more, but 256 MiB of entries is already about ten
     * million names, far beyond any real system directory.
     */
    static final long MAX_DIR_BYTES = 256L << 20;
    /** Metadata blocks kept in memory (extent and indirect nodes, inode table and directory blocks). */
    static final int CACHE_BLOCKS = 2048;
    /** Directories whose entries are kept for lookups. */
    static final int CACHE_DIRS = 64;
    /**
     * Most block groups accepted: 2^21 groups of 32768 4-KiB blocks is 256 TiB, beyond any guest
     * disk jv2v converts; it bounds the descriptor table kept in memory.
     */
    static final long MAX_GROUPS = 1L << 21;
    /** Largest block size: 64 KiB (s_log_block_size 6). */
    static final int MAX_LOG_BLOCK_SIZE = 6;

    /** State of the journal, which the converter must check before writing. */
    public enum JournalState {
        /** ext2, or a filesystem created without a journal. */
        NONE,
        /** The journal is empty: the filesystem was cleanly unmounted. */
        CLEAN,
        /** The needs_recovery flag is set: the journal holds changes not yet written. */
        NEEDS_RECOVERY
    }

    private static final byte[] ZEROS = new byte[65536];

    private final BlockDevice dev;
    private final Superblock sb;
    private final long bs;
    private final GroupDesc[] groups;
    private final boolean[] groupDescValid;
    private final int csumSeed;
    private final BlockMap blockMap = new BlockMap(this);
    private final Map<Long, byte[]> blockCache = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, byte[]> e) {
            return size() > CACHE_BLOCKS;
        }
    };
    private final Map<Long, Directory> dirCache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Directory> e) {
            return size() > CACHE_DIRS;
        }
    };

    /** A directory entry as stored, "." and ".." included. */
    record RawEntry(String name, long inode, int fileType) {}

    /** A directory's entries in on-disk order, and by name (the first of duplicate names wins). */
    private record Directory(List<RawEntry> entries, Map<String, RawEntry> byName) {}

    private ExtFileSystem(BlockDevice dev, Superblock sb) throws IOException {
        this.dev = dev;
        this.sb = sb;
        this.bs = sb.blockSize();
        this.csumSeed = sb.hasIncompat(Superblock.INCOMPAT_CSUM_SEED) ? sb.checksumSeed()
                : Crc32c.update(~0, sb.uuid(), 0, 16);
        long count = sb.groupCount();
        this.groups = new GroupDesc[(int) count];
        this.groupDescValid = new boolean[(int) count];
        readGroupDescriptors();
    }

    /** Opens the filesystem on {@code dev} read-only, checking the superblock thoroughly. */
    public static ExtFileSystem open(BlockDevice dev) throws IOException {
        if (dev.size() < Superblock.OFFSET + Superblock.SIZE) {
            throw BadInputException.of(dev.describe() + ": too small for an ext2/3/4 filesystem");
        }
        ByteBuffer raw = ByteBuffer.allocate(Superblock.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        dev.read(raw, Superblock.OFFSET);
        raw.flip();
        Superblock sb = Superblock.read(raw);
        check(dev, sb, raw.array());
        return new ExtFileSystem(dev, sb);
    }

    private static void check(BlockDevice dev, Superblock sb, byte[] raw) {
        long o = Superblock.OFFSET;
        if (sb.magic() != Superblock.MAGIC) {
            throw bad(dev, "superblock s_magic", o + 0x38, String.format("0x%04x is not 0xef53", sb.magic()));
        }
        if (sb.hasIncompat(Superblock.INCOMPAT_JOURNAL_DEV)) {
            throw bad(dev, "superblock s_feature_incompat", o + 0x60, "an external journal device, not a filesystem");
        }
        int unknown = sb.featureIncompat() & ~Superblock.INCOMPAT_SUPPORTED;
        if (unknown != 0) {
            throw bad(dev, "superblock s_feature_incompat", o + 0x60,
                    String.format("unsupported feature bits 0x%x (compression, dirdata or newer)", unknown));
        }
        if (sb.logBlockSize() < 0 || sb.logBlockSize() > MAX_LOG_BLOCK_SIZE) {
            throw bad(dev, "superblock s_log_block_size", o + 0x18, sb.logBlockSize() + " is not within [0, 6]");
        }
        long bs = sb.blockSize();
        if (sb.hasRoCompat(Superblock.RO_COMPAT_METADATA_CSUM)) {
            if (sb.checksumType() != 1) {
                throw bad(dev, "superblock s_checksum_type", o + 0x175, sb.checksumType() + " is not 1 (crc32c)");
            }
            int actual = Crc32c.update(~0, raw, 0, 0x3fc);
            if (actual != sb.checksum()) {
                throw bad(dev, "superblock s_checksum", o + 0x3fc,
                        String.format("stored 0x%08x, computed 0x%08x", sb.checksum(), actual));
            }
        }
        boolean bigalloc = sb.hasRoCompat(Superblock.RO_COMPAT_BIGALLOC);
        if (sb.firstDataBlock() != (bs == 1024 && !bigalloc ? 1 : 0)) {
            throw bad(dev, "superblock s_first_data_block", o + 0x14, sb.firstDataBlock() + " for " + bs + "-byte blocks");
        }
        long clusterRatio = 1;
        if (sb.hasRoCompat(Superblock.RO_COMPAT_BIGALLOC)) {
            if (sb.logClusterSize() < sb.logBlockSize() || sb.logClusterSize() > sb.logBlockSize() + 16) {
                throw bad(dev, "superblock s_log_cluster_size", o + 0x1c, sb.logClusterSize()
                        + " is not within [s_log_block_size, +16]");
            }
            clusterRatio = 1L << (sb.logClusterSize() - sb.logBlockSize());
            if (sb.clustersPerGroup() < 8 || sb.clustersPerGroup() > 8 * bs
                    || sb.blocksPerGroup() != sb.clustersPerGroup() * clusterRatio) {
                throw bad(dev, "superblock s_clusters_per_group", o + 0x24, sb.clustersPerGroup()
                        + " is not within [8, " + 8 * bs + "] or disagrees with s_blocks_per_group");
            }
        } else if (sb.blocksPerGroup() < 8 || sb.blocksPerGroup() > 8 * bs) {
            throw bad(dev, "superblock s_blocks_per_group", o + 0x20, sb.blocksPerGroup() + " is not within [8, "
                    + 8 * bs + "]");
        }
        if (sb.inodesPerGroup() < 1 || sb.inodesPerGroup() > 8 * bs) {
            throw bad(dev, "superblock s_inodes_per_group", o + 0x28, sb.inodesPerGroup() + " is not within [1, "
                    + 8 * bs + "]");
        }
        int isz = sb.revLevel() == 0 ? 128 : sb.inodeSize();
        if (isz < 128 || isz > bs || Integer.bitCount(isz) != 1) {
            throw bad(dev, "superblock s_inode_size", o + 0x58, isz + " is not a power of two within [128, " + bs + "]");
        }
        if (sb.blocksCount() <= sb.firstDataBlock() || sb.blocksCount() > dev.size() / bs) {
            throw bad(dev, "superblock s_blocks_count", o + 0x04, sb.blocksCount() + " blocks of " + bs
                    + " bytes do not fit the " + dev.size() + "-byte device");
        }
        if (sb.groupCount() > MAX_GROUPS) {
            throw bad(dev, "superblock s_blocks_per_group", o + 0x20, sb.groupCount() + " block groups is more than "
                    + MAX_GROUPS);
        }
        if (sb.hasIncompat(Superblock.INCOMPAT_64BIT)) {
            int ds = sb.descSize();
            if (ds < 64 || ds > 1024 || Integer.bitCount(ds) != 1) {
                throw bad(dev, "superblock s_desc_size", o + 0xfe, ds + " is not a power of two within [64, 1024]");
            }
        }
        if (sb.inodesCount() > sb.groupCount() * sb.inodesPerGroup() || sb.inodesCount() < ROOT_INODE) {
            throw bad(dev, "superblock s_inodes_count", o, sb.inodesCount() + " does not fit " + sb.groupCount()
                    + " groups of " + sb.inodesPerGroup() + " inodes");
        }
    }

    private void readGroupDescriptors() throws IOException {
        readGroupDescriptors(null);
    }

    /** Reads the descriptors, all of them or those in {@code onlyBlocks}. */
    private void readGroupDescriptors(java.util.Set<Long> onlyBlocks) throws IOException {
        int ds = sb.groupDescSize();
        long perBlock = bs / ds;
        byte[] blk = null;
        long blkNo = -1;
        for (int g = 0; g < groups.length; g++) {
            long where = descriptorBlock(g);
            if (onlyBlocks != null && !onlyBlocks.contains(where)) {
                continue;
            }
            if (where != blkNo) {
                blockOffset(where, "group descriptor block of group " + g, Superblock.OFFSET);
                blk = readBlockUncached(where);
                blkNo = where;
            }
            int at = (int) ((g % perBlock) * ds);
            ByteBuffer b = ByteBuffer.wrap(blk).order(ByteOrder.LITTLE_ENDIAN);
            GroupDesc d = GroupDesc.read(b, at, ds >= 64);
            groups[g] = d;
            groupDescValid[g] = descChecksumOk(g, blk, at, ds);
            long descAt = where * bs + at;
            if (groupDescValid[g]) {
                long itBlocks = (sb.inodesPerGroup() * inodeSize() + bs - 1) / bs;
                if (d.inodeTable() < sb.firstDataBlock() || d.inodeTable() + itBlocks > sb.blocksCount()) {
                    throw bad("group " + g + " descriptor bg_inode_table", descAt + 0x08, "blocks [" + d.inodeTable()
                            + ", +" + itBlocks + ") lie outside the filesystem's " + sb.blocksCount() + " blocks");
                }
            }
        }
    }

    /** The descriptor checksum (crc16 with gdt_csum, crc32c low half with metadata_csum). */
    private boolean descChecksumOk(int g, byte[] blk, int at, int ds) {
        boolean meta = sb.hasRoCompat(Superblock.RO_COMPAT_METADATA_CSUM);
        boolean gdt = sb.hasRoCompat(Superblock.RO_COMPAT_GDT_CSUM);
        if (!meta && !gdt) {
            return true;
        }
        int stored = (blk[at + 0x1e] & 0xff) | (blk[at + 0x1f] & 0xff) << 8;   // 0x1e bg_checksum
        return descChecksum(g, blk, at, ds) == stored;
    }

    /** The descriptor checksum of group {@code g} whose {@code ds} bytes are at {@code blk[at]}. */
    int descChecksum(int g, byte[] blk, int at, int ds) {
        boolean meta = sb.hasRoCompat(Superblock.RO_COMPAT_METADATA_CSUM);
        byte[] le = {(byte) g, (byte) (g >> 8), (byte) (g >> 16), (byte) (g >> 24)};
        int actual;
        if (meta) {
            int c = Crc32c.update(csumSeed, le, 0, 4);
            c = Crc32c.update(c, blk, at, 0x1e);
            c = Crc32c.update(c, new byte[2], 0, 2);
            if (ds > 0x20) {
                c = Crc32c.update(c, blk, at + 0x20, ds - 0x20);
            }
            actual = c & 0xffff;
        } else {
            int c = Crc16.update(0xffff, sb.uuid(), 0, 16);
            c = Crc16.update(c, le, 0, 4);
            c = Crc16.update(c, blk, at, 0x1e);
            if (sb.hasIncompat(Superblock.INCOMPAT_64BIT) && ds > 0x20) {
                c = Crc16.update(c, blk, at + 0x20, ds - 0x20);
            }
            actual = c;
        }
        return actual;
    }

    /** The block holding group {@code g}'s descriptor (primary copy). */
    long descriptorBlock(int g) {
        long perBlock = bs / sb.groupDescSize();
        long descBlock = g / perBlock;
        if (!sb.hasIncompat(Superblock.INCOMPAT_META_BG) || descBlock < sb.firstMetaBg()) {
            return superblockBlock() + 1 + descBlock;
        }
        return metaBgDescriptorBlock(descBlock * perBlock);
    }

    /** Where group {@code g}'s descriptor starts within {@link #descriptorBlock}. */
    int descriptorOffset(int g) {
        long perBlock = bs / sb.groupDescSize();
        return (int) ((g % perBlock) * sb.groupDescSize());
    }

    // ---- after an edit (ExtWritableFileSystem): caches kept true without re-reading everything ----

    /**
     * Blocks {@code [r[0], r[0] + r[1])} of each range changed on the device: cached copies go, and
     * the group descriptors held in those blocks are read again.
     */
    void changed(java.util.Collection<long[]> ranges) throws IOException {
        java.util.Set<Long> descBlocks = new java.util.HashSet<>();
        for (int g = 0; g < groups.length; g++) {
            descBlocks.add(descriptorBlock(g));
        }
        java.util.Set<Long> reread = new java.util.HashSet<>();
        synchronized (blockCache) {
            for (long[] r : ranges) {
                if (r[1] > blockCache.size()) {
                    blockCache.keySet().removeIf(k -> k >= r[0] && k < r[0] + r[1]);
                } else {
                    for (long b = r[0]; b < r[0] + r[1]; b++) {
                        blockCache.remove(b);
                    }
                }
                for (long b : descBlocks) {
                    if (b >= r[0] && b < r[0] + r[1]) {
                        reread.add(b);
                    }
                }
            }
        }
        if (!reread.isEmpty()) {
            readGroupDescriptors(reread);
        }
    }

    /** A name added to a directory whose entries may be cached. */
    void entryAdded(long dir, String name, long ino, int fileType) {
        synchronized (dirCache) {
            Directory d = dirCache.get(dir);
            if (d != null) {
                RawEntry e = new RawEntry(name, ino, fileType);
                d.entries.add(e);
                d.byName.putIfAbsent(name, e);
            }
        }
    }

    /** A name removed from a directory whose entries may be cached. */
    void entryRemoved(long dir, String name) {
        synchronized (dirCache) {
            Directory d = dirCache.get(dir);
            if (d != null) {
                RawEntry e = d.byName.remove(name);
                d.entries.remove(e);
                for (RawEntry other : d.entries) {
                    if (other.name.equals(name)) {
                        d.byName.put(name, other); // a duplicate name (corrupt, but readable) takes over
                        break;
                    }
                }
            }
        }
    }

    // ---- geometry ----

    long blockSize() {
        return bs;
    }

    long blocksCount() {
        return sb.blocksCount();
    }

    long firstDataBlock() {
        return sb.firstDataBlock();
    }

    int inodeSize() {
        return sb.revLevel() == 0 ? 128 : sb.inodeSize();
    }

    Superblock superblock() {
        return sb;
    }

    GroupDesc group(int g) {
        return groups[g];
    }

    boolean groupDescValid(int g) {
        return groupDescValid[g];
    }

    int groupCount() {
        return groups.length;
    }

    int csumSeed() {
        return csumSeed;
    }

    BlockDevice device() {
        return dev;
    }

    long groupFirstBlock(long g) {
        return sb.firstDataBlock() + g * sb.blocksPerGroup();
    }

    /** The block holding the primary superblock: block 1 with 1 KiB blocks (even with bigalloc), else 0. */
    long superblockBlock() {
        return bs == 1024 ? 1 : 0;
    }

    /**
     * Where meta_bg keeps the descriptors of a meta group in group {@code g} (its first, second or
     * last group): after the superblock copy if the group has one (and after the primary superblock
     * in group 0 of a 1 KiB-block bigalloc filesystem, which starts at block 0).
     */
    long metaBgDescriptorBlock(long g) {
        long skip = hasSuper(g) ? 1 : 0;
        if (g == 0 && bs == 1024 && sb.firstDataBlock() == 0) {
            skip++;
        }
        return groupFirstBlock(g) + skip;
    }

    /** Whether group {@code g} holds a superblock backup (and so a GDT copy). */
    boolean hasSuper(long g) {
        if (g == 0) {
            return true;
        }
        if (sb.hasCompat(Superblock.COMPAT_SPARSE_SUPER2)) {
            return g == sb.backupBgs()[0] || g == sb.backupBgs()[1];
        }
        if (!sb.hasRoCompat(Superblock.RO_COMPAT_SPARSE_SUPER)) {
            return true;
        }
        return g == 1 || isPower(g, 3) || isPower(g, 5) || isPower(g, 7);
    }

    private static boolean isPower(long g, int base) {
        long p = base;
        while (p < g) {
            p *= base;
        }
        return p == g;
    }

    // ---- reading blocks ----

    /** Byte offset of block {@code n}, checked to lie inside the filesystem. */
    long blockOffset(long n, String field, long referencedAt) {
        if (n < 0 || n >= sb.blocksCount()) {
            throw bad(field, referencedAt, "block " + n + " lies past the filesystem's " + sb.blocksCount() + " blocks");
        }
        return n * bs;
    }

    /** Block {@code n} (already checked with {@link #blockOffset}), through the cache. Do not modify. */
    byte[] block(long n) throws IOException {
        synchronized (blockCache) {
            byte[] b = blockCache.get(n);
            if (b != null) {
                return b;
            }
        }
        byte[] b = readBlockUncached(n);
        synchronized (blockCache) {
            blockCache.put(n, b);
        }
        return b;
    }

    private byte[] readBlockUncached(long n) throws IOException {
        byte[] b = new byte[(int) bs];
        dev.read(ByteBuffer.wrap(b), n * bs);
        return b;
    }

    BadInputException bad(String field, long offset, String problem) {
        return bad(dev, field, offset, problem);
    }

    static BadInputException bad(BlockDevice dev, String field, long offset, String problem) {
        return BadInputException.of(dev.describe() + ": " + field + " at offset 0x" + Long.toHexString(offset) + ": "
                + problem);
    }

    // ---- inodes ----

    Inode inode(long ino) throws IOException {
        if (ino < 1 || ino > sb.inodesCount()) {
            throw bad("inode number", Superblock.OFFSET, ino + " is not within [1, " + sb.inodesCount() + "]");
        }
        long g = (ino - 1) / sb.inodesPerGroup();
        long index = (ino - 1) % sb.inodesPerGroup();
        int isz = inodeSize();
        long byteInTable = index * isz;
        long blk = groups[(int) g].inodeTable() + byteInTable / bs;
        long at = blockOffset(blk, "inode table of group " + g, Superblock.OFFSET);
        byte[] b = block(blk);
        int within = (int) (byteInTable % bs);
        Inode in = Inode.read(ino, at + within, ByteBuffer.wrap(b, within, isz).slice().order(ByteOrder.LITTLE_ENDIAN));
        if (sb.hasRoCompat(Superblock.RO_COMPAT_METADATA_CSUM)) {
            checkInodeChecksum(in);
        }
        return in;
    }

    boolean metadataCsum() {
        return sb.hasRoCompat(Superblock.RO_COMPAT_METADATA_CSUM);
    }

    /** The seed of an inode's own checksums (inode, extent blocks, directory blocks): number, generation. */
    int inodeSeed(Inode in) {
        long n = in.number();
        byte[] le = {(byte) n, (byte) (n >> 8), (byte) (n >> 16), (byte) (n >> 24)};
        return Crc32c.update(Crc32c.update(csumSeed, le, 0, 4), in.raw(), 0x64, 4); // 0x64 i_generation
    }

    /** Checks a stored little-endian crc32c at {@code at} in {@code b} against {@code computed}. */
    void checkCrc(byte[] b, int at, int computed, String field, long diskAt) {
        int stored = (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
        if (stored != computed) {
            throw bad(field, diskAt, String.format("stored 0x%08x, computed 0x%08x", stored, computed));
        }
    }

    /**
     * metadata_csum: crc32c over the inode number, its generation and the inode with both checksum
     * halves zeroed; the low 16 bits at 0x7c, the high ones at 0x82 when the inode has room.
     */
    private void checkInodeChecksum(Inode in) {
        byte[] raw = in.raw();
        boolean allZero = true;
        for (byte x : raw) {
            allZero &= x == 0;
        }
        if (allZero) {
            return; // never used: e2fsprogs accepts it too
        }
        long n = in.number();
        int c = inodeChecksum(inodeSeed(in), raw, in.extraIsize());
        boolean hasHi = raw.length > Inode.GOOD_OLD_SIZE && in.extraIsize() >= 4;
        int stored = (raw[0x7c] & 0xff) | (raw[0x7d] & 0xff) << 8;
        int mask = 0xffff;
        if (hasHi) {
            stored |= ((raw[0x82] & 0xff) | (raw[0x83] & 0xff) << 8) << 16;
            mask = -1;
        }
        if ((c & mask) != stored) {
            throw bad("inode " + n + " checksum", in.offset() + 0x7c,
                    String.format("stored 0x%08x, computed 0x%08x", stored, c & mask));
        }
    }

    /**
     * crc32c over an inode with both checksum halves taken as zero, from the seed of
     * {@link #inodeSeed}; the high half is stored only when i_extra_isize covers it.
     */
    static int inodeChecksum(int seed, byte[] raw, int extraIsize) {
        byte[] zero = new byte[2];
        int c = Crc32c.update(seed, raw, 0, 0x7c);
        c = Crc32c.update(c, zero, 0, 2);                                     // 0x7c l_i_checksum_lo
        c = Crc32c.update(c, raw, 0x7e, Inode.GOOD_OLD_SIZE - 0x7e);
        boolean hasHi = raw.length > Inode.GOOD_OLD_SIZE && extraIsize >= 4;
        if (raw.length > Inode.GOOD_OLD_SIZE) {
            c = Crc32c.update(c, raw, Inode.GOOD_OLD_SIZE, 0x82 - Inode.GOOD_OLD_SIZE);
            int after = 0x82;
            if (hasHi) {
                c = Crc32c.update(c, zero, 0, 2);                             // 0x82 i_checksum_hi
                after += 2;
            }
            c = Crc32c.update(c, raw, after, raw.length - after);
        }
        return c;
    }

    /** Reads up to {@code max} bytes of an inode's data (for symlinks and xattr inodes). */
    byte[] readInodeData(Inode in, int max) throws IOException {
        if (in.size() > max) {
            throw bad("inode " + in.number() + " i_size", in.offset() + 0x04, in.size() + " is more than " + max);
        }
        ByteBuffer buf = ByteBuffer.allocate((int) in.size());
        while (buf.hasRemaining() && readInode(in, buf, buf.position()) > 0) {
            // keep reading
        }
        return buf.array();
    }

    /** The inline-data bytes: i_block, then the value of "system.data". */
    byte[] inlineData(Inode in) throws IOException {
        byte[] extra = Xattrs.read(this, in).getOrDefault("system.data", new byte[0]);
        byte[] all = new byte[Inode.IBLOCK_SIZE + extra.length];
        System.arraycopy(in.iblock(), 0, all, 0, Inode.IBLOCK_SIZE);
        System.arraycopy(extra, 0, all, Inode.IBLOCK_SIZE, extra.length);
        return all;
    }

    int readInode(Inode in, ByteBuffer dst, long pos) throws IOException {
        if (in.has(Inode.FL_ENCRYPT)) {
            throw new IOException(dev.describe() + ": inode " + in.number() + " is encrypted (fscrypt): cannot read it");
        }
        if (pos >= in.size()) {
            return -1;
        }
        int want = (int) Math.min(dst.remaining(), in.size() - pos);
        if (in.has(Inode.FL_INLINE_DATA)) {
            byte[] data = inlineData(in);
            int n = (int) Math.max(0, Math.min(want, data.length - pos));
            if (n > 0) {
                dst.put(data, (int) pos, n);
            }
            for (int i = n; i < want; i++) {
                dst.put((byte) 0);
            }
            return want;
        }
        int done = 0;
        while (done < want) {
            long p = pos + done;
            long logical = p / bs;
            int within = (int) (p % bs);
            BlockMap.Run r = blockMap.map(in, logical);
            long avail = r.length() > (Long.MAX_VALUE / bs) - 1 ? Long.MAX_VALUE : r.length() * bs - within;
            int n = (int) Math.min(want - done, avail);
            if (r.zero()) {
                for (int left = n; left > 0; left -= Math.min(left, ZEROS.length)) {
                    dst.put(ZEROS, 0, Math.min(left, ZEROS.length));
                }
            } else {
                int limit = dst.limit();
                dst.limit(dst.position() + n);
                dev.read(dst, r.physical() * bs + within);
                dst.limit(limit);
            }
            done += n;
        }
        return want;
    }

    // ---- directories ----

    private Directory directory(Inode dir) throws IOException {
        synchronized (dirCache) {
            Directory d = dirCache.get(dir.number());
            if (d != null) {
                return d;
            }
        }
        List<RawEntry> list = readEntries(dir);
        Map<String, RawEntry> byName = new java.util.HashMap<>(list.size() * 2);
        for (RawEntry e : list) {
            byName.putIfAbsent(e.name, e);
        }
        Directory d = new Directory(list, byName);
        synchronized (dirCache) {
            dirCache.put(dir.number(), d);
        }
        return d;
    }

    List<RawEntry> entries(Inode dir) throws IOException {
        return directory(dir).entries;
    }

    private List<RawEntry> readEntries(Inode dir) throws IOException {
        if (dir.has(Inode.FL_ENCRYPT)) {
            throw new IOException(dev.describe() + ": directory inode " + dir.number() + " is encrypted (fscrypt)");
        }
        List<RawEntry> out = new ArrayList<>();
        if (dir.has(Inode.FL_INLINE_DATA)) {
            byte[] data = inlineData(dir);
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            out.add(new RawEntry(".", dir.number(), 2));
            out.add(new RawEntry("..", b.getInt(0) & 0xffffffffL, 2)); // the parent, stored first
            parseEntries(dir, b, 4, Inode.IBLOCK_SIZE, dir.offset() + 0x28, out);
            if (data.length > Inode.IBLOCK_SIZE) {
                parseEntries(dir, b, Inode.IBLOCK_SIZE, data.length, dir.offset(), out);
            }
            return out;
        }
        if (dir.size() > MAX_DIR_BYTES) {
            throw bad("directory inode " + dir.number() + " i_size", dir.offset() + 0x04,
                    dir.size() + " bytes is more than " + MAX_DIR_BYTES);
        }
        long blocks = (dir.size() + bs - 1) / bs;
        for (long l = 0; l < blocks; ) {
            BlockMap.Run r = blockMap.map(dir, l);
            long n = Math.min(r.length(), blocks - l);
            if (!r.zero()) {
                for (long i = 0; i < n; i++) {
                    long at = (r.physical() + i) * bs;
                    byte[] raw = block(r.physical() + i);
                    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
                    // htree index blocks (the root, block 0, and interior nodes: one empty entry
                    // spanning the block) carry their checksum in a dx tail, and may keep a stale
                    // leaf tail from before the directory was indexed: not a leaf checksum
                    boolean dxNode = dir.has(Inode.FL_INDEX) && (l + i == 0
                            || b.getInt(0) == 0 && (b.getShort(4) & 0xffff) == (int) (bs & 0xffff));
                    if (metadataCsum() && !dxNode && hasDirTail(b)) {
                        int t = (int) bs - DIR_TAIL_SIZE;
                        checkCrc(raw, t + 8, Crc32c.update(inodeSeed(dir), raw, 0, t),
                                "directory inode " + dir.number() + " block checksum", at + t + 8);
                    }
                    parseEntries(dir, b, 0, (int) bs, at, out);
                }
            }
            l += n;
        }
        return out;
    }

    /** A leaf block's checksum entry: inode 0, rec_len 12, name_len 0, file type 0xde, crc32c. */
    static final int DIR_TAIL_SIZE = 12;

    private boolean hasDirTail(ByteBuffer b) {
        int t = (int) bs - DIR_TAIL_SIZE;
        return b.getInt(t) == 0 && (b.getShort(t + 4) & 0xffff) == DIR_TAIL_SIZE && b.get(t + 6) == 0
                && (b.get(t + 7) & 0xff) == 0xde;
    }

    /** Entries in {@code b[from, to)}; {@code diskAt} is the byte offset of {@code b[0]} for messages. */
    private void parseEntries(Inode dir, ByteBuffer b, int from, int to, long diskAt, List<RawEntry> out) {
        boolean fileType = sb.hasIncompat(Superblock.INCOMPAT_FILETYPE);
        int p = from;
        while (p + 8 <= to) {
            long ino = b.getInt(p) & 0xffffffffL;                  // 0x00 inode
            int recLen = b.getShort(p + 4) & 0xffff;               // 0x04 rec_len
            if (bs == 65536 && (recLen == 0 || recLen == 65535)) {
                recLen = 65536; // a whole 64 KiB block, which 16 bits cannot say
            }
            int nameLen = fileType ? b.get(p + 6) & 0xff : b.getShort(p + 6) & 0xffff; // 0x06 name_len
            int type = fileType ? b.get(p + 7) & 0xff : 0;         // 0x07 file_type
            String where = "directory inode " + dir.number() + " entry rec_len";
            if (recLen < 8 || recLen % 4 != 0) {
                throw bad(where, diskAt + p + 4, recLen + " is not a multiple of 4 of at least 8");
            }
            if (recLen > to - p) {
                throw bad(where, diskAt + p + 4, recLen + " runs past the end of the block");
            }
            if (ino != 0) {
                if (nameLen + 8 > recLen) {
                    throw bad("directory inode " + dir.number() + " entry name_len", diskAt + p + 6,
                            nameLen + " does not fit rec_len " + recLen);
                }
                String name = new String(b.array(), p + 8, nameLen, StandardCharsets.UTF_8);
                out.add(new RawEntry(name, ino, type));
            }
            p += recLen;
        }
    }

    Optional<RawEntry> lookup(Inode dir, String name) throws IOException {
        Directory d = directory(dir);
        RawEntry exact = d.byName.get(name);
        if (exact != null || !dir.has(Inode.FL_CASEFOLD)) {
            return Optional.ofNullable(exact);
        }
        return d.entries.stream().filter(e -> e.name.equalsIgnoreCase(name)).findFirst();
    }

    // ---- paths ----

    /** The inode at {@code path}; symlinks in the middle are followed, the last one only if asked. */
    Inode resolve(String path, boolean followLast) throws IOException {
        Deque<String> parts = new ArrayDeque<>();
        push(parts, path);
        Inode cur = inode(ROOT_INODE);
        int links = 0;
        while (!parts.isEmpty()) {
            String name = parts.pop();
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            if (cur.kind() != FileKind.DIRECTORY) {
                throw new NotDirectoryException(path);
            }
            RawEntry e = lookup(cur, name).orElseThrow(() -> new NoSuchFileException(path));
            Inode child = inode(e.inode);
            if (child.kind() == FileKind.SYMLINK && (!parts.isEmpty() || followLast)) {
                if (++links > MAX_SYMLINKS) {
                    throw new FileSystemLoopException(path);
                }
                String target = new String(linkTarget(child), StandardCharsets.UTF_8);
                if (target.startsWith("/")) {
                    cur = inode(ROOT_INODE);
                }
                push(parts, target);
            } else {
                cur = child;
            }
        }
        return cur;
    }

    private static void push(Deque<String> parts, String path) {
        String[] s = path.split("/");
        for (int i = s.length - 1; i >= 0; i--) {
            parts.push(s[i]);
        }
    }

    private byte[] linkTarget(Inode in) throws IOException {
        if (in.has(Inode.FL_INLINE_DATA)) {
            return readInodeData(in, MAX_SYMLINK_TARGET);
        }
        boolean slow = in.has(Inode.FL_EXTENTS)
                && ((in.iblock()[0] & 0xff) | (in.iblock()[1] & 0xff) << 8) == BlockMap.EXTENT_MAGIC;
        if (in.size() < Inode.IBLOCK_SIZE && !slow) {
            byte[] t = new byte[(int) in.size()];
            System.arraycopy(in.iblock(), 0, t, 0, t.length);
            return t;
        }
        return readInodeData(in, MAX_SYMLINK_TARGET);
    }

    // ---- FileSystem ----

    @Override
    public String type() {
        int ext2Ro = Superblock.RO_COMPAT_SPARSE_SUPER | Superblock.RO_COMPAT_LARGE_FILE | Superblock.RO_COMPAT_BTREE_DIR;
        int ext2In = Superblock.INCOMPAT_FILETYPE | Superblock.INCOMPAT_META_BG;
        int ext3In = ext2In | Superblock.INCOMPAT_RECOVER;
        boolean journal = sb.hasCompat(Superblock.COMPAT_HAS_JOURNAL);
        if ((sb.featureRoCompat() & ~ext2Ro) != 0) {
            return "ext4";
        }
        if (!journal && (sb.featureIncompat() & ~ext2In) == 0) {
            return "ext2";
        }
        if (journal && (sb.featureIncompat() & ~ext3In) == 0) {
            return "ext3";
        }
        return "ext4";
    }

    @Override
    public Optional<String> label() {
        return sb.volumeName().isEmpty() ? Optional.empty() : Optional.of(sb.volumeName());
    }

    @Override
    public Optional<String> uuid() {
        String h = HexFormat.of().formatHex(sb.uuid());
        return Optional.of(h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-"
                + h.substring(16, 20) + "-" + h.substring(20));
    }

    /** Whether the journal must be replayed before the filesystem may be changed. */
    public JournalState journalState() {
        if (!sb.hasCompat(Superblock.COMPAT_HAS_JOURNAL)) {
            return JournalState.NONE;
        }
        return sb.hasIncompat(Superblock.INCOMPAT_RECOVER) ? JournalState.NEEDS_RECOVERY : JournalState.CLEAN;
    }

    /** True when inodes wait on the orphan list (deleted while open, at a crash): e2fsck would clean them. */
    public boolean hasOrphans() {
        return sb.lastOrphan() != 0;
    }

    /** True when s_state says the filesystem was not cleanly unmounted or has known errors. */
    public boolean markedUnclean() {
        return (sb.state() & 0x1) == 0 || (sb.state() & 0x2) != 0;
    }

    @Override
    public FileStat stat(String path) throws IOException {
        Inode in = resolve(path, false);
        return stat(in);
    }

    private FileStat stat(Inode in) {
        FileKind kind = in.kind();
        if (kind == null) {
            throw bad("inode " + in.number() + " i_mode", in.offset(), String.format("0%o names no file type", in.mode()));
        }
        long rdev = kind == FileKind.CHAR_DEVICE || kind == FileKind.BLOCK_DEVICE ? in.rdev() : 0;
        return new FileStat(in.number(), kind, in.size(), in.mode() & 0xfff, in.uid(), in.gid(), in.links(),
                in.atime(), in.mtime(), in.ctime(), rdev);
    }

    @Override
    public List<DirEntry> list(String dir) throws IOException {
        Inode in = resolve(dir, true);
        if (in.kind() != FileKind.DIRECTORY) {
            throw new NotDirectoryException(dir);
        }
        List<DirEntry> out = new ArrayList<>();
        for (RawEntry e : entries(in)) {
            if (e.name.equals(".") || e.name.equals("..")) {
                continue;
            }
            FileKind k = FileKind.ofDirEntryType(e.fileType);
            if (k == null) {
                k = stat(inode(e.inode)).kind(); // no filetype feature: ask the inode
            }
            out.add(new DirEntry(e.name, e.inode, k));
        }
        return out;
    }

    @Override
    public int read(String file, ByteBuffer dst, long position) throws IOException {
        Inode in = resolve(file, false);
        if (in.kind() != FileKind.REGULAR) {
            throw new IOException(file + ": not a regular file");
        }
        return readInode(in, dst, position);
    }

    @Override
    public String readlink(String link) throws IOException {
        Inode in = resolve(link, false);
        if (in.kind() != FileKind.SYMLINK) {
            throw new IOException(link + ": not a symbolic link");
        }
        return new String(linkTarget(in), StandardCharsets.UTF_8);
    }

    @Override
    public Map<String, byte[]> xattrs(String path) throws IOException {
        Map<String, byte[]> all = Xattrs.read(this, resolve(path, false));
        all.remove("system.data"); // inline data's storage, not an attribute anyone set
        return all;
    }

    @Override
    public List<ByteRange> usedRanges() throws IOException {
        return UsedBlocks.ranges(this);
    }

    @Override
    public SpaceUsage space() {
        long free = 0;
        for (GroupDesc g : groups) {
            free += g.freeBlocks();
        }
        long clusterBlocks = sb.clusterSize() / bs;
        return new SpaceUsage(sb.blocksCount() * bs, Math.min(free * clusterBlocks, sb.blocksCount()) * bs);
    }

    @Override
    public void close() {
        // the device belongs to whoever opened it
    }
}
