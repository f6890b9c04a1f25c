package org.jv2v.fs.xfs;

import org.jv2v.Jv2vException;
import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.EditPath;
import org.jv2v.fs.EditRefusals;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.WritableFileSystem;
import org.jv2v.fs.XattrName;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * An XFS filesystem (v5, and v4 with version 2 inodes) opened for the edits a conversion makes,
 * done directly on its structures: the log is not written (the filesystem is offline and was
 * cleanly unmounted, which {@link #open} insists on), metadata LSNs of changed blocks are kept and
 * new blocks get LSN 0, so nothing is ever ahead of the log.
 *
 * <p>Each edit is all-or-nothing as far as metadata goes: the changed sectors and blocks are held
 * in memory and written together at its end, every v5 CRC recomputed; an edit that fails (no
 * space, a corrupt or unsupported structure found on the way) leaves the metadata as it was. File
 * data goes straight to newly allocated blocks. Every counter is kept exact: AGF (free blocks,
 * longest free extent, free list, B+tree blocks and heights), AGI (inodes, free inodes, inode
 * B+tree blocks) and the superblock's icount, ifree and fdblocks, which the kernel trusts after a
 * clean unmount even with lazy counters.
 *
 * <p>What each edit keeps and changes:
 * <ul>
 * <li>{@link #rewrite}: inode number, owner, mode, flags, all timestamps, link count and the
 *     attribute fork (SELinux labels) are kept. New blocks are allocated before the old ones are
 *     freed when there is room for both (contiguous in the inode's AG if possible), else the old
 *     ones are freed first. A file with the reflink flag whose blocks are shared with another file
 *     is refused (the refcount B+tree is never changed).</li>
 * <li>{@link #create}, {@link #symlink}, {@link #mkdir}: new inodes (from a chunk with a free
 *     inode in the parent's AG, else a new chunk) get the current time, a random generation and
 *     the filesystem's bigtime/nrext64 inode flags. {@link #create(String, byte[], int, int, int, Map)}
 *     stores extended attributes (the SELinux label) in the inode as the kernel does for a new
 *     file; symbolic links and directories get none. The
 *     parent's mtime and ctime become now. Symbolic links that fit the inode are stored in it,
 *     longer ones (up to 1024 bytes) in blocks with their v5 header.</li>
 * <li>{@link #unlink}: the name goes; at the last link the data and attribute fork blocks are
 *     freed and the inode is cleared and marked free.</li>
 * </ul>
 * Directory forms: see {@link DirEdit}. Refused when opening: a log that needs replay, a filesystem
 * marked as needing repair, an external log, a realtime section, the reverse-mapping B+tree
 * (rmapbt), parent pointers, ASCII case-insensitive names, version 1 inodes, and any feature this
 * editor does not know. With quota
 * accounting on, the quota-checked flags are cleared so that the kernel recounts usage at mount.
 */
public final class XfsWritableFileSystem implements WritableFileSystem {
    /** XFS_SYMLINK_MAXLEN. */
    static final int MAX_SYMLINK = 1024;
    static final int SYMLINK_HDR = 0x38;
    static final int SYMLINK_MAGIC = 0x58534c4d; // "XSLM"

    static final long INCOMPAT_EDITABLE = Superblock.INCOMPAT_FTYPE | Superblock.INCOMPAT_SPINODES
            | Superblock.INCOMPAT_META_UUID | Superblock.INCOMPAT_BIGTIME | Superblock.INCOMPAT_NREXT64
            | Superblock.INCOMPAT_EXCHRANGE;
    static final long RO_COMPAT_RMAPBT = 0x2;
    static final long RO_COMPAT_REFLINK = 0x4;
    static final long RO_COMPAT_EDITABLE = Ialloc.RO_COMPAT_FINOBT | RO_COMPAT_REFLINK | Ialloc.RO_COMPAT_INOBTCNT;
    private static final String[] INCOMPAT_NAMES = {"ftype", "sparse", "meta_uuid", "bigtime", "needsrepair",
        "nrext64", "exchange", "parent", "metadir", "zoned"};
    private static final String[] RO_COMPAT_NAMES = {"finobt", "rmapbt", "reflink", "inobtcount"};

    static final int VERSION_NLINK = 0x0020;
    static final int VERSION_BORG = 0x4000;
    static final long FEATURES2_PARENT = 0x10;
    // quota flags: accounting on, and usage checked
    static final int QUOTA_ACCT = 0x0001 | 0x0008 | 0x0040;
    static final int QUOTA_CHKD_V5 = 0x0004 | 0x0100 | 0x0400;
    static final int QUOTA_CHKD_V4 = QUOTA_CHKD_V5 | 0x0020;

    private final XfsFileSystem fs;
    private final Volume v;
    private final Superblock sb;
    private final Clock clock;
    private final java.util.Random generations;

    private XfsWritableFileSystem(XfsFileSystem fs, Clock clock, java.util.Random generations) {
        this.fs = fs;
        this.v = fs.volume();
        this.sb = v.sb;
        this.clock = clock;
        this.generations = generations;
    }

    /**
     * Opens {@code device} for editing, refusing (with one line saying why and what to do) a
     * filesystem whose log needs replay, one marked as needing repair, and features this editor
     * cannot keep consistent.
     */
    public static XfsWritableFileSystem open(BlockDevice device) throws IOException {
        return open(device, org.jv2v.fs.EditClock.clock(), org.jv2v.fs.EditClock.generations());
    }

    static XfsWritableFileSystem open(BlockDevice device, Clock clock) throws IOException {
        return open(device, clock, new java.util.Random());
    }

    private static XfsWritableFileSystem open(BlockDevice device, Clock clock, java.util.Random generations)
            throws IOException {
        if (!device.isWritable()) {
            throw new Jv2vException(device.describe() + ": the device is read-only, XFS cannot be edited on it");
        }
        XfsFileSystem fs = XfsFileSystem.open(device);
        if (fs.volume().sb.logStart() == 0) {
            throw new Jv2vException(device.describe() + ": the XFS filesystem keeps its log on another device, whose"
                    + " state jv2v cannot check; editing it is not supported");
        }
        if (fs.volume().sb.rtBlocks() != 0) {
            throw new Jv2vException(device.describe() + ": the XFS filesystem has a realtime section; editing it is"
                    + " not supported");
        }
        XfsLogState log = fs.logState();
        if (!log.clean()) {
            throw EditRefusals.notShutDownCleanly(device, "XFS", log.detail(), "xfs_repair");
        }
        if (fs.needsRepair()) {
            throw new Jv2vException(device.describe() + ": the XFS filesystem is marked as needing repair; run "
                    + "xfs_repair on it (on a copy) or boot the guest once on VMware");
        }
        String refused = refusedFeatures(fs.volume().sb);
        if (refused != null) {
            throw new Jv2vException(device.describe() + ": editing XFS with " + refused
                    + " is not supported (handled: crc, ftype, finobt, sparse inodes, reflink, bigtime, inobtcount,"
                    + " nrext64, lazy counters, v4 with attr2)");
        }
        return new XfsWritableFileSystem(fs, clock, generations);
    }

    /** The features that stop editing, named as mkfs.xfs names them, or null. */
    static String refusedFeatures(Superblock sb) {
        StringJoiner out = new StringJoiner(", ");
        if ((sb.versionNum() & VERSION_BORG) != 0) {
            out.add("ascii-ci (case-insensitive names)");
        }
        if (sb.isV5()) {
            long incompat = sb.featuresIncompat() & ~INCOMPAT_EDITABLE & ~Superblock.INCOMPAT_NEEDSREPAIR;
            EditRefusals.featureNames(incompat, INCOMPAT_NAMES, "incompat").forEach(out::add);
            long ro = sb.featuresRoCompat() & ~RO_COMPAT_EDITABLE;
            EditRefusals.featureNames(ro, RO_COMPAT_NAMES, "ro_compat").forEach(out::add);
            if (sb.featuresLogIncompat() != 0) {
                out.add("log_incompat 0x" + Long.toHexString(sb.featuresLogIncompat()));
            }
        } else {
            if ((sb.versionNum() & VERSION_NLINK) == 0) {
                out.add("version 1 inodes");
            }
            if ((sb.versionNum() & Superblock.VERSION_MOREBITS) != 0 && (sb.features2() & FEATURES2_PARENT) != 0) {
                out.add("parent pointers");
            }
        }
        return out.length() == 0 ? null : out.toString();
    }

    // ---- reading: the reader, after every edit looking at fresh metadata ----

    @Override
    public String type() {
        return fs.type();
    }

    @Override
    public Optional<String> label() {
        return fs.label();
    }

    @Override
    public Optional<String> uuid() {
        return fs.uuid();
    }

    @Override
    public FileStat stat(String path) throws IOException {
        return fs.stat(path);
    }

    @Override
    public List<DirEntry> list(String dir) throws IOException {
        return fs.list(dir);
    }

    @Override
    public int read(String file, ByteBuffer dst, long position) throws IOException {
        return fs.read(file, dst, position);
    }

    @Override
    public byte[] readAll(String file, int maxBytes) throws IOException {
        return fs.readAll(file, maxBytes);
    }

    @Override
    public String readlink(String link) throws IOException {
        return fs.readlink(link);
    }

    @Override
    public Map<String, byte[]> xattrs(String path) throws IOException {
        return fs.xattrs(path);
    }

    @Override
    public List<ByteRange> usedRanges() throws IOException {
        return fs.usedRanges();
    }

    @Override
    public SpaceUsage space() throws IOException {
        return fs.space();
    }

    // ---- edits ----

    @FunctionalInterface
    private interface Body {
        void run(Edit e) throws IOException;
    }

    /** Runs one edit: everything it changed is written at its end, or nothing if it fails. */
    private void edit(Body body) throws IOException {
        Edit e = new Edit(v, clock.instant(), generations);
        try {
            body.run(e);
            clearQuotaChecked(e);
            e.commit();
        } catch (IOException | RuntimeException | Error x) {
            e.t.abort();
            throw x;
        } finally {
            fs.invalidate();
        }
    }

    private void clearQuotaChecked(Edit e) throws IOException {
        if ((sb.qflags() & QUOTA_ACCT) == 0) {
            return;
        }
        ByteBuffer s = e.t.get(0, sb.sectSize(), Superblock.CRC_OFFSET, "superblock");
        int q = Superblock.u16(s, 0xb0);
        int cleared = q & ~(sb.isV5() ? QUOTA_CHKD_V5 : QUOTA_CHKD_V4);
        if (cleared != q) {
            s.putShort(0xb0, (short) cleared);
            e.t.dirty(0);
        }
    }

    @Override
    public void rewrite(String path, byte[] content) throws IOException {
        Inode i = fs.resolveInode(path, true);
        if (i.kind() != FileKind.REGULAR) {
            throw new FileSystemException(path, null, "not a regular file");
        }
        if (i.isRealtime()) {
            throw new Edit(v, clock.instant(), generations).unsupported(path + ": a file on the realtime device");
        }
        try {
            edit(e -> rewrite(e, i.ino(), content, true));
        } catch (Alloc.NoSpace first) {
            // no room for old and new side by side: free the old blocks first
            edit(e -> rewrite(e, i.ino(), content, false));
        }
    }

    private void rewrite(Edit e, long ino, byte[] content, boolean allocateFirst) throws IOException {
        InodeEdit ie = InodeEdit.load(v, e.t, ino);
        BlockMap.Mapping old = BlockMap.read(v, e.t, ie, false);
        checkNotShared(e, ie, old);
        long blocks = blocksFor(content.length);
        List<long[]> fresh;
        if (allocateFirst) {
            fresh = e.allocData(e.agOfIno(ino), blocks);
            freeExtents(e, old);
        } else {
            freeExtents(e, old);
            fresh = e.allocData(e.agOfIno(ino), blocks);
        }
        writeContent(fresh, content);
        ie.nblocks(ie.nblocks() - old.mappedBlocks() + blocks);
        BlockMap.writeData(e, ie, extentsOf(fresh), old);
        ie.size(content.length);
        ie.dirty();
    }

    private long blocksFor(long bytes) {
        return (bytes + v.blockSize - 1) / v.blockSize;
    }

    private static List<BmapExtent> extentsOf(List<long[]> runs) {
        List<BmapExtent> out = new ArrayList<>();
        long fileBlock = 0;
        for (long[] r : runs) {
            out.add(new BmapExtent(fileBlock, r[0], r[1], false));
            fileBlock += r[1];
        }
        return out;
    }

    private void checkNotShared(Edit e, InodeEdit ie, BlockMap.Mapping m) throws IOException {
        if ((sb.featuresRoCompat() & RO_COMPAT_REFLINK) == 0 || (ie.flags2() & InodeEdit.FLAG2_REFLINK) == 0) {
            return;
        }
        for (BmapExtent x : m.extents()) {
            if (e.alloc.shared(e.agOfFsb(x.fsBlock()), e.agbnoOfFsb(x.fsBlock()), x.blockCount())) {
                throw e.unsupported(ie.describe() + " shares blocks with another file (a reflink copy): changing it");
            }
        }
    }

    private static void freeExtents(Edit e, BlockMap.Mapping m) throws IOException {
        for (BmapExtent x : m.extents()) {
            e.freeFsb(x.fsBlock(), x.blockCount());
        }
    }

    /** Writes file data to its new blocks, zeroing the rest of the last block. */
    private void writeContent(List<long[]> runs, byte[] content) throws IOException {
        long pos = 0;
        for (long[] r : runs) {
            long off = v.fsbOffset(r[0], "new data extent", 0);
            long bytes = r[1] * v.blockSize;
            long n = Math.min(bytes, content.length - pos);
            for (long done = 0; done < n; ) {
                int chunk = (int) Math.min(n - done, 1 << 20);
                v.device.write(ByteBuffer.wrap(content, (int) (pos + done), chunk), off + done);
                done += chunk;
            }
            if (n < bytes) {
                v.device.write(ByteBuffer.allocate((int) (bytes - n)), off + n);
            }
            pos += n;
        }
    }

    // ---- new files ----

    /** The parent directory's inode, after checking that the name is free. */
    private Inode parentFor(EditPath t) throws IOException {
        Inode parent = fs.resolveInode(t.parent(), true);
        if (parent.kind() != FileKind.DIRECTORY) {
            throw new NotDirectoryException(t.parent());
        }
        if (fs.entry(parent, t.name()) != null) {
            throw new FileAlreadyExistsException(t.path());
        }
        return parent;
    }

    /** Initialises a newly allocated inode's core. */
    private InodeEdit initInode(Edit e, long ino, int mode, int uid, int gid, long nlink, int format) {
        InodeEdit ie = InodeEdit.fresh(v, e.t, ino);
        ByteBuffer b = ie.b;
        b.putShort(0x00, (short) Inode.MAGIC);
        b.putShort(InodeEdit.OFF_MODE, (short) mode);
        b.put(InodeEdit.OFF_VERSION, (byte) (sb.isV5() ? 3 : 2));
        b.put(InodeEdit.OFF_FORMAT, (byte) format);
        b.putInt(InodeEdit.OFF_UID, uid);
        b.putInt(InodeEdit.OFF_GID, gid);
        b.putInt(InodeEdit.OFF_NLINK, (int) nlink);
        b.put(InodeEdit.OFF_AFORMAT, (byte) Inode.FMT_EXTENTS);
        b.putInt(InodeEdit.OFF_GEN, e.generations.nextInt());
        b.putInt(InodeEdit.OFF_NEXT_UNLINKED, (int) InodeEdit.NULL_AGINO);
        if (sb.isV5()) {
            long flags2 = (sb.hasBigTime() ? Inode.FLAG2_BIGTIME : 0) | (sb.hasNrext64() ? Inode.FLAG2_NREXT64 : 0);
            b.putLong(InodeEdit.OFF_FLAGS2, flags2);
            b.putLong(InodeEdit.OFF_CHANGECOUNT, 1);
            b.putLong(InodeEdit.OFF_INO, ino);
            AgBtree.putUuid(b, InodeEdit.OFF_UUID, sb.metadataUuid());
            ie.setTime(InodeEdit.OFF_CRTIME, e.now);
        }
        ie.setTime(InodeEdit.OFF_ATIME, e.now);
        ie.setTime(InodeEdit.OFF_MTIME, e.now);
        ie.setTime(InodeEdit.OFF_CTIME, e.now);
        return ie;
    }

    private void link(Edit e, Inode parent, EditPath t, long ino, int ftype, boolean isDir) throws IOException {
        InodeEdit pe = InodeEdit.load(v, e.t, parent.ino());
        new DirEdit(e).add(pe, t.nameBytes(), ino, ftype);
        if (isDir) {
            pe.nlink(pe.nlink() + 1);
        }
        pe.touchModified(e.now);
        pe.dirty();
    }

    /**
     * Creates a regular file with extended attributes (above all "security.selinux"), stored in
     * the inode as the kernel stores a few small ones (a shortform attribute fork). Names need
     * their namespace prefix: "security.", "trusted." or "user."; names and values of up to 255
     * bytes that fit the inode together. Anything else is refused before the filesystem changes.
     */
    @Override
    public void create(String path, byte[] content, int mode, int uid, int gid, Map<String, byte[]> xattrs)
            throws IOException {
        EditPath t = EditPath.of(path);
        byte[] attrFork = shortformAttrs(path, xattrs);
        Inode parent = parentFor(t);
        edit(e -> {
            long ino = e.ialloc.allocate(e.agOfIno(parent.ino()));
            InodeEdit ie = initInode(e, ino, 0100000 | (mode & 07777), uid, gid, 1, Inode.FMT_EXTENTS);
            long blocks = blocksFor(content.length);
            List<long[]> runs = e.allocData(e.agOfIno(ino), blocks);
            if (attrFork != null) {
                putAttrFork(e, ie, attrFork, runs.size(), path);
                markAttributesUsed(e);
            }
            writeContent(runs, content);
            ie.nblocks(blocks);
            BlockMap.writeData(e, ie, extentsOf(runs), new BlockMap.Mapping(List.of(), List.of()));
            ie.size(content.length);
            ie.dirty();
            link(e, parent, t, ino, DirEdit.FT_REG, false);
        });
    }

    /** XFS_BMDR_SPACE_CALC: bytes of a block map B+tree root in the inode with {@code recs} records. */
    private static int bmdrSpace(int recs) {
        return 4 + recs * 16;
    }

    /** The kernel's minimum records of a data (XFS_MINDBTPTRS) and attribute (XFS_MINABTPTRS) fork root. */
    private static final int MIN_DATA_BTREE_PTRS = 3;
    private static final int MIN_ATTR_BTREE_PTRS = 2;
    static final int ATTRBIT = 0x0010;

    /**
     * The shortform attribute fork for {@code xattrs}: header (0x0 total size, 0x2 count), then per
     * entry name length, value length, namespace flags, name and value. Null when there are none.
     */
    private byte[] shortformAttrs(String path, Map<String, byte[]> xattrs) {
        if (xattrs.isEmpty()) {
            return null;
        }
        if (!sb.hasAttr2()) {
            throw new Jv2vException(path + ": giving a new file extended attributes on an XFS v4 filesystem"
                    + " without attr2 is not supported");
        }
        var out = new java.io.ByteArrayOutputStream();
        out.write(0);
        out.write(0);
        out.write(xattrs.size());
        out.write(0);
        if (xattrs.size() > 255) {
            throw new Jv2vException(path + ": " + xattrs.size() + " extended attributes for a new file (at most 255)");
        }
        for (var x : new java.util.TreeMap<>(xattrs).entrySet()) {
            String full = x.getKey();
            XattrName xn = XattrName.parse(full).orElseThrow(() -> new Jv2vException(path + ": extended attribute \""
                    + full + "\" is not in a namespace this editor stores (security., trusted., user.)"));
            int flags = switch (xn.namespace()) {
                case SECURITY -> Attributes.FLAG_SECURE;
                case TRUSTED -> Attributes.FLAG_ROOT;
                case USER -> 0;
            };
            byte[] n = xn.name();
            byte[] val = x.getValue();
            if (n.length == 0 || n.length > 255 || val.length > 255) {
                throw new Jv2vException(path + ": extended attribute \"" + full + "\" with a " + n.length
                        + "-byte name and a " + val.length + "-byte value: only names of 1..255 and values of"
                        + " up to 255 bytes are stored in the inode by this editor");
            }
            out.write(n.length);
            out.write(val.length);
            out.write(flags);
            out.writeBytes(n);
            out.writeBytes(val);
        }
        byte[] fork = out.toByteArray();
        fork[0] = (byte) (fork.length >> 8);
        fork[1] = (byte) fork.length;
        return fork;
    }

    /**
     * On v4, the superblock says whether any file has attributes (XFS_SB_VERSION_ATTRBIT, 0x64
     * versionnum); the first one sets it in the primary superblock, as the kernel does.
     */
    private void markAttributesUsed(Edit e) throws IOException {
        if (sb.isV5()) {
            return;
        }
        ByteBuffer s = e.t.get(0, sb.sectSize(), Superblock.CRC_OFFSET, "superblock");
        int version = Superblock.u16(s, 0x64);
        if ((version & ATTRBIT) == 0) {
            s.putShort(0x64, (short) (version | ATTRBIT));
            e.t.dirty(0);
        }
    }

    /**
     * Gives a new inode its shortform attribute fork where the kernel puts a new file's security
     * label (xfs_default_attroffset: 0xc4 bytes into a 512-byte inode's literal area, or the room
     * of an attribute fork B+tree root from the end of a 256-byte one). Attributes too big for that
     * get the most room the data fork can spare, as xfs_attr_shortform_bytesfit gives.
     */
    private void putAttrFork(Edit e, InodeEdit ie, byte[] fork, int dataExtents, String path) {
        int litino = ie.literalSize();
        int defaultOffset = sb.inodeSize() == 256 ? litino - bmdrSpace(MIN_ATTR_BTREE_PTRS)
                : bmdrSpace(6 * MIN_ATTR_BTREE_PTRS);
        int forkOff = defaultOffset >> 3;
        if (litino - forkOff * 8 < fork.length || dataExtents * BmapExtent.SIZE > forkOff * 8) {
            int dsize = Math.max(dataExtents * BmapExtent.SIZE, bmdrSpace(MIN_DATA_BTREE_PTRS));
            int minForkOff = ((dsize + 7) & ~7) >> 3;
            int maxForkOff = (litino - bmdrSpace(MIN_ATTR_BTREE_PTRS)) >> 3;
            int offset = (litino - fork.length) >> 3;
            if (offset >= minForkOff) {
                forkOff = Math.min(offset, maxForkOff);
            } else {
                // too many data extents to sit beside the attributes: the data fork becomes a B+tree root
                forkOff = ((bmdrSpace(MIN_DATA_BTREE_PTRS) + 7) & ~7) >> 3;
            }
            if (litino - forkOff * 8 < fork.length) {
                throw e.unsupported(path + ": " + fork.length + " bytes of extended attributes, more than the inode"
                        + " holds (" + (litino - forkOff * 8) + "), for a new file");
            }
        }
        ie.b.put(InodeEdit.OFF_FORKOFF, (byte) forkOff);
        ie.b.put(InodeEdit.OFF_AFORMAT, (byte) Inode.FMT_LOCAL);
        ie.b.put(ie.attrForkOffset(), fork);
    }

    @Override
    public void symlink(String path, String target, int uid, int gid) throws IOException {
        EditPath t = EditPath.of(path);
        byte[] bytes = target.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0 || bytes.length > MAX_SYMLINK) {
            throw new IllegalArgumentException("symbolic link target of " + bytes.length + " bytes (1.." + MAX_SYMLINK
                    + " allowed): " + path);
        }
        Inode parent = parentFor(t);
        edit(e -> {
            long ino = e.ialloc.allocate(e.agOfIno(parent.ino()));
            InodeEdit ie = initInode(e, ino, 0120777, uid, gid, 1, Inode.FMT_LOCAL);
            if (bytes.length <= ie.dataForkSize()) {
                ie.b.put(ie.dataForkOffset(), bytes);
            } else {
                int hdr = sb.isV5() ? SYMLINK_HDR : 0;
                int per = v.blockSize - hdr;
                int blocks = (bytes.length + per - 1) / per;
                long fsb = e.allocContig(e.agOfIno(ino), blocks);
                for (int k = 0, done = 0; k < blocks; k++) {
                    long off = v.fsbOffset(fsb + k, "new symbolic link block", 0);
                    ByteBuffer b = e.t.create(off, v.blockSize, 0x0c);
                    int n = Math.min(per, bytes.length - done);
                    if (hdr > 0) {
                        b.putInt(0x00, SYMLINK_MAGIC);
                        b.putInt(0x04, done);
                        b.putInt(0x08, n);
                        AgBtree.putUuid(b, 0x10, sb.metadataUuid());
                        b.putLong(0x20, ino);
                        b.putLong(0x28, off >> 9);
                    }
                    b.put(hdr, bytes, done, n);
                    done += n;
                }
                ie.nblocks(blocks);
                BlockMap.writeData(e, ie, List.of(new BmapExtent(0, fsb, blocks, false)),
                        new BlockMap.Mapping(List.of(), List.of()));
            }
            ie.size(bytes.length);
            ie.dirty();
            link(e, parent, t, ino, DirEdit.FT_SYMLINK, false);
        });
    }

    @Override
    public void mkdir(String path, int mode, int uid, int gid) throws IOException {
        EditPath t = EditPath.of(path);
        Inode parent = parentFor(t);
        edit(e -> {
            long ino = e.ialloc.allocate(e.agOfIno(parent.ino()));
            InodeEdit ie = initInode(e, ino, 0040000 | (mode & 07777), uid, gid, 2, Inode.FMT_LOCAL);
            new DirEdit(e).initShortform(ie, parent.ino());
            ie.dirty();
            link(e, parent, t, ino, DirEdit.FT_DIR, true);
        });
    }

    @Override
    public void unlink(String path) throws IOException {
        EditPath t = EditPath.of(path);
        Inode parent = fs.resolveInode(t.parent(), true);
        if (parent.kind() != FileKind.DIRECTORY) {
            throw new NotDirectoryException(t.parent());
        }
        Directories.Entry entry = fs.entry(parent, t.name());
        if (entry == null) {
            throw new NoSuchFileException(path);
        }
        Inode child = fs.inode(entry.ino());
        if (child.kind() == FileKind.DIRECTORY) {
            throw new FileSystemException(path, null, "is a directory");
        }
        edit(e -> {
            InodeEdit pe = InodeEdit.load(v, e.t, parent.ino());
            long removed = new DirEdit(e).remove(pe, t.nameBytes());
            if (removed != entry.ino()) {
                throw v.corrupt("directory " + pe.describe(), pe.offset, "entry \"" + t.path()
                        + "\" names inode " + removed + " in the data blocks but " + entry.ino() + " on lookup");
            }
            pe.touchModified(e.now);
            pe.dirty();
            InodeEdit ce = InodeEdit.load(v, e.t, entry.ino());
            if (ce.nlink() > 1) {
                ce.nlink(ce.nlink() - 1);
                ce.touchChanged(e.now);
                ce.dirty();
                return;
            }
            release(e, ce);
        });
    }

    /** Frees an inode whose last name went: its blocks, then the inode itself. */
    private void release(Edit e, InodeEdit ce) throws IOException {
        if (ce.format() == Inode.FMT_EXTENTS || ce.format() == Inode.FMT_BTREE) {
            BlockMap.Mapping data = BlockMap.read(v, e.t, ce, false);
            checkNotShared(e, ce, data);
            freeExtents(e, data);
            for (long fsb : data.btreeBlocks()) {
                e.freeFsb(fsb, 1);
            }
        }
        if (ce.hasAttrFork() && (ce.aformat() == Inode.FMT_EXTENTS || ce.aformat() == Inode.FMT_BTREE)) {
            BlockMap.Mapping attr = BlockMap.read(v, e.t, ce, true);
            freeExtents(e, attr);
            for (long fsb : attr.btreeBlocks()) {
                e.freeFsb(fsb, 1);
            }
        }
        ByteBuffer b = ce.b;
        int gen = b.getInt(InodeEdit.OFF_GEN);
        long keep2 = ce.flags2() & (Inode.FLAG2_BIGTIME | Inode.FLAG2_NREXT64);
        b.put(ce.coreSize(), new byte[ce.literalSize()]);
        b.putShort(InodeEdit.OFF_MODE, (short) 0);
        b.put(InodeEdit.OFF_FORMAT, (byte) Inode.FMT_EXTENTS);
        b.putInt(InodeEdit.OFF_NLINK, 0);
        b.putInt(0x14, 0); // project id
        b.putLong(0x18, 0); // v3 pad or 64-bit extent counter
        b.putLong(InodeEdit.OFF_SIZE, 0);
        b.putLong(InodeEdit.OFF_NBLOCKS, 0);
        b.putInt(0x48, 0); // extent size hint
        b.putInt(InodeEdit.OFF_NEXTENTS, 0);
        b.putShort(InodeEdit.OFF_ANEXTENTS, (short) 0);
        b.put(InodeEdit.OFF_FORKOFF, (byte) 0);
        b.put(InodeEdit.OFF_AFORMAT, (byte) Inode.FMT_EXTENTS);
        b.putShort(InodeEdit.OFF_FLAGS, (short) 0);
        b.putInt(InodeEdit.OFF_GEN, gen + 1);
        if (ce.v3()) {
            b.putLong(InodeEdit.OFF_FLAGS2, keep2);
            b.putInt(0x80, 0); // CoW extent size hint
            ce.touchChanged(e.now);
        }
        ce.dirty();
        e.ialloc.free(ce.ino);
    }

    /** Writes everything to the device. */
    @Override
    public void flush() throws IOException {
        v.device.flush();
    }

    /** The log state of the filesystem as opened (always clean: {@link #open} refuses anything else). */
    public XfsLogState logState() throws IOException {
        return fs.logState();
    }

    @Override
    public void close() throws IOException {
        flush();
    }
}
