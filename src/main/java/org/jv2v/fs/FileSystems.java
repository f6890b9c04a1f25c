package org.jv2v.fs;

import org.jv2v.fs.xfs.XfsFormat;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/** Every filesystem jv2v can read, and which of them a device holds. */
public final class FileSystems {
    private static final List<FileSystemFormat> FORMATS = List.of(new XfsFormat());

    private FileSystems() {}

    public static List<FileSystemFormat> formats() {
        return FORMATS;
    }

    /** The first format whose probe recognises the device, if any. */
    public static Optional<FileSystemFormat> probe(BlockDevice device) throws IOException {
        for (FileSystemFormat f : FORMATS) {
            if (f.probe(device)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
