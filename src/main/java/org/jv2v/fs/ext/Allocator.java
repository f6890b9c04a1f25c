package org.jv2v.fs.ext;

import org.jv2v.Jv2vException;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Block and inode allocation for one edit: the group bitmaps, the group descriptors' counters,
 * flags and checksums, and the superblock's free counts. Everything goes through the edit's
 * {@link MetaStore}, so a failed edit leaves no trace; {@link #seal} recomputes the checksums of
 * whatever changed just before the commit.
 *
 * <p>Groups whose bitmaps were never written (BLOCK_UNINIT, INODE_UNINIT, with uninit_bg or
 * metadata_csum) are initialised on first use, as the kernel does: the block bitmap from the
 * metadata known to lie in the group, which must agree with the descriptor's free count.
 */
final class Allocator {
    /** A run of physical blocks. */
    record Run(long start, long length) {
        long end() {
            return start + length;
        }
    }

    // descriptor fields (offsets within one descriptor)
    private static final int BG_FREE_BLOCKS = 0x0c;       // _hi at 0x2c
    private static final int BG_FREE_INODES = 0x0e;       // _hi at 0x2e
    private static final int BG_USED_DIRS = 0x10;         // _hi at 0x30
    private static final int BG_FLAGS = 0x12;
    private static final int BG_BLOCK_BITMAP_CSUM = 0x18; // _hi at 0x38
    private static final int BG_INODE_BITMAP_CSUM = 0x1a; // _hi at 0x3a
    private static final int BG_ITABLE_UNUSED = 0x1c;     // _hi at 0x32
    private static final int BG_CHECKSUM = 0x1e;
    private static final int HI_FREE_BLOCKS = 0x2c;
    private static final int HI_FREE_INODES = 0x2e;
    private static final int HI_USED_DIRS = 0x30;
    private static final int HI_ITABLE_UNUSED = 0x32;
    private static final int HI_BLOCK_BITMAP_CSUM = 0x38;
    private static final int HI_INODE_BITMAP_CSUM = 0x3a;
    // superblock fields
    private static final int SB_FREE_BLOCKS = 0x0c;       // _hi at 0x158
    private static final int SB_FREE_BLOCKS_HI = 0x158;
    private static final int SB_FREE_INODES = 0x10;
    private static final int SB_WTIME = 0x30;             // _hi (8 bits) at 0x274
    private static final int SB_WTIME_HI = 0x274;
    private static final int SB_CHECKSUM = 0x3fc;

    private final ExtFileSystem fs;
    private final MetaStore meta;
    private final Superblock sb;
    private final int bs;
    private final int ds;
    private final boolean wide;
    private final boolean csum;
    private final boolean metaCsum;
    private final long sbBlock;
    private final int sbAt;
    private final TreeSet<Integer> dirtyDescs = new TreeSet<>();
    private final TreeSet<Integer> dirtyBlockBitmaps = new TreeSet<>();
    private final TreeSet<Integer> dirtyInodeBitmaps = new TreeSet<>();
    private final TreeSet<Integer> checkedBlockBitmaps = new TreeSet<>();
    private final TreeSet<Integer> checkedInodeBitmaps = new TreeSet<>();
    private Map<Integer, List<long[]>> metadata;
    private boolean sbDirty;

    Allocator(ExtFileSystem fs, MetaStore meta) {
        this.fs = fs;
        this.meta = meta;
        this.sb = fs.superblock();
        this.bs = (int) fs.blockSize();
        this.ds = sb.groupDescSize();
        this.wide = ds >= 64;
        this.metaCsum = fs.metadataCsum();
        this.csum = metaCsum || sb.hasRoCompat(Superblock.RO_COMPAT_GDT_CSUM);
        this.sbBlock = Superblock.OFFSET / bs;
        this.sbAt = (int) (Superblock.OFFSET % bs);
    }

    // ---- superblock ----

    long sbFreeBlocks() throws IOException {
        byte[] b = meta.read(sbBlock);
        long hi = sb.hasIncompat(Superblock.INCOMPAT_64BIT) ? Le.u32(b, sbAt + SB_FREE_BLOCKS_HI) : 0;
        return Le.u32(b, sbAt + SB_FREE_BLOCKS) | hi << 32;
    }

    private void addSbFreeBlocks(long delta) throws IOException {
        long v = sbFreeBlocks() + delta;
        byte[] b = meta.edit(sbBlock);
        Le.put32(b, sbAt + SB_FREE_BLOCKS, v);
        if (sb.hasIncompat(Superblock.INCOMPAT_64BIT)) {
            Le.put32(b, sbAt + SB_FREE_BLOCKS_HI, v >>> 32);
        }
        sbDirty = true;
    }

    long sbFreeInodes() throws IOException {
        return Le.u32(meta.read(sbBlock), sbAt + SB_FREE_INODES);
    }

    private void addSbFreeInodes(long delta) throws IOException {
        long v = sbFreeInodes() + delta;
        Le.put32(meta.edit(sbBlock), sbAt + SB_FREE_INODES, v);
        sbDirty = true;
    }

    // ---- descriptors ----

    private long descField(int g, int lo, int hi) throws IOException {
        byte[] b = meta.read(fs.descriptorBlock(g));
        int at = fs.descriptorOffset(g);
        long v = Le.u16(b, at + lo);
        if (wide) {
            v |= (long) Le.u16(b, at + hi) << 16;
        }
        return v;
    }

    private void setDescField(int g, int lo, int hi, long v) throws IOException {
        byte[] b = meta.edit(fs.descriptorBlock(g));
        int at = fs.descriptorOffset(g);
        Le.put16(b, at + lo, (int) v);
        if (wide) {
            Le.put16(b, at + hi, (int) (v >>> 16));
        }
        dirtyDescs.add(g);
    }

    long freeBlocks(int g) throws IOException {
        return descField(g, BG_FREE_BLOCKS, HI_FREE_BLOCKS);
    }

    long freeInodes(int g) throws IOException {
        return descField(g, BG_FREE_INODES, HI_FREE_INODES);
    }

    private int flags(int g) throws IOException {
        return Le.u16(meta.read(fs.descriptorBlock(g)), fs.descriptorOffset(g) + BG_FLAGS);
    }

    private void setFlags(int g, int flags) throws IOException {
        Le.put16(meta.edit(fs.descriptorBlock(g)), fs.descriptorOffset(g) + BG_FLAGS, flags);
        dirtyDescs.add(g);
    }

    private long descOffset(int g) {
        return fs.descriptorBlock(g) * bs + fs.descriptorOffset(g);
    }

    int groupOf(long block) {
        return (int) ((block - sb.firstDataBlock()) / sb.blocksPerGroup());
    }

    private int blocksInGroup(int g) {
        return (int) Math.min(sb.blocksPerGroup(), sb.blocksCount() - fs.groupFirstBlock(g));
    }

    private Map<Integer, List<long[]>> metadata() {
        if (metadata == null) {
            metadata = UsedBlocks.metadata(fs);
        }
        return metadata;
    }

    // ---- block bitmaps ----

    private boolean blockUninit(int g) throws IOException {
        return csum && (flags(g) & GroupDesc.BLOCK_UNINIT) != 0;
    }

    /** The group's block bitmap for looking only (for a BLOCK_UNINIT group, what it would be). */
    private byte[] blockBitmapView(int g) throws IOException {
        if (blockUninit(g)) {
            return initialBlockBitmap(g);
        }
        long at = fs.group(g).blockBitmap();
        if (at < sb.firstDataBlock() || at >= sb.blocksCount()) {
            throw fs.bad("group " + g + " descriptor bg_block_bitmap", descOffset(g), "block " + at
                    + " lies outside the filesystem");
        }
        byte[] b = meta.read(at);
        if (metaCsum && !meta.isDirty(at) && checkedBlockBitmaps.add(g)) {
            int c = Crc32c.update(fs.csumSeed(), b, 0, (int) (sb.clustersPerGroup() / 8));
            long stored = descField(g, BG_BLOCK_BITMAP_CSUM, HI_BLOCK_BITMAP_CSUM);
            if ((wide ? c & 0xffffffffL : c & 0xffff) != stored) {
                throw fs.bad("group " + g + " bg_block_bitmap_csum", descOffset(g) + BG_BLOCK_BITMAP_CSUM,
                        String.format("stored 0x%x, the bitmap's is 0x%x", stored, c));
            }
        }
        return b;
    }

    private byte[] blockBitmapEdit(int g) throws IOException {
        if (blockUninit(g)) {
            byte[] init = initialBlockBitmap(g);
            long free = blocksInGroup(g) - count(init, 0, blocksInGroup(g));
            if (free != freeBlocks(g)) {
                throw fs.bad("group " + g + " bg_free_blocks_count", descOffset(g) + BG_FREE_BLOCKS, freeBlocks(g)
                        + " free blocks where the group's metadata leaves " + free + " (BLOCK_UNINIT)");
            }
            meta.replace(fs.group(g).blockBitmap(), init);
            setFlags(g, flags(g) & ~GroupDesc.BLOCK_UNINIT);
            dirtyBlockBitmaps.add(g);
            return init;
        }
        blockBitmapView(g); // location and checksum checks
        dirtyBlockBitmaps.add(g);
        return meta.edit(fs.group(g).blockBitmap());
    }

    /** What the kernel writes when it first uses a BLOCK_UNINIT group: its metadata, and the padding bits. */
    private byte[] initialBlockBitmap(int g) {
        byte[] bm = new byte[bs];
        long start = fs.groupFirstBlock(g);
        for (long[] m : metadata().getOrDefault(g, List.of())) {
            setRange(bm, (int) (m[0] - start), (int) (m[0] - start + m[1]));
        }
        setRange(bm, blocksInGroup(g), bs * 8);
        return bm;
    }

    // ---- inode bitmaps ----

    private byte[] inodeBitmapEdit(int g) throws IOException {
        int ipg = (int) sb.inodesPerGroup();
        long at = fs.group(g).inodeBitmap();
        if (csum && (flags(g) & GroupDesc.INODE_UNINIT) != 0) {
            byte[] bm = new byte[bs];
            setRange(bm, ipg, bs * 8);
            meta.replace(at, bm);
            setFlags(g, flags(g) & ~GroupDesc.INODE_UNINIT);
            dirtyInodeBitmaps.add(g);
            return bm;
        }
        if (at < sb.firstDataBlock() || at >= sb.blocksCount()) {
            throw fs.bad("group " + g + " descriptor bg_inode_bitmap", descOffset(g) + 0x04, "block " + at
                    + " lies outside the filesystem");
        }
        if (metaCsum && !meta.isDirty(at) && checkedInodeBitmaps.add(g)) {
            int c = Crc32c.update(fs.csumSeed(), meta.read(at), 0, ipg / 8);
            long stored = descField(g, BG_INODE_BITMAP_CSUM, HI_INODE_BITMAP_CSUM);
            if ((wide ? c & 0xffffffffL : c & 0xffff) != stored) {
                throw fs.bad("group " + g + " bg_inode_bitmap_csum", descOffset(g) + BG_INODE_BITMAP_CSUM,
                        String.format("stored 0x%x, the bitmap's is 0x%x", stored, c));
            }
        }
        dirtyInodeBitmaps.add(g);
        return meta.edit(at);
    }

    // ---- blocks ----

    /**
     * Allocates {@code count} blocks near {@code goal}: one contiguous run when some group has
     * one (the goal's group first, from the goal on), else the free runs met walking on from
     * the goal. The runs come back in the order they should be used.
     */
    List<Run> allocate(long goal, long count) throws IOException {
        List<Run> out = new ArrayList<>();
        if (count <= 0) {
            return out;
        }
        if (sbFreeBlocks() < count) {
            throw new Jv2vException(fs.device().describe() + ": not enough free space in the filesystem: "
                    + count + " blocks needed, " + sbFreeBlocks() + " free");
        }
        int groups = fs.groupCount();
        if (goal < sb.firstDataBlock() || goal >= sb.blocksCount()) {
            goal = sb.firstDataBlock();
        }
        int g0 = groupOf(goal);
        int off0 = (int) (goal - fs.groupFirstBlock(g0));
        if (count <= sb.blocksPerGroup()) {
            for (int i = 0; i <= groups; i++) {
                int g = (g0 + i) % groups;
                if (freeBlocks(g) < count) {
                    continue;
                }
                byte[] bm = blockBitmapView(g);
                int n = blocksInGroup(g);
                for (int s = i == 0 ? off0 : 0; (s = nextClear(bm, s, n)) >= 0; ) {
                    int e = nextSet(bm, s, n);
                    if (e - s >= count) {
                        take(g, s, (int) count, out);
                        return out;
                    }
                    s = e;
                }
            }
        }
        long left = count;
        for (int i = 0; i <= groups && left > 0; i++) {
            int g = (g0 + i) % groups;
            if (freeBlocks(g) == 0) {
                continue;
            }
            byte[] bm = blockBitmapView(g);
            int n = blocksInGroup(g);
            List<int[]> runs = new ArrayList<>();
            for (int s = i == 0 ? off0 : 0; left > 0 && (s = nextClear(bm, s, n)) >= 0; ) {
                int e = nextSet(bm, s, n);
                int take = (int) Math.min(e - s, left);
                runs.add(new int[] {s, take});
                left -= take;
                s = e;
            }
            for (int[] r : runs) {
                take(g, r[0], r[1], out);
            }
        }
        if (left > 0) {
            throw fs.bad("superblock s_free_blocks_count", Superblock.OFFSET + SB_FREE_BLOCKS, sbFreeBlocks()
                    + " free blocks claimed but the block bitmaps have fewer");
        }
        return out;
    }

    private void take(int g, int s, int len, List<Run> out) throws IOException {
        byte[] bm = blockBitmapEdit(g);
        for (int i = s; i < s + len; i++) {
            if (bit(bm, i)) {
                throw new IllegalStateException("allocating a used block");
            }
            setBit(bm, i);
        }
        long free = freeBlocks(g) - len;
        if (free < 0) {
            throw fs.bad("group " + g + " bg_free_blocks_count", descOffset(g) + BG_FREE_BLOCKS, freeBlocks(g)
                    + " is fewer than the group's free bitmap bits");
        }
        setDescField(g, BG_FREE_BLOCKS, HI_FREE_BLOCKS, free);
        addSbFreeBlocks(-len);
        long start = fs.groupFirstBlock(g) + s;
        meta.forget(start, len);
        if (!out.isEmpty() && out.getLast().end() == start) {
            out.set(out.size() - 1, new Run(out.getLast().start(), out.getLast().length() + len));
        } else {
            out.add(new Run(start, len));
        }
    }

    /**
     * Frees blocks {@code [start, start + len)} that {@code owner} ("inode 12", whose bytes start at
     * {@code ownerAt} on the device) used.
     */
    void free(long start, long len, String owner, long ownerAt) throws IOException {
        if (start < sb.firstDataBlock() || len < 0 || start + len > sb.blocksCount()) {
            throw new IllegalArgumentException(owner + ": blocks [" + start + ", +" + len + ") outside the filesystem");
        }
        long s = start;
        long end = start + len;
        while (s < end) {
            int g = groupOf(s);
            long gStart = fs.groupFirstBlock(g);
            long e = Math.min(end, gStart + sb.blocksPerGroup());
            for (long[] m : metadata().getOrDefault(g, List.of())) {
                if (m[0] < e && s < m[0] + m[1]) {
                    throw fs.bad(owner + " block map", ownerAt, "block " + Math.max(s, m[0])
                            + " is filesystem metadata (superblock, descriptors, bitmaps or inode table)");
                }
            }
            byte[] bm = blockBitmapEdit(g);
            for (long b = s; b < e; b++) {
                int i = (int) (b - gStart);
                if (!bit(bm, i)) {
                    throw fs.bad("group " + g + " block bitmap", fs.group(g).blockBitmap() * bs + i / 8, owner
                            + " uses block " + b + " but the bitmap says it is free (run e2fsck)");
                }
                clearBit(bm, i);
            }
            setDescField(g, BG_FREE_BLOCKS, HI_FREE_BLOCKS, freeBlocks(g) + (e - s));
            addSbFreeBlocks(e - s);
            s = e;
        }
        meta.forget(start, len);
    }

    // ---- inodes ----

    /** Allocates an inode, in {@code goalGroup} if it has one free, else in the next group that has. */
    long allocateInode(int goalGroup, boolean directory) throws IOException {
        if (sbFreeInodes() == 0) {
            throw new Jv2vException(fs.device().describe() + ": no free inodes left in the filesystem");
        }
        int groups = fs.groupCount();
        int ipg = (int) sb.inodesPerGroup();
        long firstIno = sb.revLevel() == 0 ? 11 : sb.firstIno();
        for (int i = 0; i < groups; i++) {
            int g = (goalGroup + i) % groups;
            if (freeInodes(g) == 0) {
                continue;
            }
            byte[] bm = inodeBitmapEdit(g);
            int from = g == 0 ? (int) Math.min(ipg, firstIno - 1) : 0;
            int idx = nextClear(bm, from, ipg);
            long ino = (long) g * ipg + idx + 1;
            if (idx < 0 || ino > sb.inodesCount()) {
                throw fs.bad("group " + g + " bg_free_inodes_count", descOffset(g) + BG_FREE_INODES, freeInodes(g)
                        + " free inodes claimed but the inode bitmap has none");
            }
            setBit(bm, idx);
            setDescField(g, BG_FREE_INODES, HI_FREE_INODES, freeInodes(g) - 1);
            if (directory) {
                setDescField(g, BG_USED_DIRS, HI_USED_DIRS, descField(g, BG_USED_DIRS, HI_USED_DIRS) + 1);
            }
            if (csum) {
                long unused = descField(g, BG_ITABLE_UNUSED, HI_ITABLE_UNUSED);
                if (idx >= ipg - unused) {
                    setDescField(g, BG_ITABLE_UNUSED, HI_ITABLE_UNUSED, ipg - idx - 1);
                }
                if (blockUninit(g)) {
                    blockBitmapEdit(g); // the kernel initialises the block bitmap of a group it puts inodes in
                }
            }
            addSbFreeInodes(-1);
            return ino;
        }
        throw fs.bad("superblock s_free_inodes_count", Superblock.OFFSET + SB_FREE_INODES, sbFreeInodes()
                + " free inodes claimed but no group has one");
    }

    void freeInode(long ino, boolean directory) throws IOException {
        int ipg = (int) sb.inodesPerGroup();
        int g = (int) ((ino - 1) / ipg);
        int idx = (int) ((ino - 1) % ipg);
        byte[] bm = inodeBitmapEdit(g);
        if (!bit(bm, idx)) {
            throw fs.bad("group " + g + " inode bitmap", fs.group(g).inodeBitmap() * bs + idx / 8, "inode " + ino
                    + " is in use but the bitmap says it is free (run e2fsck)");
        }
        clearBit(bm, idx);
        setDescField(g, BG_FREE_INODES, HI_FREE_INODES, freeInodes(g) + 1);
        if (directory) {
            setDescField(g, BG_USED_DIRS, HI_USED_DIRS, Math.max(0, descField(g, BG_USED_DIRS, HI_USED_DIRS) - 1));
        }
        addSbFreeInodes(1);
    }

    // ---- checksums ----

    /** Recomputes the checksums of every bitmap, descriptor and the superblock this edit changed. */
    void seal(Instant now) throws IOException {
        if (metaCsum) {
            for (int g : dirtyBlockBitmaps) {
                int c = Crc32c.update(fs.csumSeed(), meta.read(fs.group(g).blockBitmap()), 0,
                        (int) (sb.clustersPerGroup() / 8));
                setDescField(g, BG_BLOCK_BITMAP_CSUM, HI_BLOCK_BITMAP_CSUM, wide ? c & 0xffffffffL : c & 0xffff);
            }
            for (int g : dirtyInodeBitmaps) {
                int c = Crc32c.update(fs.csumSeed(), meta.read(fs.group(g).inodeBitmap()), 0,
                        (int) (sb.inodesPerGroup() / 8));
                setDescField(g, BG_INODE_BITMAP_CSUM, HI_INODE_BITMAP_CSUM, wide ? c & 0xffffffffL : c & 0xffff);
            }
        }
        if (csum) {
            for (int g : dirtyDescs) {
                byte[] b = meta.edit(fs.descriptorBlock(g));
                int at = fs.descriptorOffset(g);
                Le.put16(b, at + BG_CHECKSUM, fs.descChecksum(g, b, at, ds));
            }
        }
        if (sbDirty || !dirtyDescs.isEmpty()) {
            byte[] b = meta.edit(sbBlock);
            long t = now.getEpochSecond();
            Le.put32(b, sbAt + SB_WTIME, t);
            Le.put8(b, sbAt + SB_WTIME_HI, (int) (t >> 32));
            if (metaCsum) {
                Le.put32(b, sbAt + SB_CHECKSUM, Crc32c.update(~0, b, sbAt, SB_CHECKSUM));
            }
        }
        reset();
    }

    void reset() {
        dirtyDescs.clear();
        dirtyBlockBitmaps.clear();
        dirtyInodeBitmaps.clear();
        checkedBlockBitmaps.clear();
        checkedInodeBitmaps.clear();
        sbDirty = false;
    }

    // ---- bits ----

    static boolean bit(byte[] b, int i) {
        return (b[i >>> 3] & (1 << (i & 7))) != 0;
    }

    static void setBit(byte[] b, int i) {
        b[i >>> 3] |= (byte) (1 << (i & 7));
    }

    static void clearBit(byte[] b, int i) {
        b[i >>> 3] &= (byte) ~(1 << (i & 7));
    }

    static void setRange(byte[] b, int from, int to) {
        for (int i = Math.max(0, from); i < to; i++) {
            setBit(b, i);
        }
    }

    static long count(byte[] b, int from, int to) {
        long n = 0;
        for (int i = from; i < to; i++) {
            if (bit(b, i)) {
                n++;
            }
        }
        return n;
    }

    /** The first clear bit in {@code [from, end)}, or -1. */
    static int nextClear(byte[] b, int from, int end) {
        int i = from;
        while (i < end) {
            if ((i & 7) == 0 && i + 8 <= end && b[i >>> 3] == (byte) 0xff) {
                i += 8;
                continue;
            }
            if (!bit(b, i)) {
                return i;
            }
            i++;
        }
        return -1;
    }

    /** The first set bit in {@code [from, end)}, or {@code end}. */
    static int nextSet(byte[] b, int from, int end) {
        int i = from;
        while (i < end) {
            if ((i & 7) == 0 && i + 8 <= end && b[i >>> 3] == 0) {
                i += 8;
                continue;
            }
            if (bit(b, i)) {
                return i;
            }
            i++;
        }
        return end;
    }
}
