package org.jv2v.convert.linux;

import org.jv2v.Jv2vException;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystemFormat;
import org.jv2v.fs.FileSystems;
import org.jv2v.inspect.GuestInfo;
import org.jv2v.inspect.Inspection;
import org.jv2v.inspect.MountPoint;
import org.jv2v.inspect.Mountables;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The guest's filesystems opened for the conversion, each at the mount point its fstab gives: the
 * root and every filesystem mounted below it that jv2v can open. Opened for editing when the
 * inspected disks are writable (the overlays), so that a filesystem whose journal or log is not
 * clean is refused here, before anything is changed or copied.
 *
 * @param files      the guest's tree
 * @param unreadable mount points that could not be opened, with why (the ESP while there is no FAT
 *                   reader); the converter says what it could not check
 */
public record GuestMounts(MountedGuestFiles files, Map<String, String> unreadable) implements AutoCloseable {

    /**
     * Opens the filesystems of {@code root}, found by {@code in}, writable (all edits then land on
     * the devices {@code in} was made from, which must be overlays).
     *
     * @throws Jv2vException when the root, or a filesystem the conversion may have to edit (/boot,
     *                       /usr), cannot be opened for editing: with the filesystem's own reason
     */
    public static GuestMounts open(Inspection in, GuestInfo root) throws IOException {
        return open(in, root, false);
    }

    /**
     * As {@link #open(Inspection, GuestInfo)}; with {@code readOnlyFallback} (for {@code --plan}) a
     * filesystem that cannot be opened for editing is opened read-only instead, with the reason
     * kept in its {@link MountedGuestFiles.Mount#readOnlyReason()} (see {@link #refusals()}).
     */
    public static GuestMounts open(Inspection in, GuestInfo root, boolean readOnlyFallback) throws IOException {
        List<MountedGuestFiles.Mount> mounts = new ArrayList<>();
        Map<String, String> unreadable = new LinkedHashMap<>();
        boolean rootSeen = false;
        try {
            for (MountPoint mp : root.mountpoints()) {
                if (!mp.path().startsWith("/")) {
                    continue;
                }
                Optional<Mountables.Parsed> where = in.mountable(mp.device());
                Optional<Inspection.ProbedVolume> v = where.flatMap(w -> in.volume(w.device()));
                if (v.isEmpty()) {
                    if (mp.path().equals("/")) {
                        throw new Jv2vException("cannot convert: the root filesystem " + mp.device()
                                + " was not found on the guest's disks");
                    }
                    unreadable.put(mp.path(), "is on " + mp.device() + ", which is not on the guest's disks");
                    continue;
                }
                Optional<FileSystemFormat> fmt = FileSystems.probe(v.get().volume().device());
                if (fmt.isEmpty()) {
                    if (mp.path().equals("/")) {
                        throw new Jv2vException("cannot convert: the root filesystem " + mp.device() + " ("
                                + v.get().info().type() + ") cannot be edited by jv2v");
                    }
                    unreadable.put(mp.path(), "(" + mp.device() + ", " + v.get().info().type()
                            + ") cannot be opened by jv2v");
                    continue;
                }
                FileSystem fs;
                Optional<String> readOnly = Optional.empty();
                try {
                    fs = fmt.get().openWritable(v.get().volume().device());
                } catch (Jv2vException e) {
                    String why = e.getMessage() == null ? e.toString() : e.getMessage();
                    if (why.startsWith(mp.device() + ": ")) {
                        why = why.substring(mp.device().length() + 2);
                    }
                    String refusal = "cannot convert: " + mp.device() + " (mounted at " + mp.path() + "): " + why;
                    // the root is always edited; another filesystem (the ESP, which jv2v reads but
                    // does not write) only stops the conversion if an edit needs it (PlanApplier)
                    if (!readOnlyFallback && mp.path().equals("/")) {
                        throw new Jv2vException(refusal);
                    }
                    fs = fmt.get().open(v.get().volume().device());
                    readOnly = Optional.of(refusal);
                }
                // a btrfs subvolume (read-only: jv2v does not edit btrfs)
                try {
                    fs = Mountables.view(fs, where.get().subvolume());
                } catch (IOException | RuntimeException e) {
                    closeQuietly(fs);
                    String why = e.getMessage() == null ? e.toString() : e.getMessage();
                    if (mp.path().equals("/")) {
                        throw new Jv2vException("cannot convert: the root filesystem " + mp.device() + ": " + why);
                    }
                    unreadable.put(mp.path(), "(" + mp.device() + ") cannot be opened: " + why);
                    continue;
                }
                mounts.add(new MountedGuestFiles.Mount(mp.path(), mp.device(), fs, readOnly));
                rootSeen |= mp.path().equals("/");
            }
            if (!rootSeen) {
                Optional<Inspection.ProbedVolume> r = in.mountable(root.root()).flatMap(w -> in.volume(w.device()));
                if (r.isEmpty()) {
                    throw new Jv2vException("cannot convert: the root filesystem " + root.root() + " was not found");
                }
                FileSystemFormat fmt = FileSystems.probe(r.get().volume().device()).orElseThrow(() ->
                        new Jv2vException("cannot convert: the root filesystem " + root.root() + " cannot be edited"));
                mounts.add(new MountedGuestFiles.Mount("/", root.root(), fmt.openWritable(r.get().volume().device()),
                        Optional.empty()));
            }
        } catch (IOException | RuntimeException e) {
            for (MountedGuestFiles.Mount m : mounts) {
                closeQuietly(m.fs());
            }
            throw e;
        }
        return new GuestMounts(new MountedGuestFiles(mounts), unreadable);
    }

    /** Why filesystems opened read-only could not be opened for editing (an edit there stops the conversion). */
    public java.util.List<String> refusals() {
        return files.mounts().stream().flatMap(m -> m.readOnlyReason().stream()).toList();
    }

    private static void closeQuietly(FileSystem fs) {
        try {
            fs.close();
        } catch (IOException e) {
            // closing after a failure: the first error is the one to report
        }
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (MountedGuestFiles.Mount m : files.mounts()) {
            try {
                m.fs().close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
