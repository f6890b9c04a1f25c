package org.jv2v.fs;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A filesystem on a {@link org.jv2v.image.BlockDevice}, read-only (edits come later, per
 * filesystem, as each earns them). Paths are absolute within the filesystem ("/etc/fstab");
 * symbolic links in the middle of a path are followed inside the filesystem, the last component
 * is not (lstat semantics). Structures are untrusted: loops, absurd counts and offsets past the
 * device are {@link org.jv2v.BadInputException}s, never hangs or huge allocations.
 */
public interface FileSystem extends Closeable {

    /** "ext4", "xfs", "vfat", "ntfs", "btrfs" (the names libguestfs uses). */
    String type();

    Optional<String> label();

    /** The UUID as blkid prints it. */
    Optional<String> uuid();

    /** lstat of {@code path}; {@link java.nio.file.NoSuchFileException} if it does not exist. */
    FileStat stat(String path) throws IOException;

    /** The names in a directory, in the filesystem's own order. */
    List<DirEntry> list(String dir) throws IOException;

    /** Reads up to {@code dst.remaining()} bytes of a regular file at {@code position}; -1 at EOF. */
    int read(String file, ByteBuffer dst, long position) throws IOException;

    /** The target of a symbolic link. */
    String readlink(String link) throws IOException;

    /** Extended attributes, names with their namespace prefix ("security.selinux"). */
    Map<String, byte[]> xattrs(String path) throws IOException;

    /**
     * Every byte range of the device the filesystem uses (metadata, journal, file data), sorted and
     * merged. Never wrong in the unsafe direction: a range that is in use must be listed.
     */
    List<ByteRange> usedRanges() throws IOException;

    /** Total and free bytes, as statvfs would tell. */
    SpaceUsage space() throws IOException;

    /** Reads a whole regular file, refusing one bigger than {@code maxBytes}. */
    default byte[] readAll(String file, int maxBytes) throws IOException {
        FileStat st = stat(file);
        if (!st.isRegular()) {
            throw new IOException(file + ": not a regular file");
        }
        if (st.size() > maxBytes) {
            throw new IOException(file + ": " + st.size() + " bytes, more than the " + maxBytes + " allowed");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) st.size());
        while (buf.hasRemaining() && read(file, buf, buf.position()) > 0) {
            // keep reading
        }
        return buf.array();
    }

    record SpaceUsage(long totalBytes, long freeBytes) {}
}
