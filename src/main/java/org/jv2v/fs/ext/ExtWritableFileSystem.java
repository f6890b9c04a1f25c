package org.jv2v.fs.ext;

import org.jv2v.BadInputException;
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
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An ext2, ext3 or ext4 filesystem opened for the edits a conversion makes, done directly on its
 * structures as e2fsprogs' debugfs -w would: the journal is not written through (the filesystem
 * is offline and was cleanly unmounted, which {@link #open} insists on).
 *
 * <p>Each edit is all-or-nothing as far as metadata goes: the changed metadata blocks are
 * collected in memory and written together at its end, after every checksum is recomputed; an
 * edit that fails (no space, a corrupt structure found on the way) leaves the device's metadata as
 * it was. File data goes straight to newly allocated blocks.
 *
 * <p>What each edit keeps and changes:
 * <ul>
 * <li>{@link #rewrite}: inode number, owner, mode, flags, all four timestamps (atime, mtime, ctime,
 *     crtime: exactly as they were, so the file looks untouched to anything comparing times),
 *     link count and extended attributes (in-inode and external block) are kept. The old blocks
 *     are freed first, so a file can grow into its own space on a nearly full filesystem; the
 *     new ones are allocated near the old (contiguous where free space allows). Extent files get a
 *     new minimal extent tree; files mapped by block pointers (ext2/3, ext4 without extents) keep
 *     that form and get new indirect blocks as needed. An inline-data file stays inline up to 60
 *     bytes, else becomes an extent file.</li>
 * <li>{@link #create}, {@link #symlink}, {@link #mkdir}: new inodes get the current time as all
 *     timestamps, a random generation (both fixed by SOURCE_DATE_EPOCH: see
 *     {@link org.jv2v.fs.EditClock}), the filesystem's wanted i_extra_isize and no extended
 *     attributes but those {@code create} is given (the SELinux label). The parent directory's
 *     mtime and ctime are set to now, as the kernel would. Symbolic links shorter than 60 bytes are stored in the
 *     inode; longer ones (up to one block) in a block.</li>
 * <li>{@link #unlink}: the entry goes; at the last link the inode's blocks and its extended
 *     attribute block (or its reference) are freed, i_dtime is set and the inode is freed.</li>
 * </ul>
 * The superblock's free counts and s_wtime are updated; s_kbytes_written and the mount counts are
 * left alone. Backup superblocks and descriptor copies are not touched (the kernel leaves them too).
 */
public final class ExtWritableFileSystem implements WritableFileSystem {
    // features: incompat bits that this editor writes correctly
    private static final int EDIT_INCOMPAT = Superblock.INCOMPAT_FILETYPE | Superblock.INCOMPAT_RECOVER
            | Superblock.INCOMPAT_META_BG | Superblock.INCOMPAT_EXTENTS | Superblock.INCOMPAT_64BIT
            | Superblock.INCOMPAT_FLEX_BG | Superblock.INCOMPAT_CSUM_SEED | Superblock.INCOMPAT_LARGEDIR
            | Superblock.INCOMPAT_INLINE_DATA | Superblock.INCOMPAT_ENCRYPT | Superblock.INCOMPAT_CASEFOLD;
    static final int RO_COMPAT_DIR_NLINK = 0x20;
    static final int RO_COMPAT_EXTRA_ISIZE = 0x40;
    static final int RO_COMPAT_ORPHAN_PRESENT = 0x10000;
    private static final int EDIT_RO_COMPAT = Superblock.RO_COMPAT_SPARSE_SUPER | Superblock.RO_COMPAT_LARGE_FILE
            | Superblock.RO_COMPAT_BTREE_DIR | Superblock.RO_COMPAT_HUGE_FILE | Superblock.RO_COMPAT_GDT_CSUM
            | RO_COMPAT_DIR_NLINK | RO_COMPAT_EXTRA_ISIZE | Superblock.RO_COMPAT_METADATA_CSUM
            | RO_COMPAT_ORPHAN_PRESENT;
    private static final String[] INCOMPAT_NAMES = {"compression", "filetype", "needs_recovery", "journal_dev",
        "meta_bg", "0x20", "extent", "64bit", "mmp", "flex_bg", "ea_inode", "0x800", "dirdata", "metadata_csum_seed",
        "large_dir", "inline_data", "encrypt", "casefold"};
    private static final String[] RO_COMPAT_NAMES = {"sparse_super", "large_file", "btree_dir", "huge_file",
        "uninit_bg", "dir_nlink", "extra_isize", "has_snapshot", "quota", "bigalloc", "metadata_csum", "replica",
        "read-only", "project", "shared_blocks", "verity", "orphan_present"};
    /** jbd2's magic, at the start of the journal superblock (big-endian, like all of the journal). */
    private static final long JBD2_MAGIC = 0xc03b3998L;

    private final BlockDevice dev;
    private final MetaStore meta;
    private final Clock clock;
    /** i_generation of new inodes (see {@link org.jv2v.fs.EditClock#generations}). */
    private final java.util.Random generations;
    private ExtFileSystem fs;
    private boolean closed;

    private ExtWritableFileSystem(BlockDevice dev, ExtFileSystem fs, Clock clock, java.util.Random generations) {
        this.dev = dev;
        this.fs = fs;
        this.clock = clock;
        this.generations = generations;
        this.meta = new MetaStore(dev, (int) fs.blockSize());
    }

    /**
     * Opens the filesystem on a writable device for editing. Refuses, with a message saying what
     * to do, a filesystem that was not cleanly unmounted (journal needing recovery, orphan inodes,
     * errors recorded), and one using features this editor does not write (naming them).
     */
    public static ExtWritableFileSystem open(BlockDevice dev) throws IOException {
        return open(dev, org.jv2v.fs.EditClock.clock(), org.jv2v.fs.EditClock.generations());
    }

    static ExtWritableFileSystem open(BlockDevice dev, Clock clock) throws IOException {
        return open(dev, clock, new java.util.Random());
    }

    private static ExtWritableFileSystem open(BlockDevice dev, Clock clock, java.util.Random generations)
            throws IOException {
        if (!dev.isWritable()) {
            throw new Jv2vException(dev.describe() + ": the device is read-only; ext edits need a writable overlay");
        }
        ExtFileSystem fs = ExtFileSystem.open(dev);
        refuseUnclean(fs);
        refuseFeatures(fs);
        for (int g = 0; g < fs.groupCount(); g++) {
            if (!fs.groupDescValid(g)) {
                throw fs.bad("group " + g + " descriptor bg_checksum", fs.descriptorBlock(g) * fs.blockSize()
                        + fs.descriptorOffset(g) + 0x1e, "does not match the descriptor (run e2fsck)");
            }
        }
        return new ExtWritableFileSystem(dev, fs, clock, generations);
    }

    private static void refuseUnclean(ExtFileSystem fs) throws IOException {
        Superblock sb = fs.superblock();
        String why = null;
        if (fs.journalState() == ExtFileSystem.JournalState.NEEDS_RECOVERY) {
            why = "its journal needs recovery";
        } else if (fs.hasOrphans() || sb.hasRoCompat(RO_COMPAT_ORPHAN_PRESENT)) {
            why = "inodes deleted while open wait on its orphan list";
        } else if ((sb.state() & 0x2) != 0) {                      // EXT2_ERROR_FS
            why = "the kernel recorded errors in it";
        } else if ((sb.state() & 0x4) != 0) {                      // EXT3_ORPHAN_FS
            why = "the recovery of its orphan list was interrupted";
        } else if ((sb.state() & 0x1) == 0) {                      // EXT2_VALID_FS
            why = "it is marked as not cleanly unmounted";
        } else if (fs.journalState() == ExtFileSystem.JournalState.CLEAN && sb.journalInum() != 0
                && journalHasTransactions(fs)) {
            why = "its journal holds transactions not yet written back";
        }
        if (why != null) {
            throw EditRefusals.notShutDownCleanly(fs.device(), fs.type(), why, "e2fsck -fy");
        }
    }

    /** The journal superblock's s_start: non-zero while the journal holds transactions to replay. */
    private static boolean journalHasTransactions(ExtFileSystem fs) throws IOException {
        Inode j = fs.inode(fs.superblock().journalInum());
        if (j.size() < 1024) {
            throw fs.bad("journal inode i_size", j.offset() + 0x04, j.size() + " bytes is too small for a journal");
        }
        byte[] jsb = new byte[1024];
        fs.readInode(j, ByteBuffer.wrap(jsb), 0);
        if (Le.be32(jsb, 0) != JBD2_MAGIC) {
            throw BadInputException.of(fs.device().describe() + ": journal superblock h_magic (journal inode "
                    + j.number() + ", block 0) is not 0xc03b3998");
        }
        return Le.be32(jsb, 0x1c) != 0;                              // 0x1c s_start
    }

    private static void refuseFeatures(ExtFileSystem fs) {
        Superblock sb = fs.superblock();
        List<String> names = new ArrayList<>(EditRefusals.featureNames(
                Integer.toUnsignedLong(sb.featureIncompat() & ~EDIT_INCOMPAT), INCOMPAT_NAMES, "incompat"));
        names.addAll(EditRefusals.featureNames(
                Integer.toUnsignedLong(sb.featureRoCompat() & ~EDIT_RO_COMPAT), RO_COMPAT_NAMES, "ro_compat"));
        if (!names.isEmpty()) {
            throw new Jv2vException(fs.device().describe() + ": jv2v cannot edit this " + fs.type()
                    + " filesystem: it uses " + String.join(", ", names) + " (features jv2v does not write)");
        }
    }

    // ---- one edit ----

    private interface Body {
        void run(Edit e) throws IOException;
    }

    /** The state of one edit: its allocator and helpers over the filesystem as it was when it began. */
    private final class Edit {
        final Instant now = clock.instant();
        final Allocator alloc = new Allocator(fs, meta);
        final FileLayout layout = new FileLayout(fs, meta, alloc);
        final DirEditor dirs = new DirEditor(fs, meta, alloc, layout);
        final int bs = (int) fs.blockSize();
        final boolean extents = fs.superblock().hasIncompat(Superblock.INCOMPAT_EXTENTS);
        /** Updates of the reader's cached directories, made once the edit is on the device. */
        final List<Runnable> onCommit = new ArrayList<>();

        InodeRecord load(long ino) throws IOException {
            return InodeRecord.load(fs, meta, ino);
        }

        int groupOf(long ino) {
            return (int) ((ino - 1) / fs.superblock().inodesPerGroup());
        }

        long groupStart(long ino) {
            return fs.groupFirstBlock(groupOf(ino));
        }

        InodeRecord newInode(long ino, int mode, int uid, int gid, int links) throws IOException {
            int extra = 0;
            int isz = fs.inodeSize();
            if (isz > Inode.GOOD_OLD_SIZE) {
                byte[] sb = superblockBytes();
                int want = Math.max(Le.u16(sb, 0x15e), Le.u16(sb, 0x15c)); // 0x15e s_want_extra_isize, 0x15c s_min
                extra = Math.min(want == 0 ? 32 : want, isz - Inode.GOOD_OLD_SIZE) & ~3;
            }
            InodeRecord r = InodeRecord.fresh(fs, ino, extra, generations.nextInt());
            r.setMode(mode);
            r.setOwner(uid, gid);
            r.setLinks(links);
            for (InodeRecord.Time t : InodeRecord.Time.values()) {
                r.setTime(t, now);
            }
            if (extents) {
                r.setFlags(Inode.FL_EXTENTS);
                r.setIblock(FileLayout.emptyExtentRoot());
            }
            return r;
        }

        byte[] superblockBytes() throws IOException {
            byte[] b = meta.read(Superblock.OFFSET / bs);
            byte[] sb = new byte[Superblock.SIZE];
            System.arraycopy(b, (int) (Superblock.OFFSET % bs), sb, 0, sb.length);
            return sb;
        }

        /** Writes {@code content} as the data of a file with no blocks yet; sets i_size and i_blocks. */
        void writeData(InodeRecord in, byte[] content, long goal) throws IOException {
            long n = (content.length + (long) bs - 1) / bs;
            List<FileLayout.Piece> pieces = new ArrayList<>();
            long logical = 0;
            for (Allocator.Run r : alloc.allocate(goal, n)) {
                pieces.add(new FileLayout.Piece(logical, r.start(), r.length(), false));
                logical += r.length();
            }
            // every allocation (data, then tree blocks) before the first byte is written: a rewrite may
            // reuse the file's own old blocks, which must stay intact if the edit fails for lack of space
            long tree = layout.build(in, pieces, pieces.isEmpty() ? goal : pieces.getFirst().physical());
            for (FileLayout.Piece p : pieces) {
                long from = p.logical() * bs;
                int len = (int) Math.min(p.length() * bs, content.length - from);
                meta.writeData(p.physical(), content, (int) from, len);
            }
            in.setSize(content.length);
            in.setBlocks(n + tree + (in.fileAcl() != 0 ? 1 : 0));
        }

        /** Frees a file's data blocks (not for inline files, fast symlinks or device files); returns the old first block. */
        long freeData(InodeRecord in) throws IOException {
            if (in.has(Inode.FL_INLINE_DATA) || !(in.isRegular() || in.isDir() || in.isSymlink())) {
                return -1;
            }
            long acl = in.fileAcl() != 0 ? 1 : 0;
            if (in.isSymlink() && in.blocks() - acl == 0) {
                return -1; // fast symlink: the target is in i_block
            }
            long[] first = {-1};
            layout.walk(in, new FileLayout.Visitor() {
                @Override
                public void data(long logical, long physical, long length, boolean unwritten) {
                    if (first[0] < 0) {
                        first[0] = physical;
                    }
                }

                @Override
                public void tree(long block) {
                }
            });
            layout.freeAll(in);
            in.setIblock(in.has(Inode.FL_EXTENTS) ? FileLayout.emptyExtentRoot() : new byte[Inode.IBLOCK_SIZE]);
            in.setBlocks(acl);
            return first[0];
        }

        /** Drops the inode's reference to its external attribute block, freeing the block at its last reference. */
        void releaseXattrBlock(InodeRecord in) throws IOException {
            long blk = in.fileAcl();
            if (blk == 0) {
                return;
            }
            long at = fs.blockOffset(blk, "inode " + in.number + " i_file_acl", in.diskOffset() + 0x68);
            Xattrs.read(fs, in.asInode()); // magic, h_blocks and checksum checks
            byte[] b = meta.read(blk);
            long refs = Le.u32(b, 0x04);                             // 0x04 h_refcount
            if (refs > 1) {
                byte[] c = meta.edit(blk);
                Le.put32(c, 0x04, refs - 1);
                if (fs.metadataCsum()) {
                    byte[] le = new byte[8];
                    for (int i = 0; i < 8; i++) {
                        le[i] = (byte) (blk >>> (8 * i));
                    }
                    Le.put32(c, 0x10, 0);                            // 0x10 h_checksum
                    int crc = Crc32c.update(fs.csumSeed(), le, 0, 8);
                    Le.put32(c, 0x10, Crc32c.update(crc, c, 0, c.length));
                }
            } else if (refs == 1) {
                alloc.free(blk, 1, "inode " + in.number + " xattr block", in.diskOffset() + 0x68);
            } else {
                throw fs.bad("xattr block h_refcount", at + 4, "0 while inode " + in.number + " uses it");
            }
            in.setFileAcl(0);
        }

        void touch(InodeRecord dir) {
            dir.setTime(InodeRecord.Time.MTIME, now);
            dir.setTime(InodeRecord.Time.CTIME, now);
        }
    }

    private synchronized void edit(Body body) throws IOException {
        if (closed) {
            throw new IOException(dev.describe() + ": filesystem closed");
        }
        Edit e = new Edit();
        List<long[]> changed;
        try {
            body.run(e);
            e.alloc.seal(e.now);
            changed = meta.commit();
        } catch (IOException | RuntimeException | Error x) {
            meta.discard();
            throw x;
        }
        fs.changed(changed);
        e.onCommit.forEach(Runnable::run);
    }

    // ---- paths ----

    private Inode parentDir(EditPath s) throws IOException {
        Inode dir = fs.resolve(s.parent(), true);
        if (dir.kind() != FileKind.DIRECTORY) {
            throw new NotDirectoryException(s.parent());
        }
        return dir;
    }

    private void checkDirEditable(InodeRecord dir, String path) {
        String why = null;
        if (dir.has(Inode.FL_ENCRYPT)) {
            why = "is encrypted (fscrypt)";
        } else if (dir.has(Inode.FL_CASEFOLD)) {
            why = "is case-insensitive (casefold)";
        } else if (dir.has(InodeRecord.FL_IMMUTABLE) || dir.has(InodeRecord.FL_APPEND)) {
            why = "is immutable or append-only (chattr +i or +a)";
        }
        if (why != null) {
            throw new Jv2vException(dev.describe() + ": cannot edit " + path + ": its directory " + why);
        }
    }

    private void checkFileEditable(InodeRecord in, String path) {
        String why = null;
        if (in.has(Inode.FL_ENCRYPT)) {
            why = "is encrypted (fscrypt)";
        } else if (in.has(InodeRecord.FL_VERITY)) {
            why = "is protected by fs-verity";
        } else if (in.has(InodeRecord.FL_IMMUTABLE) || in.has(InodeRecord.FL_APPEND)) {
            why = "is immutable or append-only (chattr +i or +a)";
        } else if (in.has(Inode.FL_EA_INODE)) {
            why = "holds an extended attribute value";
        } else if (in.has(Inode.FL_INLINE_DATA) && !fs.superblock().hasIncompat(Superblock.INCOMPAT_INLINE_DATA)) {
            why = "has inline data on a filesystem without the inline_data feature (run e2fsck)";
        }
        if (why != null) {
            throw new Jv2vException(dev.describe() + ": cannot edit " + path + ": it " + why);
        }
    }

    // ---- WritableFileSystem ----

    @Override
    public void rewrite(String path, byte[] content) throws IOException {
        edit(e -> {
            Inode target = fs.resolve(path, false);
            if (target.kind() != FileKind.REGULAR) {
                throw new IOException(dev.describe() + ": " + path + ": not a regular file");
            }
            InodeRecord in = e.load(target.number());
            checkFileEditable(in, path);
            long acl = in.fileAcl() != 0 ? 1 : 0;
            long goal = e.groupStart(in.number);
            if (in.has(Inode.FL_INLINE_DATA)) {
                List<IbodyXattrs.Entry> x = IbodyXattrs.parse(fs, in);
                int di = IbodyXattrs.findData(x);
                if (content.length <= Inode.IBLOCK_SIZE) {
                    byte[] ib = new byte[Inode.IBLOCK_SIZE];
                    System.arraycopy(content, 0, ib, 0, content.length);
                    in.setIblock(ib);
                    IbodyXattrs.Entry empty = IbodyXattrs.entry(Xattrs.INDEX_SYSTEM, IbodyXattrs.DATA, new byte[0]);
                    if (di >= 0) {
                        x.set(di, empty);
                    } else {
                        x.add(empty);
                    }
                    if (!IbodyXattrs.write(in, x)) {
                        throw new IllegalStateException("inline data attribute does not fit");
                    }
                    in.setSize(content.length);
                    in.setBlocks(acl);
                    in.store(meta);
                    return;
                }
                if (di >= 0) {
                    x.remove(di);
                    IbodyXattrs.write(in, x);
                }
                in.setFlags((in.flags() & ~Inode.FL_INLINE_DATA) | (e.extents ? Inode.FL_EXTENTS : 0));
                in.setIblock(e.extents ? FileLayout.emptyExtentRoot() : new byte[Inode.IBLOCK_SIZE]);
            } else {
                long old = e.freeData(in);
                if (old >= 0) {
                    goal = old;
                }
            }
            e.writeData(in, content, goal);
            in.store(meta);
        });
    }

    /**
     * {@inheritDoc} Here the attributes ("user.", "trusted." and "security." names) are stored in
     * the inode, after its fixed fields; a filesystem whose inodes have no room for them (128-byte
     * inodes, or values too long: 256-byte inodes hold about 90 bytes of names and values) is
     * refused rather than given an attribute block.
     */
    @Override
    public void create(String path, byte[] content, int mode, int uid, int gid, Map<String, byte[]> xattrs)
            throws IOException {
        EditPath s = EditPath.of(path);
        List<IbodyXattrs.Entry> attrs = new ArrayList<>();
        for (var x : new java.util.TreeMap<>(xattrs).entrySet()) {
            attrs.add(xattrEntry(path, x.getKey(), x.getValue()));
        }
        edit(e -> {
            InodeRecord dir = prepareParent(e, s, path);
            long ino = e.alloc.allocateInode(e.groupOf(dir.number), false);
            InodeRecord in = e.newInode(ino, InodeRecord.S_IFREG | (mode & 07777), uid, gid, 1);
            if (!attrs.isEmpty() && !IbodyXattrs.write(in, attrs)) {
                throw new Jv2vException(dev.describe() + ": " + path + ": its extended attributes "
                        + xattrs.keySet() + " do not fit in a " + fs.inodeSize() + "-byte inode, where jv2v stores"
                        + " those of new files");
            }
            e.writeData(in, content, e.groupStart(ino));
            link(e, dir, s, ino, DirEditor.FT_REG);
            in.store(meta);
        });
    }

    @Override
    public void symlink(String path, String target, int uid, int gid) throws IOException {
        EditPath s = EditPath.of(path);
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        if (t.length == 0 || target.indexOf('\0') >= 0 || t.length >= fs.blockSize()
                || t.length >= ExtFileSystem.MAX_SYMLINK_TARGET) {
            throw new IllegalArgumentException("symbolic link target of " + t.length
                    + " bytes: must be 1 byte to less than a block and PATH_MAX, without NUL");
        }
        edit(e -> {
            InodeRecord dir = prepareParent(e, s, path);
            long ino = e.alloc.allocateInode(e.groupOf(dir.number), false);
            InodeRecord in = e.newInode(ino, InodeRecord.S_IFLNK | 0777, uid, gid, 1);
            if (t.length < Inode.IBLOCK_SIZE) {
                byte[] ib = new byte[Inode.IBLOCK_SIZE];
                System.arraycopy(t, 0, ib, 0, t.length);
                in.setFlags(0); // a fast symlink has no extent tree
                in.setIblock(ib);
                in.setSize(t.length);
            } else {
                e.writeData(in, t, e.groupStart(ino));
            }
            link(e, dir, s, ino, DirEditor.FT_SYMLINK);
            in.store(meta);
        });
    }

    @Override
    public void mkdir(String path, int mode, int uid, int gid) throws IOException {
        EditPath s = EditPath.of(path);
        edit(e -> {
            InodeRecord dir = prepareParent(e, s, path);
            int links = dir.links();
            boolean dirNlink = fs.superblock().hasRoCompat(RO_COMPAT_DIR_NLINK);
            int newLinks;
            if (links == 1 && dirNlink) {
                newLinks = 1; // already past the limit: the count says "many"
            } else if (links + 1 >= DirEditor.LINK_MAX) {
                if (!dirNlink) {
                    throw new Jv2vException(dev.describe() + ": " + s.parent() + " has too many subdirectories");
                }
                newLinks = 1;
            } else {
                newLinks = links + 1;
            }
            long ino = e.alloc.allocateInode(e.groupOf(dir.number), true);
            InodeRecord in = e.newInode(ino, InodeRecord.S_IFDIR | (mode & 07777), uid, gid, 2);
            long blk = e.alloc.allocate(e.groupStart(ino), 1).getFirst().start();
            meta.replace(blk, e.dirs.newDirBlock(in, dir.number));
            long tree = e.layout.build(in, List.of(new FileLayout.Piece(0, blk, 1, false)), blk);
            in.setSize(e.bs);
            in.setBlocks(1 + tree);
            dir.setLinks(newLinks);
            link(e, dir, s, ino, DirEditor.FT_DIR);
            in.store(meta);
        });
    }

    @Override
    public void unlink(String path) throws IOException {
        EditPath s = EditPath.of(path);
        edit(e -> {
            Inode parent = parentDir(s);
            ExtFileSystem.RawEntry entry = fs.lookup(parent, s.name()).orElseThrow(() -> new NoSuchFileException(path));
            Inode child = fs.inode(entry.inode());
            if (child.kind() == FileKind.DIRECTORY) {
                throw new IOException(dev.describe() + ": " + path + ": is a directory (jv2v does not remove directories)");
            }
            InodeRecord dir = e.load(parent.number());
            checkDirEditable(dir, path);
            InodeRecord in = e.load(child.number());
            checkFileEditable(in, path);
            DirEditor.Dir d = e.dirs.open(dir);
            long[] removed = e.dirs.remove(d, s.nameBytes());
            if (removed[0] != in.number) {
                throw new IllegalStateException("removed inode " + removed[0] + " for " + path);
            }
            e.onCommit.add(() -> fs.entryRemoved(dir.number, s.name()));
            d.finish();
            e.touch(dir);
            dir.store(meta);
            int links = in.links() - 1;
            if (links > 0) {
                in.setLinks(links);
                in.setTime(InodeRecord.Time.CTIME, e.now);
                in.store(meta);
                return;
            }
            e.freeData(in);
            e.releaseXattrBlock(in);
            in.setLinks(0);
            in.setSize(0);
            in.setBlocks(0);
            in.setDtime(e.now);
            in.setTime(InodeRecord.Time.CTIME, e.now);
            in.store(meta);
            e.alloc.freeInode(in.number, false);
        });
    }

    /** An attribute by its full name ("security.selinux"), in the form stored in an inode. */
    private static IbodyXattrs.Entry xattrEntry(String path, String name, byte[] value) {
        XattrName x = XattrName.parse(name).orElseThrow(() -> new IllegalArgumentException(path
                + ": extended attribute " + name + " is not in the user, trusted or security namespace"));
        int index = switch (x.namespace()) {
            case USER -> 1;
            case TRUSTED -> 4;
            case SECURITY -> 6;
        };
        byte[] n = x.name();
        if (n.length == 0 || n.length > 255 || value.length > Xattrs.MAX_VALUE) {
            throw new IllegalArgumentException(path + ": extended attribute " + name + " has an empty or too long"
                    + " name, or a value over " + Xattrs.MAX_VALUE + " bytes");
        }
        return IbodyXattrs.entry(index, n, value);
    }

    /** The parent directory of a new name, checked: a directory, editable, without that name yet. */
    private InodeRecord prepareParent(Edit e, EditPath s, String path) throws IOException {
        Inode parent = parentDir(s);
        if (fs.lookup(parent, s.name()).isPresent()) {
            throw new FileAlreadyExistsException(path);
        }
        InodeRecord dir = e.load(parent.number());
        checkDirEditable(dir, path);
        return dir;
    }

    /** Adds the entry to the parent, updates its times and stores it. */
    private void link(Edit e, InodeRecord dir, EditPath s, long ino, int type) throws IOException {
        DirEditor.Dir d = e.dirs.open(dir);
        e.dirs.insert(d, s.nameBytes(), ino, type);
        d.finish();
        int cachedType = fs.superblock().hasIncompat(Superblock.INCOMPAT_FILETYPE) ? type : 0;
        e.onCommit.add(() -> fs.entryAdded(dir.number, s.name(), ino, cachedType));
        e.touch(dir);
        dir.store(meta);
    }

    @Override
    public synchronized void flush() throws IOException {
        dev.flush();
    }

    // ---- FileSystem: reads see every edit made so far ----

    /** The read-only view of the filesystem as it is now. */
    public synchronized ExtFileSystem reader() {
        return fs;
    }

    @Override
    public String type() {
        return reader().type();
    }

    @Override
    public Optional<String> label() {
        return reader().label();
    }

    @Override
    public Optional<String> uuid() {
        return reader().uuid();
    }

    @Override
    public FileStat stat(String path) throws IOException {
        return reader().stat(path);
    }

    @Override
    public List<DirEntry> list(String dir) throws IOException {
        return reader().list(dir);
    }

    @Override
    public int read(String file, ByteBuffer dst, long position) throws IOException {
        return reader().read(file, dst, position);
    }

    @Override
    public String readlink(String link) throws IOException {
        return reader().readlink(link);
    }

    @Override
    public Map<String, byte[]> xattrs(String path) throws IOException {
        return reader().xattrs(path);
    }

    @Override
    public List<ByteRange> usedRanges() throws IOException {
        return reader().usedRanges();
    }

    @Override
    public SpaceUsage space() throws IOException {
        return reader().space();
    }

    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            dev.flush();
        }
    }
}
