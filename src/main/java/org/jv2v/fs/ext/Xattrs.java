package org.jv2v.fs.ext;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Extended attributes: those stored in the inode after its fixed fields, then those in the external
 * attribute block (i_file_acl). Names get their namespace prefix back from the name index; POSIX
 * ACLs are converted from ext4's compact form to the form getxattr returns.
 */
final class Xattrs {
    static final int MAGIC = 0xea020000;
    /** The VFS limit on one value (XATTR_SIZE_MAX). */
    static final int MAX_VALUE = 65536;
    /** Name index of inline data's "system.data" (not a user-visible attribute). */
    static final int INDEX_SYSTEM = 7;

    private Xattrs() {}

    /** All attributes of {@code inode}, including "system.data" (callers hide it). */
    static Map<String, byte[]> read(ExtFileSystem fs, Inode inode) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        byte[] raw = inode.raw();
        int start = Inode.GOOD_OLD_SIZE + inode.extraIsize();
        if (raw.length > Inode.GOOD_OLD_SIZE && start + 4 <= raw.length) {
            ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            if (b.getInt(start) == MAGIC) {
                // values are relative to the first entry
                entries(fs, inode, b, start + 4, start + 4, raw.length, inode.offset(), out);
            }
        } else if (raw.length > Inode.GOOD_OLD_SIZE && start > raw.length) {
            throw fs.bad("inode " + inode.number() + " i_extra_isize", inode.offset() + 0x80,
                    inode.extraIsize() + " runs past the " + raw.length + "-byte inode");
        }
        if (inode.fileAcl() != 0) {
            long at = fs.blockOffset(inode.fileAcl(), "inode " + inode.number() + " i_file_acl", inode.offset() + 0x68);
            ByteBuffer b = ByteBuffer.wrap(fs.block(inode.fileAcl())).order(ByteOrder.LITTLE_ENDIAN);
            if (b.getInt(0x00) != MAGIC) {                                       // 0x00 h_magic
                throw fs.bad("xattr block magic", at, String.format("0x%08x is not 0xea020000", b.getInt(0)));
            }
            if (b.getInt(0x08) != 1) {                                           // 0x08 h_blocks
                throw fs.bad("xattr block h_blocks", at + 8, b.getInt(0x08) + " is not 1");
            }
            if (fs.metadataCsum()) {
                // crc32c of the block number (le64) and the block with h_checksum (0x10) zeroed
                byte[] blk = b.array();
                long n = inode.fileAcl();
                byte[] le = new byte[8];
                for (int i = 0; i < 8; i++) {
                    le[i] = (byte) (n >>> (8 * i));
                }
                int c = Crc32c.update(fs.csumSeed(), le, 0, 8);
                c = Crc32c.update(c, blk, 0, 0x10);
                c = Crc32c.update(c, new byte[4], 0, 4);
                c = Crc32c.update(c, blk, 0x14, blk.length - 0x14);
                fs.checkCrc(blk, 0x10, c, "xattr block checksum", at + 0x10);
            }
            entries(fs, inode, b, 0x20, 0, b.limit(), at, out);                  // 0x20 first entry
        }
        return out;
    }

    private static void entries(ExtFileSystem fs, Inode inode, ByteBuffer b, int p, int valueBase, int end,
                                long diskAt, Map<String, byte[]> out) throws IOException {
        while (p + 4 <= end && b.getInt(p) != 0) {
            if (p + 16 > end) {
                throw fs.bad("xattr entry", diskAt + p, "runs past the end of its area");
            }
            int nameLen = b.get(p) & 0xff;                                       // 0x00 e_name_len
            int index = b.get(p + 1) & 0xff;                                     // 0x01 e_name_index
            int valueOffs = b.getShort(p + 2) & 0xffff;                          // 0x02 e_value_offs
            long valueInum = b.getInt(p + 4) & 0xffffffffL;                      // 0x04 e_value_inum
            long valueSize = b.getInt(p + 8) & 0xffffffffL;                      // 0x08 e_value_size
            if (p + 16 + nameLen > end) {
                throw fs.bad("xattr entry name", diskAt + p, "runs past the end of its area");
            }
            String name = new String(b.array(), p + 16, nameLen, StandardCharsets.UTF_8); // 0x10 e_name
            if (valueSize > MAX_VALUE) {
                throw fs.bad("xattr entry e_value_size", diskAt + p + 8, valueSize + " is more than " + MAX_VALUE);
            }
            byte[] value;
            if (valueInum != 0) {
                value = fs.readInodeData(fs.inode(valueInum), (int) valueSize);
            } else {
                int v = valueBase + valueOffs;
                if (v < 0 || v + valueSize > end) {
                    throw fs.bad("xattr entry e_value_offs", diskAt + p + 2,
                            "value [" + valueOffs + ", +" + valueSize + ") lies outside its area");
                }
                value = new byte[(int) valueSize];
                b.get(v, value);
            }
            String full = fullName(index, name);
            if (full != null) {
                if (index == 2 || index == 3) {
                    value = aclToVfs(fs, value, diskAt + p);
                }
                out.put(full, value);
            }
            p += (16 + nameLen + 3) & ~3;
        }
    }

    /** The name with its namespace prefix; null for an index Linux does not know (it hides those too). */
    static String fullName(int index, String name) {
        return switch (index) {
            case 1 -> "user." + name;
            case 2 -> "system.posix_acl_access";
            case 3 -> "system.posix_acl_default";
            case 4 -> "trusted." + name;
            case 6 -> "security." + name;
            case 7 -> "system." + name;
            case 8 -> "system.richacl";
            default -> null;
        };
    }

    /**
     * ext4 stores ACLs as version 1 with 4-byte entries for owner, group, mask and other and 8-byte
     * ones for named users and groups; getxattr returns version 2 with 8-byte entries throughout.
     */
    static byte[] aclToVfs(ExtFileSystem fs, byte[] disk, long at) {
        ByteBuffer in = ByteBuffer.wrap(disk).order(ByteOrder.LITTLE_ENDIAN);
        if (disk.length < 4 || in.getInt(0) != 1) {
            throw fs.bad("POSIX ACL version", at, "not an ext4 ACL (version 1)");
        }
        ByteBuffer out = ByteBuffer.allocate(4 + 2 * disk.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(2);
        int p = 4;
        while (p < disk.length) {
            if (p + 4 > disk.length) {
                throw fs.bad("POSIX ACL entry", at, "truncated");
            }
            int tag = in.getShort(p) & 0xffff;
            int perm = in.getShort(p + 2) & 0xffff;
            int id = -1;
            if (tag == 0x02 || tag == 0x08) { // ACL_USER, ACL_GROUP carry an id
                if (p + 8 > disk.length) {
                    throw fs.bad("POSIX ACL entry", at, "truncated");
                }
                id = in.getInt(p + 4);
                p += 8;
            } else {
                p += 4;
            }
            out.putShort((short) tag).putShort((short) perm).putInt(id);
        }
        byte[] r = new byte[out.position()];
        out.flip().get(r);
        return r;
    }
}
