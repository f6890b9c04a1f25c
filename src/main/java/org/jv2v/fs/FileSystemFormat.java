package org.jv2v.fs;

import org.jv2v.image.BlockDevice;

import java.io.IOException;

/** One filesystem type: recognises its superblock and opens it. One package each (ext, xfs ...). */
public interface FileSystemFormat {

    String name();

    /** True when the device holds this filesystem (magic and a sane superblock). */
    boolean probe(BlockDevice device) throws IOException;

    /** Opens read-only. */
    FileSystem open(BlockDevice device) throws IOException;

    /**
     * Opens for editing (see {@link WritableFileSystem}); formats that cannot edit say so with a
     * {@link org.jv2v.Jv2vException}.
     */
    default WritableFileSystem openWritable(BlockDevice device) throws IOException {
        throw new org.jv2v.Jv2vException(device.describe() + ": editing " + name() + " filesystems is not supported");
    }
}
