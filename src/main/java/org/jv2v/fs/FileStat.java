package org.jv2v.fs;

import java.time.Instant;

/**
 * What {@code lstat} tells about one file.
 *
 * @param inode  the filesystem's own file number (inode number, MFT record number, ...)
 * @param mode   permission bits and setuid/setgid/sticky (the low 12 bits of st_mode)
 * @param rdev   device number for device files, else 0
 */
public record FileStat(long inode, FileKind kind, long size, int mode, int uid, int gid, long links,
                       Instant atime, Instant mtime, Instant ctime, long rdev) {

    public boolean isDirectory() {
        return kind == FileKind.DIRECTORY;
    }

    public boolean isRegular() {
        return kind == FileKind.REGULAR;
    }

    public boolean isSymlink() {
        return kind == FileKind.SYMLINK;
    }
}
