package org.jv2v.fs.ntfs;

import org.jv2v.BadInputException;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystemFormat;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;

/** NTFS: recognised by its boot sector ("NTFS    " OEM id and sane geometry). */
public final class NtfsFormat implements FileSystemFormat {
    @Override
    public String name() {
        return "ntfs";
    }

    @Override
    public boolean probe(BlockDevice device) throws IOException {
        if (device.size() < BootSector.SIZE) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(BootSector.SIZE);
        device.read(b, 0);
        b.flip();
        if (!BootSector.hasMagic(b)) {
            return false;
        }
        try {
            BootSector.read(b, device.describe(), device.size());
            return true;
        } catch (BadInputException e) {
            return false;
        }
    }

    @Override
    public FileSystem open(BlockDevice device) throws IOException {
        return NtfsFileSystem.open(device);
    }
}
