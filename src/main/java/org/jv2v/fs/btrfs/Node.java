package org.jv2v.fs.btrfs;

/**
 * One checked tree block (struct btrfs_header, then items for a leaf or key pointers for a node).
 * Everything a reader asks of it has been bounds-checked by {@link Volume#node}.
 */
final class Node {
    static final int HEADER = 0x65;
    static final int ITEM = 25;      // struct btrfs_item: key, offset u32 0x11, size u32 0x15
    static final int KEY_PTR = 33;   // struct btrfs_key_ptr: key, blockptr u64 0x11, generation u64 0x19
    /** BTRFS_MAX_LEVEL: a tree is at most 8 levels deep (0..7). */
    static final int MAX_LEVEL = 7;

    final long logical;
    final int level;
    final int count;
    final long generation;
    final byte[] data;

    Node(long logical, byte[] data) {
        this.logical = logical;
        this.data = data;
        this.generation = Hashes.le64(data, 0x50); // 0x50 generation
        this.count = Hashes.le32(data, 0x60);      // 0x60 nritems
        this.level = data[0x64] & 0xFF;            // 0x64 level
    }

    boolean isLeaf() {
        return level == 0;
    }

    Key key(int i) {
        return Key.read(data, HEADER + i * (isLeaf() ? ITEM : KEY_PTR));
    }

    /** Absolute offset in {@link #data} of leaf item {@code i}'s data. */
    int itemOffset(int i) {
        return HEADER + Hashes.le32(data, HEADER + i * ITEM + 0x11);
    }

    int itemSize(int i) {
        return Hashes.le32(data, HEADER + i * ITEM + 0x15);
    }

    long blockPtr(int i) {
        return Hashes.le64(data, HEADER + i * KEY_PTR + 0x11);
    }

    long ptrGeneration(int i) {
        return Hashes.le64(data, HEADER + i * KEY_PTR + 0x19);
    }
}
