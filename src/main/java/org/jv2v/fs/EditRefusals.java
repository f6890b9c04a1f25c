package org.jv2v.fs;

import org.jv2v.Jv2vException;
import org.jv2v.image.BlockDevice;

import java.util.ArrayList;
import java.util.List;

/** What the filesystem editors say when they refuse to open a filesystem for writing. */
public final class EditRefusals {
    private EditRefusals() {}

    /**
     * The filesystem's journal or log, or its state flags, say it was in use when the guest
     * stopped: editing it would lose or corrupt what the guest's kernel would replay.
     *
     * @param type   the filesystem as the user knows it ("ext4", "XFS")
     * @param why    what shows it ("its journal needs recovery")
     * @param repair the checker that can bring a copy to a clean state ("e2fsck -fy")
     */
    public static Jv2vException notShutDownCleanly(BlockDevice device, String type, String why, String repair) {
        return new Jv2vException(device.describe() + ": the " + type + " filesystem was not shut down cleanly ("
                + why + "): boot the guest on VMware and shut it down cleanly, or run " + repair
                + " on a copy of the disk, then convert again");
    }

    /**
     * The names of the feature bits set in {@code bits}, lowest first: {@code names[i]} for bit i,
     * else {@code unnamed} and the bit in hex ("incompat 0x800000").
     */
    public static List<String> featureNames(long bits, String[] names, String unnamed) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            if ((bits & (1L << i)) != 0) {
                out.add(i < names.length ? names[i] : unnamed + " 0x" + Long.toHexString(1L << i));
            }
        }
        return out;
    }
}
