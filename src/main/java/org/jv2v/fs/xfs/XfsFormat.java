package org.jv2v.fs.xfs;

import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystemFormat;
import org.jv2v.fs.WritableFileSystem;
import org.jv2v.image.BlockDevice;

import java.io.IOException;

/** XFS, v4 and v5: recognised by its superblock at byte 0. */
public final class XfsFormat implements FileSystemFormat {

    @Override
    public String name() {
        return "xfs";
    }

    @Override
    public boolean probe(BlockDevice device) throws IOException {
        return XfsFileSystem.probe(device);
    }

    @Override
    public FileSystem open(BlockDevice device) throws IOException {
        return XfsFileSystem.open(device);
    }

    /** Opens for editing; see {@link XfsWritableFileSystem} for what is refused. */
    @Override
    public WritableFileSystem openWritable(BlockDevice device) throws IOException {
        return XfsWritableFileSystem.open(device);
    }
}
