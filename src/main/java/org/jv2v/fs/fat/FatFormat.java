package org.jv2v.fs.fat;

import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystemFormat;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;

/** FAT12, FAT16 and FAT32 ("vfat", as libguestfs and blkid name them). */
public final class FatFormat implements FileSystemFormat {
    @Override
    public String name() {
        return "vfat";
    }

    /**
     * A sane BIOS parameter block (every check {@link FatFileSystem#open} makes) behind a jump
     * instruction or the 0x55AA signature. NTFS and exFAT boot sectors fail the checks (their FAT
     * size fields are zero).
     */
    @Override
    public boolean probe(BlockDevice device) throws IOException {
        if (device.size() < BootSector.SIZE) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(BootSector.SIZE);
        device.read(b, 0);
        BootSector bs = BootSector.read(b.flip());
        boolean marked = bs.jump0() == 0xEB || bs.jump0() == 0xE9 || bs.signature() == 0xAA55;
        return marked && Geometry.problem(bs, device.size()) == null;
    }

    @Override
    public FileSystem open(BlockDevice device) throws IOException {
        return FatFileSystem.open(device);
    }
}
