package org.jv2v.volume.mbr;

import org.jv2v.image.BlockDevice;
import org.jv2v.volume.Partition;
import org.jv2v.volume.PartitionTable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.jv2v.volume.DeviceReads.bad;
import org.jv2v.volume.DeviceReads;

/** The DOS/MBR partition table: four primary entries, and logical partitions in a chain of EBRs. */
public final class Mbr {
    public static final int SECTOR = 512;
    /** Protective MBR type of a GPT disk. */
    public static final int TYPE_GPT_PROTECTIVE = 0xee;
    /** Windows dynamic disk (LDM) on an MBR disk. */
    public static final int TYPE_LDM = 0x42;
    /**
     * Logical partitions followed per disk. Linux gives a disk at most 256 minors and parted stops
     * near 60; a longer chain is corrupt or hostile.
     */
    static final int MAX_LOGICAL = 256;

    private Mbr() {}

    /** One 16-byte partition entry, offsets within the entry. */
    record Entry(int status, int type, long startLba, long sectors) {
        static Entry read(ByteBuffer b, int at) {
            return new Entry(
                    b.get(at) & 0xff,                      // 0x00 status (0x80 active)
                    b.get(at + 0x04) & 0xff,               // 0x04 partition type
                    b.getInt(at + 0x08) & 0xffffffffL,     // 0x08 first sector (LBA)
                    b.getInt(at + 0x0c) & 0xffffffffL);    // 0x0c number of sectors
        }

        boolean empty() {
            return type == 0 || sectors == 0;
        }

        boolean extended() {
            return type == 0x05 || type == 0x0f || type == 0x85;
        }
    }

    /** The four primary entries at 0x1be, or empty when sector 0 is no MBR. */
    static Optional<List<Entry>> primaries(ByteBuffer s0) {
        if (s0.limit() < SECTOR || (s0.get(0x1fe) & 0xff) != 0x55 || (s0.get(0x1ff) & 0xff) != 0xaa) {
            return Optional.empty();
        }
        if (looksLikeBootSector(s0)) {
            return Optional.empty();
        }
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Entry e = Entry.read(s0, 0x1be + 16 * i);
            if (e.status != 0 && e.status != 0x80) {
                return Optional.empty(); // not a partition table (boot code of a filesystem, say)
            }
            entries.add(e);
        }
        return Optional.of(entries);
    }

    /** A FAT or NTFS boot sector also ends in 55 aa: it is a filesystem, not a partition table. */
    private static boolean looksLikeBootSector(ByteBuffer s0) {
        String oem = ascii(s0, 3, 8);
        return oem.equals("NTFS    ") || oem.equals("EXFAT   ") || ascii(s0, 0x36, 5).equals("FAT12")
                || ascii(s0, 0x36, 5).equals("FAT16") || ascii(s0, 0x52, 5).equals("FAT32");
    }

    private static String ascii(ByteBuffer b, int at, int len) {
        byte[] a = new byte[len];
        b.get(at, a);
        return new String(a, StandardCharsets.ISO_8859_1);
    }

    /** True when sector 0 holds a protective (or hybrid) MBR of a GPT disk. */
    public static boolean isProtective(ByteBuffer s0) {
        return primaries(s0).map(l -> l.stream().anyMatch(e -> e.type == TYPE_GPT_PROTECTIVE)).orElse(false);
    }

    /** Reads the table of {@code disk}, or empty when it has no MBR. */
    public static Optional<PartitionTable> read(BlockDevice disk) throws IOException {
        if (disk.size() < SECTOR) {
            return Optional.empty();
        }
        ByteBuffer s0 = DeviceReads.read(disk, 0, SECTOR, "MBR");
        Optional<List<Entry>> prim = primaries(s0);
        if (prim.isEmpty()) {
            return Optional.empty();
        }
        String signature = String.format("%08x", s0.getInt(0x1b8)); // 0x1b8 disk signature
        List<Partition> parts = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        Entry extended = null;
        int extendedIndex = 0;
        for (int i = 0; i < 4; i++) {
            Entry e = prim.get().get(i);
            if (e.empty()) {
                continue;
            }
            parts.add(partition(disk, i + 1, e, 0, false, 0x1be + 16 * i));
            if (e.extended()) {
                if (extended != null) {
                    warnings.add("second extended partition " + (i + 1) + " ignored, as Linux does");
                } else {
                    extended = e;
                    extendedIndex = i;
                }
            }
        }
        if (extended != null) {
            logicals(disk, extended, extendedIndex, parts);
        }
        return Optional.of(new PartitionTable("mbr", signature, parts, warnings));
    }

    private static void logicals(BlockDevice disk, Entry ext, int extIndex, List<Partition> parts)
            throws IOException {
        long extStart = ext.startLba;
        long ebr = extStart;
        Set<Long> seen = new HashSet<>();
        int number = 5;
        while (true) {
            if (!seen.add(ebr)) {
                throw bad(disk, "EBR link", ebr * SECTOR, "the logical partition chain loops back to sector " + ebr);
            }
            if (seen.size() > MAX_LOGICAL) {
                throw bad(disk, "EBR link", ebr * SECTOR, "more than " + MAX_LOGICAL + " logical partitions");
            }
            long at = ebr * SECTOR;
            if (ebr < extStart || ebr >= extStart + ext.sectors) {
                throw bad(disk, "EBR link", 0x1be + 16L * extIndex,
                        "EBR at sector " + ebr + " lies outside the extended partition");
            }
            ByteBuffer s = DeviceReads.read(disk, at, SECTOR, "EBR");
            if ((s.get(0x1fe) & 0xff) != 0x55 || (s.get(0x1ff) & 0xff) != 0xaa) {
                throw bad(disk, "EBR signature", at + 0x1fe, "missing 55 aa");
            }
            Entry data = Entry.read(s, 0x1be);
            Entry next = Entry.read(s, 0x1ce);
            if (!data.empty() && !data.extended()) {
                parts.add(partition(disk, number++, data, ebr, true, at + 0x1be));
            }
            if (next.empty()) {
                return;
            }
            if (!next.extended()) {
                throw bad(disk, "EBR next entry", at + 0x1ce,
                        String.format("type 0x%02x where an extended link was expected", next.type));
            }
            ebr = extStart + next.startLba;
        }
    }

    private static Partition partition(BlockDevice disk, int number, Entry e, long base, boolean logical, long at) {
        long startLba = base + e.startLba;
        long start = startLba * SECTOR;
        long size = e.sectors * SECTOR;
        if (start >= disk.size() || size > disk.size() - start) {
            throw bad(disk, "partition " + number + " entry", at,
                    "sectors [" + startLba + ", +" + e.sectors + ") lie past the end of the disk ("
                            + disk.size() / SECTOR + " sectors)");
        }
        if (startLba == 0) {
            throw bad(disk, "partition " + number + " entry", at, "starts at sector 0, over the MBR");
        }
        return new Partition(number, start, size, "mbr", e.type, e.status == 0x80, logical,
                Optional.empty(), Optional.empty(), "", 0);
    }
}
