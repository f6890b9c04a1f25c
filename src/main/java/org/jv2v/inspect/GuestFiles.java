package org.jv2v.inspect;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A guest's directory tree as its kernel would see it once every filesystem is mounted: paths are
 * resolved component by component, so a symbolic link is followed inside the guest, across
 * mounts, and relative to the guest's root when absolute ({@code /etc/os-release ->
 * ../usr/lib/os-release} on a guest whose /usr is another filesystem). Read-only, and every read
 * is capped: a guest's files are untrusted input.
 */
public final class GuestFiles {
    /** Linux gives up after 40 links in one lookup (MAXSYMLINKS); so do we, with an error. */
    public static final int MAX_SYMLINKS = 40;
    /**
     * The largest configuration file read whole: libguestfs's inspection reads none bigger
     * (its is_small_file bound, 2 * 1048 * 1024 bytes); real release files and fstabs are tiny.
     */
    public static final int MAX_SMALL_FILE = 2 * 1048 * 1024;
    /** Deepest path followed: more components than any real tree, fewer than a crafted loop. */
    static final int MAX_COMPONENTS = 4096;

    /** A filesystem mounted at {@code mountPoint}; {@code prefix} is its subvolume's path ("" for the top). */
    public record Mount(String mountPoint, FileSystem fs, String prefix) {}

    /** Where a guest path lives: the mount and the path inside that filesystem. */
    public record Resolved(String path, Mount mount, String inside, FileStat stat) {}

    private final TreeMap<String, Mount> mounts = new TreeMap<>();

    private GuestFiles() {}

    /** One filesystem as the whole tree (inspection's first look at each filesystem). */
    public static GuestFiles of(FileSystem root) {
        return of(List.of(new Mount("/", root, "")));
    }

    /** The tree with each filesystem at its mount point; there must be one at "/". */
    public static GuestFiles of(List<Mount> mounts) {
        GuestFiles g = new GuestFiles();
        for (Mount m : mounts) {
            g.mounts.put(canonical(m.mountPoint()), m);
        }
        if (!g.mounts.containsKey("/")) {
            throw new IllegalArgumentException("no filesystem at /");
        }
        return g;
    }

    public List<Mount> mounts() {
        return List.copyOf(mounts.values());
    }

    /**
     * Resolves {@code path}: every symbolic link in the middle is followed, the last one only when
     * {@code followLast}. Empty when some component does not exist or is not a directory.
     *
     * @throws FileSystemLoopException after {@link #MAX_SYMLINKS} links
     * @throws IOException             when a filesystem cannot read its own structures
     */
    public Optional<Resolved> resolve(String path, boolean followLast) throws IOException {
        Deque<String> todo = new ArrayDeque<>();
        push(todo, path);
        List<String> done = new ArrayList<>();
        int links = 0;
        int steps = 0;
        Resolved cur = at(done);
        while (!todo.isEmpty()) {
            if (++steps > MAX_COMPONENTS) {
                throw new FileSystemLoopException(path);
            }
            String name = todo.pop();
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            if (!cur.stat().isDirectory()) {
                return Optional.empty();
            }
            if (name.equals("..")) {
                if (!done.isEmpty()) {
                    done.removeLast();
                }
                cur = at(done);
                continue;
            }
            done.add(name);
            Optional<Resolved> next = lstat(done);
            if (next.isEmpty()) {
                return Optional.empty();
            }
            Resolved r = next.get();
            if (r.stat().isSymlink() && (!todo.isEmpty() || followLast)) {
                if (++links > MAX_SYMLINKS) {
                    throw new FileSystemLoopException(path);
                }
                String target = r.mount().fs().readlink(r.inside());
                done.removeLast();
                if (target.startsWith("/")) {
                    done.clear();
                }
                push(todo, target);
                cur = at(done);
            } else {
                cur = r;
            }
        }
        return Optional.of(cur);
    }

    /** lstat: the last component is not followed. */
    public Optional<FileStat> lstat(String path) throws IOException {
        return resolve(path, false).map(Resolved::stat);
    }

    /** stat: symbolic links followed to the end. */
    public Optional<FileStat> stat(String path) throws IOException {
        return resolve(path, true).map(Resolved::stat);
    }

    /** The path with every link resolved, as realpath(3) gives it inside the guest. */
    public Optional<String> realPath(String path) throws IOException {
        return resolve(path, true).map(Resolved::path);
    }

    /** A regular file itself (not a link to one). */
    public boolean isFile(String path) throws IOException {
        return lstat(path).map(FileStat::isRegular).orElse(false);
    }

    /** A regular file, or a link that leads to one. */
    public boolean isFileFollowing(String path) throws IOException {
        return stat(path).map(FileStat::isRegular).orElse(false);
    }

    /** A directory itself (not a link to one). */
    public boolean isDir(String path) throws IOException {
        return lstat(path).map(FileStat::isDirectory).orElse(false);
    }

    public boolean isDirFollowing(String path) throws IOException {
        return stat(path).map(FileStat::isDirectory).orElse(false);
    }

    public boolean exists(String path) throws IOException {
        return lstat(path).isPresent();
    }

    /** The target of a symbolic link, as stored. */
    public Optional<String> readlink(String path) throws IOException {
        Optional<Resolved> r = resolve(path, false);
        if (r.isEmpty() || !r.get().stat().isSymlink()) {
            return Optional.empty();
        }
        return Optional.of(r.get().mount().fs().readlink(r.get().inside()));
    }

    /** The names in a directory (links followed); empty when it is not one. */
    public List<DirEntry> list(String dir) throws IOException {
        Optional<Resolved> r = resolve(dir, true);
        if (r.isEmpty() || !r.get().stat().isDirectory()) {
            return List.of();
        }
        List<DirEntry> out = new ArrayList<>(r.get().mount().fs().list(r.get().inside()));
        // a directory that is a mount point's parent shows the mount's own root, not what lies beneath
        return out;
    }

    /**
     * A whole regular file (links followed) of at most {@code maxBytes}; empty when it does not
     * exist, is not a regular file, or is bigger.
     */
    public Optional<byte[]> readSmall(String path, int maxBytes) throws IOException {
        Optional<Resolved> r = resolve(path, true);
        if (r.isEmpty() || !r.get().stat().isRegular() || r.get().stat().size() > maxBytes) {
            return Optional.empty();
        }
        return Optional.of(r.get().mount().fs().readAll(r.get().inside(), maxBytes));
    }

    /** A small text file as UTF-8 (malformed bytes replaced), or empty; see {@link #readSmall}. */
    public Optional<String> readText(String path) throws IOException {
        return readSmall(path, MAX_SMALL_FILE).map(b -> new String(b, StandardCharsets.UTF_8));
    }

    /** The first {@code n} bytes of a regular file (links followed), fewer if it is shorter. */
    public Optional<byte[]> readHead(String path, int n) throws IOException {
        Optional<Resolved> r = resolve(path, true);
        if (r.isEmpty() || !r.get().stat().isRegular()) {
            return Optional.empty();
        }
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(n, r.get().stat().size()));
        FileSystem fs = r.get().mount().fs();
        while (buf.hasRemaining() && fs.read(r.get().inside(), buf, buf.position()) > 0) {
            // keep reading
        }
        byte[] out = new byte[buf.position()];
        buf.flip().get(out);
        return Optional.of(out);
    }

    /**
     * The path as the guest spells it, found ignoring case in every component (Windows names, as
     * libguestfs's case_sensitive_path); empty when some component is missing.
     */
    public Optional<String> findIgnoringCase(String path) throws IOException {
        String cur = "/";
        Deque<String> parts = new ArrayDeque<>();
        push(parts, path);
        while (!parts.isEmpty()) {
            String name = parts.pop();
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            String found = null;
            for (DirEntry e : list(cur)) {
                if (e.name().equals(name)) {
                    found = e.name();
                    break;
                }
                if (found == null && e.name().equalsIgnoreCase(name)) {
                    found = e.name();
                }
            }
            if (found == null) {
                return Optional.empty();
            }
            cur = cur.equals("/") ? "/" + found : cur + "/" + found;
        }
        return Optional.of(cur);
    }

    // ---- internals ----

    /** The directory reached by the canonical components {@code parts} (known to exist). */
    private Resolved at(List<String> parts) throws IOException {
        return lstat(parts).orElseThrow(() -> new NoSuchFileException(join(parts)));
    }

    private Optional<Resolved> lstat(List<String> parts) throws IOException {
        String path = join(parts);
        Map.Entry<String, Mount> e = mountFor(path);
        Mount m = e.getValue();
        String rel = path.equals(e.getKey()) ? "/" : path.substring(e.getKey().equals("/") ? 0 : e.getKey().length());
        String inside = m.prefix().isEmpty() ? rel : (rel.equals("/") ? m.prefix() : m.prefix() + rel);
        try {
            return Optional.of(new Resolved(path, m, inside, m.fs().stat(inside)));
        } catch (NoSuchFileException | NotDirectoryException ex) {
            return Optional.empty();
        }
    }

    private Map.Entry<String, Mount> mountFor(String path) {
        for (Map.Entry<String, Mount> e = mounts.floorEntry(path); e != null; e = mounts.lowerEntry(e.getKey())) {
            String mp = e.getKey();
            if (mp.equals("/") || path.equals(mp) || path.startsWith(mp + "/")) {
                return e;
            }
        }
        return mounts.firstEntry();
    }

    private static String join(List<String> parts) {
        return parts.isEmpty() ? "/" : "/" + String.join("/", parts);
    }

    private static void push(Deque<String> todo, String path) {
        String[] s = path.split("/");
        for (int i = s.length - 1; i >= 0; i--) {
            todo.push(s[i]);
        }
    }

    /** "///usr//local/" -> "/usr/local", as libguestfs canonicalises fstab mount points. */
    static String canonical(String path) {
        StringBuilder b = new StringBuilder();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                b.append('/').append(s);
            }
        }
        return b.isEmpty() ? "/" : b.toString();
    }
}
