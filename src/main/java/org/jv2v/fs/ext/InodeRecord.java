package org.jv2v.fs.ext;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;

/**
 * One inode being edited: a copy of its bytes in the inode table, field accessors, and
 * {@link #store} which recomputes the checksum and hands the bytes back to the edit. Offsets
 * within the inode.
 */
final class InodeRecord {
    static final int S_IFMT = 0xf000;
    static final int S_IFREG = 0x8000;
    static final int S_IFDIR = 0x4000;
    static final int S_IFLNK = 0xa000;
    // i_flags beyond those the reader knows
    static final int FL_IMMUTABLE = 0x10;
    static final int FL_APPEND = 0x20;
    static final int FL_HUGE_FILE = 0x40000;
    static final int FL_VERITY = 0x100000;

    final long number;
    final long block;
    final int at;
    final byte[] raw;
    private final ExtFileSystem fs;

    private InodeRecord(ExtFileSystem fs, long number, long block, int at, byte[] raw) {
        this.fs = fs;
        this.number = number;
        this.block = block;
        this.at = at;
        this.raw = raw;
    }

    /** Where inode {@code ino} lives: {block, offset within it}. */
    static long[] location(ExtFileSystem fs, long ino) {
        Superblock sb = fs.superblock();
        if (ino < 1 || ino > sb.inodesCount()) {
            throw fs.bad("inode number", Superblock.OFFSET, ino + " is not within [1, " + sb.inodesCount() + "]");
        }
        long g = (ino - 1) / sb.inodesPerGroup();
        long byteInTable = ((ino - 1) % sb.inodesPerGroup()) * fs.inodeSize();
        long blk = fs.group((int) g).inodeTable() + byteInTable / fs.blockSize();
        fs.blockOffset(blk, "inode table of group " + g, Superblock.OFFSET);
        return new long[] {blk, byteInTable % fs.blockSize()};
    }

    /** Inode {@code ino} as this edit sees it, its checksum checked (metadata_csum). */
    static InodeRecord load(ExtFileSystem fs, MetaStore meta, long ino) throws IOException {
        long[] loc = location(fs, ino);
        int isz = fs.inodeSize();
        byte[] raw = new byte[isz];
        System.arraycopy(meta.read(loc[0]), (int) loc[1], raw, 0, isz);
        InodeRecord r = new InodeRecord(fs, ino, loc[0], (int) loc[1], raw);
        if (fs.metadataCsum()) {
            int c = ExtFileSystem.inodeChecksum(r.seed(), raw, r.extraIsize());
            int stored = Le.u16(raw, 0x7c);
            int mask = 0xffff;
            if (r.hasChecksumHi()) {
                stored |= Le.u16(raw, 0x82) << 16;
                mask = -1;
            }
            if ((c & mask) != stored) {
                throw fs.bad("inode " + ino + " checksum", loc[0] * fs.blockSize() + loc[1] + 0x7c,
                        String.format("stored 0x%08x, computed 0x%08x", stored, c & mask));
            }
        }
        return r;
    }

    /** A newly allocated inode: all zeros but for i_extra_isize and i_generation. */
    static InodeRecord fresh(ExtFileSystem fs, long ino, int extraIsize, int generation) {
        long[] loc = location(fs, ino);
        byte[] raw = new byte[fs.inodeSize()];
        InodeRecord r = new InodeRecord(fs, ino, loc[0], (int) loc[1], raw);
        if (raw.length > Inode.GOOD_OLD_SIZE) {
            Le.put16(raw, 0x80, extraIsize);                         // 0x80 i_extra_isize
        }
        Le.put32(raw, 0x64, generation);                             // 0x64 i_generation
        return r;
    }

    /** The reader's view of these bytes (for its xattr and mapping code). */
    Inode asInode() {
        return Inode.read(number, block * fs.blockSize() + at, ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN));
    }

    /** Offset of this inode on the device, for messages. */
    long diskOffset() {
        return block * fs.blockSize() + at;
    }

    /** The seed of this inode's checksums and of its extent and directory blocks'. */
    int seed() {
        int c = Crc32c.update(fs.csumSeed(), Le.le32(number), 0, 4);
        return Crc32c.update(c, raw, 0x64, 4);                       // 0x64 i_generation
    }

    private boolean hasChecksumHi() {
        return raw.length > Inode.GOOD_OLD_SIZE && extraIsize() >= 4;
    }

    /** Recomputes the checksum and puts the bytes into the edit's copy of the inode table block. */
    void store(MetaStore meta) throws IOException {
        if (fs.metadataCsum()) {
            int c = ExtFileSystem.inodeChecksum(seed(), raw, extraIsize());
            Le.put16(raw, 0x7c, c);                                  // 0x7c l_i_checksum_lo
            if (hasChecksumHi()) {
                Le.put16(raw, 0x82, c >>> 16);                       // 0x82 i_checksum_hi
            }
        }
        System.arraycopy(raw, 0, meta.edit(block), at, raw.length);
    }

    int mode() {
        return Le.u16(raw, 0x00);                                    // 0x00 i_mode
    }

    void setMode(int mode) {
        Le.put16(raw, 0x00, mode);
    }

    boolean isDir() {
        return (mode() & S_IFMT) == S_IFDIR;
    }

    boolean isRegular() {
        return (mode() & S_IFMT) == S_IFREG;
    }

    boolean isSymlink() {
        return (mode() & S_IFMT) == S_IFLNK;
    }

    void setOwner(int uid, int gid) {
        Le.put16(raw, 0x02, uid);                                    // 0x02 i_uid
        Le.put16(raw, 0x78, uid >>> 16);                             // 0x78 l_i_uid_high
        Le.put16(raw, 0x18, gid);                                    // 0x18 i_gid
        Le.put16(raw, 0x7a, gid >>> 16);                             // 0x7a l_i_gid_high
    }

    long size() {
        return Le.u32(raw, 0x04) | Le.u32(raw, 0x6c) << 32;          // 0x04 i_size_lo, 0x6c i_size_high
    }

    void setSize(long size) {
        Le.put32(raw, 0x04, size);
        Le.put32(raw, 0x6c, size >>> 32);
    }

    int links() {
        return Le.u16(raw, 0x1a);                                    // 0x1a i_links_count
    }

    void setLinks(int n) {
        Le.put16(raw, 0x1a, n);
    }

    int flags() {
        return Le.i32(raw, 0x20);                                    // 0x20 i_flags
    }

    boolean has(int flag) {
        return (flags() & flag) != 0;
    }

    void setFlags(int flags) {
        Le.put32(raw, 0x20, flags);
    }

    long fileAcl() {
        return Le.u32(raw, 0x68) | (long) Le.u16(raw, 0x76) << 32;   // 0x68 i_file_acl_lo, 0x76 _high
    }

    void setFileAcl(long block) {
        Le.put32(raw, 0x68, block);
        Le.put16(raw, 0x76, (int) (block >>> 32));
    }

    int extraIsize() {
        return raw.length > Inode.GOOD_OLD_SIZE ? Le.u16(raw, 0x80) : 0;
    }

    /** i_blocks in filesystem blocks, whatever its unit on disk. */
    long blocks() {
        long n = Le.u32(raw, 0x1c);                                  // 0x1c i_blocks_lo
        if (fs.superblock().hasRoCompat(Superblock.RO_COMPAT_HUGE_FILE)) {
            n |= (long) Le.u16(raw, 0x74) << 32;                     // 0x74 l_i_blocks_high
            if (has(FL_HUGE_FILE)) {
                return n;
            }
        }
        return n / (fs.blockSize() / 512);
    }

    /** Sets i_blocks to {@code fsBlocks} blocks: in 512-byte units, as huge_file's block units only if needed. */
    void setBlocks(long fsBlocks) {
        long sectors = fsBlocks * (fs.blockSize() / 512);
        boolean huge = fs.superblock().hasRoCompat(Superblock.RO_COMPAT_HUGE_FILE);
        if (sectors <= 0xffffffffL || (huge && sectors < 1L << 48)) {
            Le.put32(raw, 0x1c, sectors);
            Le.put16(raw, 0x74, huge ? (int) (sectors >>> 32) : 0);
            setFlags(flags() & ~FL_HUGE_FILE);
        } else if (huge && fsBlocks < 1L << 48) {
            Le.put32(raw, 0x1c, fsBlocks);
            Le.put16(raw, 0x74, (int) (fsBlocks >>> 32));
            setFlags(flags() | FL_HUGE_FILE);
        } else {
            throw new IllegalArgumentException(fsBlocks + " blocks do not fit i_blocks");
        }
    }

    byte[] iblock() {
        byte[] b = new byte[Inode.IBLOCK_SIZE];
        System.arraycopy(raw, 0x28, b, 0, b.length);                 // 0x28 i_block[15]
        return b;
    }

    void setIblock(byte[] b) {
        if (b.length != Inode.IBLOCK_SIZE) {
            throw new IllegalArgumentException("i_block of " + b.length + " bytes");
        }
        System.arraycopy(b, 0, raw, 0x28, b.length);
    }

    /** The timestamps: base seconds field and the extra field (epoch bits and nanoseconds) when the inode has room. */
    enum Time {
        ATIME(0x08, 0x8c), CTIME(0x0c, 0x84), MTIME(0x10, 0x88), CRTIME(0x90, 0x94);

        final int base;
        final int extra;

        Time(int base, int extra) {
            this.base = base;
            this.extra = extra;
        }
    }

    private boolean covers(int offset, int size) {
        return raw.length > Inode.GOOD_OLD_SIZE && Inode.GOOD_OLD_SIZE + extraIsize() >= offset + size;
    }

    void setTime(Time t, Instant when) {
        if (t.base >= Inode.GOOD_OLD_SIZE && !covers(t.base, 4)) {
            return; // no crtime in a small inode
        }
        long sec = when.getEpochSecond();
        Le.put32(raw, t.base, sec);
        if (covers(t.extra, 4)) {
            long epoch = ((sec - (int) sec) >> 32) & 3;
            Le.put32(raw, t.extra, epoch | (long) when.getNano() << 2);
        }
    }

    void setDtime(Instant when) {
        Le.put32(raw, 0x14, when.getEpochSecond());                  // 0x14 i_dtime
    }
}
