package org.jv2v.convert.linux;

import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The guest's file tree as its running system would see it (its filesystems mounted where fstab
 * says), for reading and for the edits of a conversion. Paths are absolute guest paths; symbolic
 * links are followed across mounts as the guest kernel would, within {@link #MAX_SYMLINKS}.
 *
 * <p>Implementations: {@link MountedGuestFiles} over jv2v's filesystem readers and writers (the
 * conversion itself), and a host folder (tests).
 */
public interface GuestFiles {
    /** As Linux's MAXSYMLINKS: more links than this in one path is a loop. */
    int MAX_SYMLINKS = 40;

    /** The bytes of a regular file (links followed), empty if there is none; larger than {@code maxBytes} is an error. */
    Optional<byte[]> read(String path, int maxBytes) throws IOException;

    /** Metadata of the last component itself (a link is not followed), empty if it does not exist. */
    Optional<FileStat> lstat(String path) throws IOException;

    /** The names in a directory (links followed), sorted; empty if it is missing or not a directory. */
    List<String> list(String dir) throws IOException;

    /** A symbolic link's target, empty if {@code path} is not a link. */
    Optional<String> readlink(String path) throws IOException;

    /** {@code path} with every symbolic link resolved (the last component may not exist). */
    String resolve(String path) throws IOException;

    /** Where {@code path} lives, for messages: "/dev/sda1 (ext4)". */
    String describe(String path) throws IOException;

    /** Why the filesystem holding {@code path} cannot be edited, if it cannot. */
    Optional<String> whyReadOnly(String path) throws IOException;

    /** Replaces a regular file's content (links followed), keeping its owner, mode and labels. */
    void rewrite(String path, byte[] content) throws IOException;

    /** Creates a regular file; the directory must exist and the name must not. */
    void create(String path, byte[] content, int mode, int uid, int gid) throws IOException;

    void symlink(String path, String target) throws IOException;

    void mkdir(String path, int mode) throws IOException;

    /** Removes a file or a symbolic link (not followed). */
    void unlink(String path) throws IOException;

    /** Writes every edited filesystem out. */
    void flush() throws IOException;

    default Optional<FileStat> stat(String path) throws IOException {
        return lstat(resolve(path));
    }

    default boolean exists(String path) throws IOException {
        return lstat(path).isPresent();
    }

    default boolean isFile(String path) throws IOException {
        return stat(path).map(s -> s.kind() == FileKind.REGULAR).orElse(false);
    }

    default boolean isDirectory(String path) throws IOException {
        return stat(path).map(s -> s.kind() == FileKind.DIRECTORY).orElse(false);
    }

    default boolean isSymlink(String path) throws IOException {
        return lstat(path).map(s -> s.kind() == FileKind.SYMLINK).orElse(false);
    }

    /** A configuration file as text (bytes kept as ISO-8859-1), at most {@link #MAX_CONFIG_BYTES}. */
    default Optional<String> readText(String path) throws IOException {
        return read(path, MAX_CONFIG_BYTES).map(b -> new String(b, StandardCharsets.ISO_8859_1));
    }

    /**
     * Configuration files edited here are a few KiB; grub.cfg with hundreds of kernels stays well
     * under 1 MiB. 4 MiB refuses absurd files before they are read whole.
     */
    int MAX_CONFIG_BYTES = 4 << 20;

    /** Joins a directory and a name. */
    static String join(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }

    /** The parent directory of an absolute path ("/" for "/x"). */
    static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
