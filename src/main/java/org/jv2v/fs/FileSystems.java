package org.jv2v.fs;

import org.jv2v.fs.btrfs.BtrfsFormat;
import org.jv2v.fs.ext.ExtFormat;
import org.jv2v.fs.fat.FatFormat;
import org.jv2v.fs.ntfs.NtfsFormat;
import org.jv2v.fs.xfs.XfsFormat;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Every filesystem jv2v can read, and which of them a device holds. Add new formats to the list.
 * FAT comes last: its boot sector has no magic number, only a BIOS parameter block that must make
 * sense.
 */
public final class FileSystems {
    private static final List<FileSystemFormat> FORMATS = List.of(new ExtFormat(), new XfsFormat(), new NtfsFormat(),
            new BtrfsFormat(), new FatFormat());

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

    /** Opens the filesystem on {@code device}, if a known format recognises it. */
    public static Optional<FileSystem> open(BlockDevice device) throws IOException {
        Optional<FileSystemFormat> f = probe(device);
        return f.isPresent() ? Optional.of(f.get().open(device)) : Optional.empty();
    }
}
