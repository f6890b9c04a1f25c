package org.jv2v.inspect;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A filesystem found on a volume, as blkid and statvfs would describe it.
 *
 * @param device     /dev/sda1, /dev/VG/LV ...
 * @param type       "ext4", "xfs", "vfat", "ntfs", "btrfs", "swap" ... ("unknown" when nothing was recognised)
 * @param label      the filesystem label, if any
 * @param uuid       the UUID as blkid prints it, if any
 * @param version    XFS only: 4 or 5 (as virt-inspector's {@code <type version=...>})
 * @param opened     true when jv2v's reader opened it (its files and used blocks are known)
 * @param problem    why it could not be opened (no reader in this build, damaged ...), if it was not
 * @param totalBytes size, when opened
 * @param freeBytes  free bytes (blocks free for root, as statvfs's f_bfree), when opened
 */
public record FilesystemInfo(String device, String type, Optional<String> label, Optional<String> uuid,
                             OptionalInt version, boolean opened, Optional<String> problem,
                             OptionalLong totalBytes, OptionalLong freeBytes) {}
