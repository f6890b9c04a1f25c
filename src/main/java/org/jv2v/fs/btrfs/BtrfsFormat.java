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

    /**
     * What a device's superblock says about the filesystem it belongs to, so that the devices of a
     * multi-device filesystem can be grouped (same fsid) before {@link #open(List)}.
     *
     * @param fsid       the filesystem UUID, as blkid prints it
     * @param devId      this device's number within the filesystem
     * @param numDevices how many devices the filesystem has
     */
    public record Member(String fsid, long devId, long numDevices) {}

    /** Reads and checks the superblock of one device (a {@link org.jv2v.BadInputException} if damaged). */
    public static Member member(BlockDevice device) throws IOException {
        Superblock sb = Volume.readSuperblock(device);
        return new Member(Superblock.uuidString(sb.fsid()), sb.devId(), sb.numDevices());
    }

    /** Opens a filesystem spread over several devices (all of them, in any order). */
    public BtrfsFileSystem open(List<BlockDevice> devices) throws IOException {
        return BtrfsFileSystem.open(devices);
    }
}
