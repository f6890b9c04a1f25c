package org.jv2v.fs.fat;

import java.time.LocalDate;
import java.time.LocalDateTime;

/**
 * One directory entry as FAT stores it. Times are local times without a zone, as FAT records
 * them; {@code created} is empty (null) when the creation date field is zero.
 *
 * @param name         the long (VFAT) name, or the 8.3 name with the NT case bits applied
 * @param shortName    the 8.3 name as stored (upper case, "NAME.EXT")
 * @param attributes   0x01 read-only, 0x02 hidden, 0x04 system, 0x10 directory, 0x20 archive
 * @param entryOffset  device offset of the 32-byte short entry (0 for the root directory)
 */
public record FatDirEntry(String name, String shortName, int attributes, long firstCluster, long size,
                          LocalDateTime created, LocalDateTime modified, LocalDate accessed, long entryOffset) {
    public static final int READ_ONLY = 0x01;
    public static final int HIDDEN = 0x02;
    public static final int SYSTEM = 0x04;
    public static final int VOLUME_ID = 0x08;
    public static final int DIRECTORY = 0x10;
    public static final int ARCHIVE = 0x20;

    public boolean isDirectory() {
        return (attributes & DIRECTORY) != 0;
    }

    public boolean isReadOnly() {
        return (attributes & READ_ONLY) != 0;
    }
}
