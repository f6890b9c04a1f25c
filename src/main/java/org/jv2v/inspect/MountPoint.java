package org.jv2v.inspect;

/**
 * One line of the guest's fstab (or the root of a Windows guest), resolved to a device.
 *
 * @param path   where the guest mounts it ("/", "/boot"); fstab entries whose mount point is not
 *               a path (swap's "none") are not mount points, only filesystems of the guest
 * @param device the device as jv2v names it (/dev/sda1, /dev/VG/LV), or the fstab spec unchanged
 *               when it names no device jv2v found (as libguestfs keeps it)
 */
public record MountPoint(String path, String device) {}
