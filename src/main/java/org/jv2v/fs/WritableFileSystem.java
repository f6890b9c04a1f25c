package org.jv2v.fs;

import java.io.IOException;

/**
 * The edits a conversion makes to a guest filesystem, done directly on its structures (no
 * kernel, no helper VM). Opened on a writable device, which during conversion is always the
 * copy-on-write overlay, never the source.
 *
 * <p>Every edit leaves a filesystem that the filesystem's own checker (e2fsck -fn, xfs_repair -n)
 * finds clean. A filesystem whose journal or log is not clean (the guest was not shut down
 * cleanly) is refused when opened for writing, with a message saying so.
 */
public interface WritableFileSystem extends FileSystem {

    /**
     * Replaces the content of an existing regular file, larger or smaller, keeping its inode,
     * owner, mode, timestamps and extended attributes (SELinux labels).
     */
    void rewrite(String path, byte[] content) throws IOException;

    /** Creates a new regular file; the parent directory must exist and the name must not. */
    default void create(String path, byte[] content, int mode, int uid, int gid) throws IOException {
        create(path, content, mode, uid, gid, java.util.Map.of());
    }

    /**
     * Creates a new regular file with extended attributes, names with their namespace prefix as
     * {@link #xattrs} returns them: above all its SELinux label ("security.selinux", copied from a
     * neighbour), without which an enforcing guest may not let its services read the file. Attributes
     * a format cannot store are refused before anything changes.
     */
    void create(String path, byte[] content, int mode, int uid, int gid, java.util.Map<String, byte[]> xattrs)
            throws IOException;

    /** Creates a symbolic link (e.g. masking a service: {@code unit -> /dev/null}). */
    void symlink(String path, String target, int uid, int gid) throws IOException;

    /** Creates a directory; the parent must exist. */
    void mkdir(String path, int mode, int uid, int gid) throws IOException;

    /** Removes a name that is not a directory (a file or a symlink), freeing it at the last link. */
    void unlink(String path) throws IOException;

    /** Writes everything to the device; the filesystem stays open. */
    void flush() throws IOException;
}
