package org.jv2v.fs.btrfs;

import org.jv2v.testing.FileDevice;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;

/**
 * Damage done on purpose to a btrfs image made by the real tools, for tests outside this package
 * (inspection): one key of a root tree leaf rewritten, the leaf's checksum recomputed and written to
 * every copy, so that only the meaning is wrong.
 */
public final class BtrfsDamage {
    private BtrfsDamage() {}

    /**
     * Makes subvolume {@code subvol}'s ROOT_BACKREF name {@code newParent} as its parent (it must
     * sort where the old key did: the next item of that subvolume is its ROOT_ITEM or ROOT_REF).
     * Pointing a subvolume at one of its own children makes the parent links loop.
     */
    public static void setRootBackrefParent(Path fsImage, long subvol, long newParent) throws IOException {
        Node node;
        int index = -1;
        List<ChunkMap.Copy> copies;
        ChecksumType csum;
        try (FileDevice dev = FileDevice.open(fsImage)) {
            Volume v = Volume.open(List.<org.jv2v.image.BlockDevice>of(dev));
            Volume.Item[] found = new Volume.Item[1];
            v.walk(v.rootTree, new Key(subvol, Key.ROOT_BACKREF, 0), new Key(subvol, Key.ROOT_BACKREF, -1), it -> {
                found[0] = it;
                return false;
            });
            if (found[0] == null) {
                throw new IllegalArgumentException("subvolume " + subvol + " has no ROOT_BACKREF");
            }
            node = found[0].node();
            for (int i = 0; i < node.count; i++) {
                if (node.key(i).equals(found[0].key())) {
                    index = i;
                }
            }
            copies = v.chunks.copies(node.logical, node.data.length);
            csum = v.csum;
        }
        byte[] b = node.data.clone();
        BtrfsCorruptionTest.putLe(b, Node.HEADER + index * Node.ITEM + 9, newParent, 8); // key offset (the parent)
        byte[] sum = csum.compute(b, 0x20, b.length - 0x20);
        System.arraycopy(sum, 0, b, 0, sum.length);
        try (RandomAccessFile f = new RandomAccessFile(fsImage.toFile(), "rw")) {
            for (ChunkMap.Copy c : copies) {
                f.seek(c.offset());
                f.write(b);
            }
        }
    }
}
