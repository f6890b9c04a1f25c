package org.jv2v.fs.fat;

import org.jv2v.BadInputException;

/**
 * Where everything is, computed from a checked boot sector: the regions of the volume in bytes
 * and the FAT type.
 *
 * <p>The type follows the specification's cluster-count rule (fewer than 4085 clusters: FAT12,
 * fewer than 65525: FAT16) for the FAT12/16 layout. A boot sector in the FAT32 layout (16-bit FAT
 * size zero) is FAT32 whatever its cluster count, as Linux and dosfstools treat it: mkfs.fat -F 32
 * makes such small volumes, and reading them as FAT16 would be wrong.
 */
record Geometry(FatType type, int sectorSize, int clusterSize, long fatOffset, long fatBytes, int numFats,
                int activeFat, long rootDirOffset, long rootDirBytes, long dataOffset, long clusterCount,
                long volumeBytes, long rootCluster) {

    /** The smallest and largest sector sizes the specification allows. */
    static final int MIN_SECTOR = 512;
    static final int MAX_SECTOR = 4096;
    /**
     * Largest cluster accepted: 64 KiB. The specification says 32 KiB; Windows and Linux also
     * handle 64 KiB. Larger ones come only from damage.
     */
    static final int MAX_CLUSTER = 64 * 1024;
    /** Most FAT copies accepted: everything writes 1 or 2; this bounds the region arithmetic. */
    static final int MAX_FATS = 15;
    static final long FAT12_MAX_CLUSTERS = 4084;
    static final long FAT16_MAX_CLUSTERS = 65524;
    /** FAT32 entries are 28 bits and the top values are reserved. */
    static final long FAT32_MAX_CLUSTERS = 0x0FFF_FFF5L - 2;

    /** Checks the boot sector against the specification and the device; null when sane, else why not. */
    static String problem(BootSector b, long deviceSize) {
        return check(b, deviceSize, null);
    }

    static Geometry of(BootSector b, long deviceSize, String device) {
        String[] where = new String[2];
        String p = check(b, deviceSize, where);
        if (p != null) {
            throw BadInputException.of(device + ": boot sector " + where[0] + " at offset 0x" + where[1] + ": " + p);
        }
        return compute(b);
    }

    private static String check(BootSector b, long deviceSize, String[] where) {
        int bps = b.bytesPerSector();
        if (bps < MIN_SECTOR || bps > MAX_SECTOR || Integer.bitCount(bps) != 1) {
            return at(where, "BPB_BytsPerSec", 0x0B, bps + " bytes per sector is not a power of two from 512 to 4096");
        }
        int spc = b.sectorsPerCluster();
        if (spc == 0 || Integer.bitCount(spc) != 1) {
            return at(where, "BPB_SecPerClus", 0x0D, spc + " sectors per cluster is not a power of two");
        }
        if ((long) spc * bps > MAX_CLUSTER) {
            return at(where, "BPB_SecPerClus", 0x0D, "clusters of " + (long) spc * bps + " bytes exceed "
                    + MAX_CLUSTER);
        }
        if (b.reservedSectors() == 0) {
            return at(where, "BPB_RsvdSecCnt", 0x0E, "no reserved sectors (the boot sector itself is one)");
        }
        if (b.numFats() == 0 || b.numFats() > MAX_FATS) {
            return at(where, "BPB_NumFATs", 0x10, b.numFats() + " FATs (expected 1 to " + MAX_FATS + ")");
        }
        if (b.media() != 0xF0 && b.media() < 0xF8) {
            return at(where, "BPB_Media", 0x15, String.format("media byte 0x%02X is not 0xF0 or 0xF8..0xFF", b.media()));
        }
        long total = b.totalSectors();
        if (total == 0) {
            return at(where, "BPB_TotSec32", 0x20, "zero sectors");
        }
        long fatSectors = b.fatSectors();
        if (fatSectors == 0) {
            return at(where, "BPB_FATSz32", 0x24, "FAT size is zero");
        }
        if (b.fat32Layout()) {
            if (b.rootEntries() != 0) {
                return at(where, "BPB_RootEntCnt", 0x11, b.rootEntries() + " root entries in a FAT32 boot sector");
            }
            if (b.totalSectors16() != 0) {
                return at(where, "BPB_TotSec16", 0x13, "must be zero on FAT32");
            }
        } else if (b.rootEntries() == 0) {
            return at(where, "BPB_RootEntCnt", 0x11, "no root directory entries on FAT12/16");
        }
        if (total * bps > deviceSize) {
            return at(where, "BPB_TotSec32", 0x20, "volume of " + total * bps + " bytes is larger than the device ("
                    + deviceSize + " bytes)");
        }
        long rootSectors = ((long) b.rootEntries() * 32 + bps - 1) / bps;
        long dataStart = b.reservedSectors() + b.numFats() * fatSectors + rootSectors;
        if (dataStart >= total) {
            return at(where, "BPB_FATSz32", b.fatSizeOffset(), "reserved sectors, FATs and root directory ("
                    + dataStart + " sectors) fill the whole volume (" + total + " sectors)");
        }
        long clusters = (total - dataStart) / spc;
        if (clusters == 0) {
            return at(where, "BPB_TotSec32", 0x20, "no room for a single cluster");
        }
        FatType type = b.fat32Layout() ? FatType.FAT32
                : clusters <= FAT12_MAX_CLUSTERS ? FatType.FAT12 : FatType.FAT16;
        if (!b.fat32Layout() && clusters > FAT16_MAX_CLUSTERS) {
            return at(where, "BPB_FATSz16", 0x16, clusters + " clusters need FAT32, but the boot sector has the "
                    + "FAT12/16 layout");
        }
        if (clusters > FAT32_MAX_CLUSTERS) {
            return at(where, "BPB_TotSec32", 0x20, clusters + " clusters exceed the FAT32 maximum");
        }
        long entriesInFat = fatSectors * bps * 8 / type.bits();
        if (entriesInFat < clusters + 2) {
            return at(where, "BPB_FATSz32", b.fatSizeOffset(), "a FAT of " + fatSectors + " sectors holds "
                    + entriesInFat + " entries, fewer than the " + (clusters + 2) + " needed for " + clusters
                    + " clusters");
        }
        if (type == FatType.FAT32 && (b.rootCluster() < 2 || b.rootCluster() >= clusters + 2)) {
            return at(where, "BPB_RootClus", 0x2C, "root cluster " + b.rootCluster() + " outside 2.." + (clusters + 1));
        }
        if (type == FatType.FAT32 && (b.extFlags() & 0x80) != 0 && (b.extFlags() & 0x0F) >= b.numFats()) {
            return at(where, "BPB_ExtFlags", 0x28, "active FAT " + (b.extFlags() & 0x0F) + " of " + b.numFats());
        }
        return null;
    }

    private static Geometry compute(BootSector b) {
        int bps = b.bytesPerSector();
        long fatSectors = b.fatSectors();
        long rootSectors = ((long) b.rootEntries() * 32 + bps - 1) / bps;
        long fatOffset = (long) b.reservedSectors() * bps;
        long rootOffset = fatOffset + b.numFats() * fatSectors * bps;
        long dataOffset = rootOffset + rootSectors * bps;
        long total = b.totalSectors();
        long clusters = (total * bps - dataOffset) / ((long) b.sectorsPerCluster() * bps);
        FatType type = b.fat32Layout() ? FatType.FAT32
                : clusters <= FAT12_MAX_CLUSTERS ? FatType.FAT12 : FatType.FAT16;
        int active = type == FatType.FAT32 && (b.extFlags() & 0x80) != 0 ? b.extFlags() & 0x0F : 0;
        return new Geometry(type, bps, b.sectorsPerCluster() * bps, fatOffset, fatSectors * bps, b.numFats(), active,
                rootOffset, (long) b.rootEntries() * 32, dataOffset, clusters, total * bps,
                type == FatType.FAT32 ? b.rootCluster() : 0);
    }

    /** Byte offset of a data cluster (numbered from 2). */
    long clusterOffset(long cluster) {
        return dataOffset + (cluster - 2) * clusterSize;
    }

    /** One past the highest valid cluster number. */
    long clusterLimit() {
        return clusterCount + 2;
    }

    private static String at(String[] where, String field, int offset, String problem) {
        if (where != null) {
            where[0] = field;
            where[1] = Integer.toHexString(offset);
        }
        return problem;
    }
}
