package org.jv2v.fs;

/** The kind of a file, as the filesystem records it. */
public enum FileKind {
    REGULAR, DIRECTORY, SYMLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO, SOCKET
}
