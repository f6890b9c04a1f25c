package org.jv2v.fs.btrfs;

/** A B-tree key: (objectid, type, offset), ordered with the 64-bit fields unsigned. */
record Key(long objectId, int type, long offset) implements Comparable<Key> {
    static final int SIZE = 17;
    static final Key MIN = new Key(0, 0, 0);
    static final Key MAX = new Key(-1, 0xFF, -1);

    // item types (btrfs_tree.h)
    static final int INODE_ITEM = 1;
    static final int INODE_REF = 12;
    static final int INODE_EXTREF = 13;
    static final int XATTR_ITEM = 24;
    static final int DIR_ITEM = 84;
    static final int DIR_INDEX = 96;
    static final int EXTENT_DATA = 108;
    static final int ROOT_ITEM = 132;
    static final int ROOT_BACKREF = 144;
    static final int ROOT_REF = 156;
    static final int EXTENT_ITEM = 168;
    static final int METADATA_ITEM = 169;
    static final int BLOCK_GROUP_ITEM = 192;
    static final int CHUNK_ITEM = 228;

    /** Reads the 17 bytes of a btrfs_disk_key: objectid 0x0, type 0x8, offset 0x9. */
    static Key read(byte[] d, int o) {
        return new Key(Hashes.le64(d, o), d[o + 8] & 0xFF, Hashes.le64(d, o + 9));
    }

    @Override
    public int compareTo(Key k) {
        int c = Long.compareUnsigned(objectId, k.objectId);
        if (c != 0) {
            return c;
        }
        c = Integer.compare(type, k.type);
        return c != 0 ? c : Long.compareUnsigned(offset, k.offset);
    }

    @Override
    public String toString() {
        return "(" + Long.toUnsignedString(objectId) + " " + type + " " + Long.toUnsignedString(offset) + ")";
    }
}
