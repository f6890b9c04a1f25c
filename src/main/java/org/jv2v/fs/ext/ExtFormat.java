package org.jv2v.fs.ext;

import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystemFormat;
import org.jv2v.fs.WritableFileSystem;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** ext2, ext3 and ext4 (one on-disk family, told apart by feature flags). */
public final class ExtFormat implements FileSystemFormat {
    @Override
    public String name() {
        return "ext";
    }

    @Override
    public boolean probe(BlockDevice device) throws IOException {
        if (device.size() < Superblock.OFFSET + Superblock.SIZE) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(Superblock.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        device.read(b, Superblock.OFFSET);
        Superblock sb = Superblock.read(b.flip());
        return sb.magic() == Superblock.MAGIC && sb.logBlockSize() >= 0
                && sb.logBlockSize() <= ExtFileSystem.MAX_LOG_BLOCK_SIZE && sb.inodesPerGroup() > 0
                && sb.blocksPerGroup() > 0 && !sb.hasIncompat(Superblock.INCOMPAT_JOURNAL_DEV);
    }

    @Override
    public FileSystem open(BlockDevice device) throws IOException {
        return ExtFileSystem.open(device);
    }

    @Override
    public WritableFileSystem openWritable(BlockDevice device) throws IOException {
        return ExtWritableFileSystem.open(device);
    }
}
