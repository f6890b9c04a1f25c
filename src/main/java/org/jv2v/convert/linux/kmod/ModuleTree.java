package org.jv2v.convert.linux.kmod;

import org.jv2v.BadInputException;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * A kernel's module folder, {@code /lib/modules/KVER}, as the converter sees it in the guest:
 * only "read this file" is needed, so it can be served from a guest filesystem, a folder or a
 * test fixture alike. Paths are relative to the folder and never contain "..".
 */
public interface ModuleTree {

    /** The kernel version, the folder's name ("6.1.0-57-amd64"). */
    String kernelVersion();

    /** Where the tree is, for messages ("/lib/modules/6.1.0-57-amd64 in the guest"). */
    String describe();

    /**
     * The bytes of a regular file ({@code modules.dep}, {@code kernel/drivers/block/virtio_blk.ko}),
     * empty if it does not exist; a file larger than {@code maxBytes} is an error, raised before
     * reading it.
     */
    Optional<byte[]> read(String relPath, int maxBytes) throws IOException;

    /** Reads one file of a tree: the bytes, empty if missing, an error past {@code maxBytes}. */
    @FunctionalInterface
    interface FileReader {
        Optional<byte[]> read(String relPath, int maxBytes) throws IOException;
    }

    /**
     * A tree served by any reader, e.g. the converter's view of the guest:
     * {@code ModuleTree.of(kver, "/lib/modules/" + kver + " in the guest",
     * (rel, max) -> files.read("/lib/modules/" + kver + "/" + rel, max))}. Paths handed to
     * {@code reader} are relative, checked (no "..", no leading "/").
     */
    static ModuleTree of(String kernelVersion, String describe, FileReader reader) {
        if (kernelVersion.isEmpty() || kernelVersion.contains("/") || kernelVersion.equals("..")) {
            throw BadInputException.of(describe + ": '" + kernelVersion + "' is not a kernel version");
        }
        return new ModuleTree() {
            @Override
            public String kernelVersion() {
                return kernelVersion;
            }

            @Override
            public String describe() {
                return describe;
            }

            @Override
            public Optional<byte[]> read(String relPath, int maxBytes) throws IOException {
                return reader.read(checkRelative(relPath, describe), maxBytes);
            }
        };
    }

    /** A folder on this machine (tests, or a tree already extracted), opened read-only. */
    static ModuleTree ofDirectory(Path dir) {
        Path root = dir.toAbsolutePath().normalize();
        String kver = root.getFileName().toString();
        return new ModuleTree() {
            @Override
            public String kernelVersion() {
                return kver;
            }

            @Override
            public String describe() {
                return root.toString();
            }

            @Override
            public Optional<byte[]> read(String relPath, int maxBytes) throws IOException {
                Path p = root.resolve(checkRelative(relPath, root.toString())).normalize();
                if (!Files.isRegularFile(p)) {
                    return Optional.empty();
                }
                if (!p.toRealPath().startsWith(root.toRealPath())) {
                    throw BadInputException.inFile(p, "a symbolic link out of " + root);
                }
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                    long size = ch.size();
                    if (size > maxBytes) {
                        throw BadInputException.inFile(p, size + " bytes, more than the " + maxBytes + " allowed");
                    }
                    ByteBuffer buf = ByteBuffer.allocate((int) size);
                    while (buf.hasRemaining() && ch.read(buf) >= 0) {
                        // read it all
                    }
                    return Optional.of(buf.array());
                } catch (NoSuchFileException e) {
                    return Optional.empty();
                }
            }
        };
    }

    /**
     * {@code /lib/modules/KVER} on a guest filesystem (the root filesystem, or whichever holds
     * {@code /lib}); a module that is a symbolic link (RHEL's weak-updates) is followed inside the
     * filesystem.
     */
    static ModuleTree onFileSystem(FileSystem fs, String kernelVersion) {
        String base = "/lib/modules/" + kernelVersion;
        return new ModuleTree() {
            @Override
            public String kernelVersion() {
                return kernelVersion;
            }

            @Override
            public String describe() {
                return base + " in the guest";
            }

            @Override
            public Optional<byte[]> read(String relPath, int maxBytes) throws IOException {
                String path = base + "/" + checkRelative(relPath, base);
                for (int hops = 0; hops < 8; hops++) {
                    FileStat st;
                    try {
                        st = fs.stat(path);
                    } catch (NoSuchFileException e) {
                        return Optional.empty();
                    }
                    if (st.isRegular()) {
                        if (st.size() > maxBytes) {
                            throw BadInputException.of(path + " in the guest: " + st.size() + " bytes, more than the "
                                    + maxBytes + " allowed");
                        }
                        return Optional.of(fs.readAll(path, maxBytes));
                    }
                    if (!st.isSymlink()) {
                        return Optional.empty();
                    }
                    String target = fs.readlink(path);
                    path = target.startsWith("/") ? target : path.substring(0, path.lastIndexOf('/') + 1) + target;
                }
                throw BadInputException.of(base + "/" + relPath + " in the guest: too many levels of symbolic links");
            }
        };
    }

    private static String checkRelative(String relPath, String where) {
        if (relPath.isEmpty() || relPath.startsWith("/") || relPath.indexOf('\0') >= 0
                || ("/" + relPath + "/").contains("/../")) {
            throw BadInputException.of(where + ": refusing module path '" + relPath + "'");
        }
        return relPath;
    }
}
