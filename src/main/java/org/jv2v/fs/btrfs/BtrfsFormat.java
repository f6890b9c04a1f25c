package org.jv2v.fs.btrfs;

import org.jv2v.image.BlockDevice;
import org.jv2v.fs.FileSystemFormat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** btrfs: recognised by the magic of its primary superblock at 64 KiB. */
public final class BtrfsFormat implements FileSystemFormat {
    @Override
    public String name() {
        return "btrfs";
    }

    /**
     * The magic only: a damaged superblock behind it is then reported by {@link #open} with its
     * reason, rather than the device going unrecognised.
     */
    @Override
    public boolean probe(BlockDevice device) throws IOException {
        if (device.size() < Superblock.OFFSET + Superblock.SIZE) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        device.read(b, Superblock.OFFSET + 0x40);
        return b.getLong(0) == Superblock.MAGIC;
    }

    /** Opens a single-device filesystem; its default subvolume is "/". */
    @Override
    public BtrfsFileSystem open(BlockDevice device) throws IOException {
        return BtrfsFileSystem.open(device);
    }

    /** Opens a filesystem spread over several devices (all of them, in any order). */
    public BtrfsFileSystem open(List<BlockDevice> devices) throws IOException {
        return BtrfsFileSystem.open(devices);
    }
}
