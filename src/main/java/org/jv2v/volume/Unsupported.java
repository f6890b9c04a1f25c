package org.jv2v.volume;

/**
 * Something jv2v found but cannot see into: the inspector reports it instead of guessing.
 *
 * @param name   the device it is on (/dev/sdb, /dev/sda2, /dev/vg/lv)
 * @param what   "LUKS", "Linux software RAID (md)", "Windows dynamic disk (LDM)", "LVM" ...
 * @param detail why, in a few words
 */
public record Unsupported(String name, String what, String detail) {
    @Override
    public String toString() {
        return name + ": " + what + ": " + detail;
    }
}
