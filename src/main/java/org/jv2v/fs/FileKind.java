package org.jv2v.fs;

/** The kind of a file, as the filesystem records it. */
public enum FileKind {
    REGULAR, DIRECTORY, SYMLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO, SOCKET;

    /**
     * The kind a directory entry's type byte names, in the Linux numbering (DT_* / FT_*) that ext,
     * XFS and btrfs store: 1 regular, 2 directory, 3 character device, 4 block device, 5 FIFO,
     * 6 socket, 7 symlink. Null for any other value (0: the filesystem does not record it).
     */
    public static FileKind ofDirEntryType(int type) {
        return switch (type) {
            case 1 -> REGULAR;
            case 2 -> DIRECTORY;
            case 3 -> CHAR_DEVICE;
            case 4 -> BLOCK_DEVICE;
            case 5 -> FIFO;
            case 6 -> SOCKET;
            case 7 -> SYMLINK;
            default -> null;
        };
    }
}
