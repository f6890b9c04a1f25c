package org.jv2v.inspect;

import org.jv2v.fs.FileSystem;
import org.jv2v.fs.btrfs.BtrfsFileSystem;

import java.io.IOException;
import java.util.Collection;
import java.util.Optional;

/**
 * libguestfs's names for what can be mounted: a device ("/dev/sda2", "/dev/rl/root"), or a btrfs
 * subvolume on one, "btrfsvol:" + device + "/" + the subvolume's path from the filesystem's top
 * level (id 5), written as fstab's subvol= or {@code btrfs subvolume list} writes it. So
 * {@code subvol=/@/home} is "btrfsvol:/dev/sda2//@/home", as virt-inspector prints it.
 */
public final class Mountables {
    public static final String BTRFSVOL = "btrfsvol:";

    /** A name taken apart: the device, and for a btrfs subvolume its path from the top level. */
    public record Parsed(String device, Optional<String> subvolume) {}

    private Mountables() {}

    static String btrfsvol(String device, String subvolume) {
        return BTRFSVOL + device + "/" + subvolume;
    }

    /**
     * Takes {@code name} apart, knowing the names of the devices there are (a device name may hold
     * slashes itself: /dev/VG/LV, so the longest device that fits is the one). Empty for a
     * btrfsvol name on no known device.
     */
    public static Optional<Parsed> parse(String name, Collection<String> devices) {
        if (!name.startsWith(BTRFSVOL)) {
            return Optional.of(new Parsed(name, Optional.empty()));
        }
        String rest = name.substring(BTRFSVOL.length());
        String best = null;
        for (String d : devices) {
            if (rest.startsWith(d + "/") && (best == null || d.length() > best.length())) {
                best = d;
            }
        }
        return best == null ? Optional.empty()
                : Optional.of(new Parsed(best, Optional.of(rest.substring(best.length() + 1))));
    }

    /**
     * What a mount of {@code subvolume} on {@code fs} shows: {@code fs} itself (its default
     * subvolume) when there is none, else that subvolume of the btrfs filesystem, found by its
     * path from the top level as the kernel finds subvol= (it must be a subvolume, not just a
     * folder).
     *
     * @throws java.nio.file.NoSuchFileException when there is no such subvolume
     * @throws IOException                         when {@code fs} is not btrfs, or its trees cannot be read
     */
    public static FileSystem view(FileSystem fs, Optional<String> subvolume) throws IOException {
        if (subvolume.isEmpty()) {
            return fs;
        }
        if (!(fs instanceof BtrfsFileSystem b)) {
            throw new IOException("subvol=" + subvolume.get() + " on a " + fs.type() + " filesystem");
        }
        return b.openSubvolume(subvolume.get());
    }
}
