package org.jv2v.inspect;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * virt-v2v's check that the guest has room for the conversion (new initramfs, drivers, agents):
 * on Linux without a separate /boot, / needs 50 MiB free; otherwise / needs 100 MiB; every other
 * mounted filesystem (a separate /boot included) 10 MiB. Free means blocks free for root (statvfs
 * f_bfree). virt-v2v also wants 100 free inodes; jv2v's filesystem API has no inode counts yet, so
 * that half is not checked.
 */
public final class FreeSpace {
    private static final long MIB = 1024 * 1024;

    /**
     * One mounted filesystem's verdict.
     *
     * @param freeBytes empty when the filesystem could not be opened (then it is not checked)
     */
    public record Check(String mountPoint, String device, Optional<Long> freeBytes, int neededMegabytes) {
        public boolean enough() {
            return freeBytes.map(f -> f >= neededMegabytes * MIB).orElse(true);
        }

        /** virt-v2v's message, for a filesystem without enough room. */
        public String problem() {
            return String.format(Locale.ROOT, "not enough free space for conversion on filesystem '%s'.  "
                    + "%.1f MB free < %d MB needed", mountPoint, freeBytes.orElse(0L) / (double) MIB, neededMegabytes);
        }

        public String describe() {
            return freeBytes.map(f -> String.format(Locale.ROOT, "%s (%s): %.1f MB free, %d MB needed", mountPoint,
                    device, f / (double) MIB, neededMegabytes))
                    .orElse(mountPoint + " (" + device + "): not checked (the filesystem could not be opened)");
        }
    }

    private FreeSpace() {}

    /** Megabytes virt-v2v wants free on the filesystem mounted at {@code mountPoint}. */
    public static int neededMegabytes(String mountPoint, boolean hasBoot, boolean windows) {
        if ((mountPoint.equals("/boot") || mountPoint.equals("/")) && !hasBoot && !windows) {
            return 50;
        }
        return mountPoint.equals("/") ? 100 : 10;
    }

    /** Every mount point of the guest, checked. */
    public static List<Check> check(GuestInfo g) {
        boolean hasBoot = g.mountpoints().stream().anyMatch(m -> m.path().equals("/boot"));
        List<Check> out = new ArrayList<>();
        for (MountPoint m : g.mountpoints()) {
            Optional<FilesystemInfo> fs = g.filesystems().stream().filter(f -> f.device().equals(m.device())).findFirst();
            Optional<Long> free = fs.filter(FilesystemInfo::opened).flatMap(f -> f.freeBytes().isPresent()
                    ? Optional.of(f.freeBytes().getAsLong()) : Optional.empty());
            out.add(new Check(m.path(), m.device(), free, neededMegabytes(m.path(), hasBoot, g.isWindows())));
        }
        return out;
    }
}
