package org.jv2v.convert.linux;

import org.jv2v.Jv2vException;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.WritableFileSystem;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link GuestFiles} over the guest's filesystems, each mounted at its mount point: a path is
 * served by the filesystem with the longest mount point that contains it. Symbolic links are
 * resolved here, one component at a time, so that an absolute link on the root filesystem
 * ({@code /etc/sysconfig/grub -> ../default/grub}, {@code /boot/grub2/grubenv ->
 * ../efi/EFI/redhat/grubenv}) lands on the right filesystem, as in the running guest.
 */
public final class MountedGuestFiles implements GuestFiles {

    /**
     * One mounted filesystem.
     *
     * @param mountPoint "/", "/boot", "/boot/efi"
     * @param device     the volume it is on, for messages ("/dev/sda1", "/dev/rhel/root")
     * @param fs         the filesystem; a {@link WritableFileSystem} when it may be edited
     * @param readOnlyReason why it may not be edited, when {@code fs} is not writable
     */
    public record Mount(String mountPoint, String device, FileSystem fs, Optional<String> readOnlyReason) {
        public Mount {
            if (!mountPoint.startsWith("/") || mountPoint.length() > 1 && mountPoint.endsWith("/")) {
                throw new IllegalArgumentException("mount point must be absolute without a trailing slash: " + mountPoint);
            }
        }

        public boolean writable() {
            return fs instanceof WritableFileSystem;
        }
    }

    private final List<Mount> mounts;
    private final Set<Mount> dirty = new LinkedHashSet<>();

    public MountedGuestFiles(List<Mount> mounts) {
        if (mounts.stream().noneMatch(m -> m.mountPoint().equals("/"))) {
            throw new IllegalArgumentException("no filesystem mounted at /");
        }
        this.mounts = mounts.stream().sorted(Comparator.comparingInt((Mount m) -> m.mountPoint().length()).reversed())
                .toList();
    }

    public List<Mount> mounts() {
        return mounts;
    }

    private record Located(Mount mount, String inner) {}

    private Located locate(String path) {
        for (Mount m : mounts) {
            String mp = m.mountPoint();
            if (mp.equals("/")) {
                return new Located(m, path);
            }
            if (path.equals(mp)) {
                return new Located(m, "/");
            }
            if (path.startsWith(mp + "/")) {
                return new Located(m, path.substring(mp.length()));
            }
        }
        throw new IllegalStateException("no mount for " + path);
    }

    private static void checkAbsolute(String path) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("not an absolute guest path: " + path);
        }
    }

    /** lstat of an already resolved path (no link in it but perhaps the last component). */
    private Optional<FileStat> rawLstat(String resolved) throws IOException {
        Located l = locate(resolved);
        try {
            return Optional.of(l.mount().fs().stat(l.inner()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Resolves links in every component; {@code followLast} also for the last one. */
    private String resolve(String path, boolean followLast) throws IOException {
        checkAbsolute(path);
        Deque<String> todo = new ArrayDeque<>(components(path));
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.pollFirst();
            if (c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (!done.isEmpty()) {
                    done.removeLast();
                }
                continue;
            }
            String candidate = "/" + String.join("/", done) + (done.isEmpty() ? "" : "/") + c;
            boolean last = todo.isEmpty();
            Optional<FileStat> st = rawLstat(candidate);
            if (st.isPresent() && st.get().kind() == FileKind.SYMLINK && (!last || followLast)) {
                if (++links > MAX_SYMLINKS) {
                    throw new Jv2vException(path + ": more than " + MAX_SYMLINKS + " symbolic links (a loop)");
                }
                Located l = locate(candidate);
                String target = l.mount().fs().readlink(l.inner());
                List<String> t = components(target);
                for (int i = t.size() - 1; i >= 0; i--) {
                    todo.addFirst(t.get(i));
                }
                if (target.startsWith("/")) {
                    done.clear();
                }
                continue;
            }
            done.add(c);
            if (st.isEmpty() && !last) {
                // a missing directory: the rest cannot hold links
                done.addAll(todo.stream().filter(x -> !x.equals(".")).toList());
                todo.clear();
            }
        }
        return "/" + String.join("/", done);
    }

    private static List<String> components(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    @Override
    public String resolve(String path) throws IOException {
        return resolve(path, true);
    }

    @Override
    public Optional<byte[]> read(String path, int maxBytes) throws IOException {
        String r = resolve(path, true);
        Located l = locate(r);
        Optional<FileStat> st = rawLstat(r);
        if (st.isEmpty() || st.get().kind() != FileKind.REGULAR) {
            return Optional.empty();
        }
        if (st.get().size() > maxBytes) {
            throw new Jv2vException(path + " in the guest: " + st.get().size() + " bytes, more than the " + maxBytes
                    + " allowed");
        }
        return Optional.of(l.mount().fs().readAll(l.inner(), maxBytes));
    }

    @Override
    public Optional<FileStat> lstat(String path) throws IOException {
        return rawLstat(resolve(path, false));
    }

    @Override
    public List<String> list(String dir) throws IOException {
        String r = resolve(dir, true);
        Optional<FileStat> st = rawLstat(r);
        if (st.isEmpty() || st.get().kind() != FileKind.DIRECTORY) {
            return List.of();
        }
        Located l = locate(r);
        List<String> names = new ArrayList<>(l.mount().fs().list(l.inner()).stream().map(e -> e.name()).toList());
        // a mount point below this directory shows even if the directory under it is missing
        for (Mount m : mounts) {
            if (!m.mountPoint().equals("/") && GuestFiles.parent(m.mountPoint()).equals(r)
                    && !names.contains(GuestFiles.name(m.mountPoint()))) {
                names.add(GuestFiles.name(m.mountPoint()));
            }
        }
        names.sort(null);
        return names;
    }

    @Override
    public Optional<String> readlink(String path) throws IOException {
        String r = resolve(path, false);
        Optional<FileStat> st = rawLstat(r);
        if (st.isEmpty() || st.get().kind() != FileKind.SYMLINK) {
            return Optional.empty();
        }
        Located l = locate(r);
        return Optional.of(l.mount().fs().readlink(l.inner()));
    }

    @Override
    public String describe(String path) throws IOException {
        Mount m = locate(resolve(path, false)).mount();
        return m.device() + " (" + m.fs().type() + ", mounted at " + m.mountPoint() + ")";
    }

    @Override
    public Optional<String> whyReadOnly(String path) throws IOException {
        Mount m = locate(resolve(path, false)).mount();
        if (m.writable()) {
            return Optional.empty();
        }
        return Optional.of(m.readOnlyReason().orElse(m.device() + " (" + m.fs().type() + ") is open read-only"));
    }

    private WritableFileSystem writable(Mount m, String path) {
        if (m.fs() instanceof WritableFileSystem w) {
            dirty.add(m);
            return w;
        }
        throw new Jv2vException("cannot edit " + path + ": " + m.readOnlyReason()
                .orElse(m.device() + " (" + m.fs().type() + ") is open read-only"));
    }

    @Override
    public void rewrite(String path, byte[] content) throws IOException {
        Located l = locate(resolve(path, true));
        writable(l.mount(), path).rewrite(l.inner(), content);
    }

    @Override
    public void create(String path, byte[] content, int mode, int uid, int gid) throws IOException {
        Located l = locate(resolve(path, false));
        writable(l.mount(), path).create(l.inner(), content, mode, uid, gid, selinuxLabel(l));
    }

    /**
     * The SELinux label a new file gets: its folder's, or (a folder jv2v made has none) the nearest
     * labelled one above it on the same filesystem. A file without a label is unlabeled_t to an
     * enforcing guest, which its services may not read (udevd a .link file); the policy labels a
     * folder's contents as the folder in nearly every rule ("/etc/udev/rules.d(/.*)?"). Empty where
     * the filesystem has no labels (FAT, or a guest without SELinux).
     */
    private static Map<String, byte[]> selinuxLabel(Located l) throws IOException {
        for (String d = GuestFiles.parent(l.inner()); ; d = GuestFiles.parent(d)) {
            byte[] label = l.mount().fs().xattrs(d).get(SELINUX_XATTR);
            if (label != null) {
                return Map.of(SELINUX_XATTR, label);
            }
            if (d.equals("/")) {
                return Map.of();
            }
        }
    }

    private static final String SELINUX_XATTR = "security.selinux";

    @Override
    public void symlink(String path, String target) throws IOException {
        Located l = locate(resolve(path, false));
        writable(l.mount(), path).symlink(l.inner(), target, 0, 0);
    }

    @Override
    public void mkdir(String path, int mode) throws IOException {
        Located l = locate(resolve(path, false));
        writable(l.mount(), path).mkdir(l.inner(), mode, 0, 0);
    }

    @Override
    public void unlink(String path) throws IOException {
        Located l = locate(resolve(path, false));
        writable(l.mount(), path).unlink(l.inner());
    }

    @Override
    public void flush() throws IOException {
        for (Mount m : dirty) {
            ((WritableFileSystem) m.fs()).flush();
        }
    }
}
