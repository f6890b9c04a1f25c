package org.jv2v.fs.btrfs;

import org.jv2v.BadInputException;

import java.util.ArrayList;
import java.util.List;

/** The leaf item bodies jv2v reads, each checked against its item's size before use. */
final class Items {
    private Items() {}

    static BadInputException bad(Volume.Item it, String volume, String what, String problem) {
        return BadInputException.of(volume + ": " + what + " " + it.key() + " in the leaf at logical 0x"
                + Long.toHexString(it.node().logical) + ": " + problem);
    }

    private static void need(Volume.Item it, String volume, String what, int size) {
        if (it.size() < size) {
            throw bad(it, volume, what, it.size() + " bytes, fewer than the " + size + " it needs");
        }
    }

    /** struct btrfs_root_item (the parts read here). */
    record RootItem(
            long generation,   // 0x0A0
            long rootDirId,    // 0x0A8
            long bytenr,       // 0x0B0
            long flags,        // 0x0D0 (bit 0: read-only subvolume)
            int level,         // 0x0EE
            byte[] uuid) {     // 0x0F7, valid when generation_v2 (0x0EF) equals generation

        static final int MIN_SIZE = 0xEF;

        static RootItem read(Volume.Item it, String volume) {
            need(it, volume, "root item", MIN_SIZE);
            byte[] d = it.leaf();
            int o = it.offset();
            long gen = Hashes.le64(d, o + 0xA0);
            byte[] uuid = null;
            if (it.size() >= 0x107 && Hashes.le64(d, o + 0xEF) == gen) {
                uuid = java.util.Arrays.copyOfRange(d, o + 0xF7, o + 0x107);
            }
            return new RootItem(gen, Hashes.le64(d, o + 0xA8), Hashes.le64(d, o + 0xB0), Hashes.le64(d, o + 0xD0),
                    d[o + 0xEE] & 0xFF, uuid);
        }
    }

    /** struct btrfs_inode_item. Times are (seconds, nanoseconds) pairs. */
    record InodeItem(
            long size,        // 0x10
            long nbytes,      // 0x18
            long nlink,       // 0x28 u32
            int uid,          // 0x2C
            int gid,          // 0x30
            int mode,         // 0x34
            long rdev,        // 0x38
            long flags,       // 0x40
            long atimeSec, int atimeNsec,   // 0x70
            long ctimeSec, int ctimeNsec,   // 0x7C
            long mtimeSec, int mtimeNsec,   // 0x88
            long otimeSec, int otimeNsec) { // 0x94

        static final int SIZE = 0xA0;

        static InodeItem read(Volume.Item it, String volume) {
            need(it, volume, "inode item", SIZE);
            byte[] d = it.leaf();
            int o = it.offset();
            return new InodeItem(Hashes.le64(d, o + 0x10), Hashes.le64(d, o + 0x18),
                    Hashes.le32(d, o + 0x28) & 0xFFFF_FFFFL, Hashes.le32(d, o + 0x2C), Hashes.le32(d, o + 0x30),
                    Hashes.le32(d, o + 0x34), Hashes.le64(d, o + 0x38), Hashes.le64(d, o + 0x40),
                    Hashes.le64(d, o + 0x70), Hashes.le32(d, o + 0x78), Hashes.le64(d, o + 0x7C),
                    Hashes.le32(d, o + 0x84), Hashes.le64(d, o + 0x88), Hashes.le32(d, o + 0x90),
                    Hashes.le64(d, o + 0x94), Hashes.le32(d, o + 0x9C));
        }
    }

    /**
     * One entry of a DIR_ITEM, DIR_INDEX or XATTR_ITEM (struct btrfs_dir_item, then the name, then
     * the data: an xattr's value). Several entries share an item when their names hash alike.
     */
    record DirEntryItem(Key location, int type, byte[] name, byte[] data) {
        static final int HEADER = 0x1E; // location 0x00, transid 0x11, data_len 0x19, name_len 0x1B, type 0x1D
        /** Directory entry names are at most 255 bytes (BTRFS_NAME_LEN). */
        static final int MAX_NAME = 255;

        static List<DirEntryItem> readAll(Volume.Item it, String volume, boolean xattr) {
            List<DirEntryItem> out = new ArrayList<>();
            byte[] d = it.leaf();
            int p = it.offset();
            int end = it.offset() + it.size();
            while (p < end) {
                if (p + HEADER > end) {
                    throw bad(it, volume, "directory item", "entry header at byte " + (p - it.offset())
                            + " runs past the item");
                }
                int dataLen = Hashes.le16(d, p + 0x19);
                int nameLen = Hashes.le16(d, p + 0x1B);
                if (nameLen == 0 || nameLen > MAX_NAME && !xattr || (!xattr && dataLen != 0)
                        || p + HEADER + nameLen + dataLen > end) {
                    throw bad(it, volume, xattr ? "xattr item" : "directory item", "entry at byte " + (p - it.offset())
                            + " has name_len " + nameLen + " and data_len " + dataLen + " that do not fit");
                }
                Key loc = Key.read(d, p);
                int type = d[p + 0x1D] & 0xFF;
                byte[] name = java.util.Arrays.copyOfRange(d, p + HEADER, p + HEADER + nameLen);
                byte[] data = java.util.Arrays.copyOfRange(d, p + HEADER + nameLen, p + HEADER + nameLen + dataLen);
                out.add(new DirEntryItem(loc, type, name, data));
                p += HEADER + nameLen + dataLen;
            }
            return out;
        }
    }

    /** struct btrfs_file_extent_item. */
    record FileExtent(
            long fileOffset,     // key offset
            long ramBytes,       // 0x08
            int compression,     // 0x10: 0 none, 1 zlib, 2 lzo, 3 zstd
            int encryption,      // 0x11
            int otherEncoding,   // 0x12
            int type,            // 0x14: 0 inline, 1 regular, 2 prealloc
            int inlineOffset,    // 0x15 inline data (offset in the leaf)
            int inlineSize,
            long diskBytenr,     // 0x15
            long diskNumBytes,   // 0x1D
            long offset,         // 0x25
            long numBytes) {     // 0x2D

        static final int INLINE = 0;
        static final int REGULAR = 1;
        static final int PREALLOC = 2;
        static final int INLINE_HEADER = 0x15;
        static final int SIZE = 0x35;

        static FileExtent read(Volume.Item it, String volume) {
            need(it, volume, "file extent", INLINE_HEADER);
            byte[] d = it.leaf();
            int o = it.offset();
            int type = d[o + 0x14] & 0xFF;
            long ram = Hashes.le64(d, o + 0x08);
            int comp = d[o + 0x10] & 0xFF;
            int enc = d[o + 0x11] & 0xFF;
            int other = Hashes.le16(d, o + 0x12);
            if (type == INLINE) {
                return new FileExtent(it.key().offset(), ram, comp, enc, other, type, o + INLINE_HEADER,
                        it.size() - INLINE_HEADER, 0, 0, 0, comp == 0 ? it.size() - INLINE_HEADER : ram);
            }
            if (type != REGULAR && type != PREALLOC) {
                throw bad(it, volume, "file extent", "type " + type + " is not inline, regular or prealloc");
            }
            need(it, volume, "file extent", SIZE);
            return new FileExtent(it.key().offset(), ram, comp, enc, other, type, 0, 0, Hashes.le64(d, o + 0x15),
                    Hashes.le64(d, o + 0x1D), Hashes.le64(d, o + 0x25), Hashes.le64(d, o + 0x2D));
        }
    }

    /** ROOT_REF / ROOT_BACKREF body: the directory and name where a subvolume is linked. */
    record RootRef(long dirId, byte[] name) {
        static RootRef read(Volume.Item it, String volume) {
            need(it, volume, "root ref", 0x12);
            byte[] d = it.leaf();
            int o = it.offset();
            int len = Hashes.le16(d, o + 0x10);
            if (len == 0 || 0x12 + len > it.size()) {
                throw bad(it, volume, "root ref", "name_len " + len + " does not fit");
            }
            return new RootRef(Hashes.le64(d, o), java.util.Arrays.copyOfRange(d, o + 0x12, o + 0x12 + len));
        }
    }

    /** The first name of an inode in its parent: INODE_REF (key offset = parent) or INODE_EXTREF. */
    record InodeRef(long parent, byte[] name) {
        static InodeRef readRef(Volume.Item it, String volume) {
            need(it, volume, "inode ref", 0x0A); // index 0x0, name_len 0x8, name 0xA
            byte[] d = it.leaf();
            int o = it.offset();
            int len = Hashes.le16(d, o + 0x08);
            if (len == 0 || 0x0A + len > it.size()) {
                throw bad(it, volume, "inode ref", "name_len " + len + " does not fit");
            }
            return new InodeRef(it.key().offset(), java.util.Arrays.copyOfRange(d, o + 0x0A, o + 0x0A + len));
        }

        static InodeRef readExtref(Volume.Item it, String volume) {
            need(it, volume, "inode extref", 0x12); // parent 0x0, index 0x8, name_len 0x10, name 0x12
            byte[] d = it.leaf();
            int o = it.offset();
            int len = Hashes.le16(d, o + 0x10);
            if (len == 0 || 0x12 + len > it.size()) {
                throw bad(it, volume, "inode extref", "name_len " + len + " does not fit");
            }
            return new InodeRef(Hashes.le64(d, o), java.util.Arrays.copyOfRange(d, o + 0x12, o + 0x12 + len));
        }
    }
}
