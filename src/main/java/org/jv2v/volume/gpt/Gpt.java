package org.jv2v.volume.gpt;

import org.jv2v.BadInputException;
import org.jv2v.image.BlockDevice;
import org.jv2v.volume.DeviceReads;
import org.jv2v.volume.Partition;
import org.jv2v.volume.PartitionTable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * The GUID partition table (UEFI spec, chapter 5): a header at LBA 1 and a copy at the last LBA,
 * each with a CRC32 of itself and of the entry array. The backup is used when the primary is broken.
 */
public final class Gpt {
    static final String SIGNATURE = "EFI PART";
    /** The spec requires room for at least 128 entries; tools rarely go past a few hundred. */
    static final int MAX_ENTRIES = 4096;
    /** Entry size must be 128 * 2^n; nobody uses more than 4 KiB for one entry. */
    static final int MAX_ENTRY_SIZE = 4096;
    /** The legacy BIOS bootable attribute bit. */
    static final long ATTR_LEGACY_BIOS_BOOTABLE = 1L << 2;

    public static final String TYPE_EFI_SYSTEM = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
    public static final String TYPE_BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649";
    public static final String TYPE_LINUX_LVM = "E6D6D379-F507-44C2-A23C-238F2A3DF928";
    public static final String TYPE_LINUX_RAID = "A19D880F-05FC-4D3B-A006-743F0F84911E";
    public static final String TYPE_LDM_METADATA = "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3";
    public static final String TYPE_LDM_DATA = "AF9B60A0-1431-4F62-BC68-3311714A69AD";

    private Gpt() {}

    /** The header fields jv2v uses; offsets from the start of the header sector. */
    record Header(long myLba, long alternateLba, long firstUsable, long lastUsable, String diskGuid, long entriesLba,
                  int entryCount, int entrySize, int entriesCrc) {

        static Header read(BlockDevice dev, ByteBuffer b, long at, int sectorSize) {
            String sig = new String(b.array(), 0, 8, StandardCharsets.ISO_8859_1); // 0x00 signature
            if (!sig.equals(SIGNATURE)) {
                throw bad(dev, "GPT header signature", at, "not 'EFI PART'");
            }
            int headerSize = b.getInt(0x0c);                                      // 0x0c header size
            if (headerSize < 92 || headerSize > sectorSize) {
                throw bad(dev, "GPT header size", at + 0x0c, headerSize + " is not within [92, " + sectorSize + "]");
            }
            int stored = b.getInt(0x10);                                          // 0x10 header CRC32
            ByteBuffer copy = ByteBuffer.allocate(headerSize).put(0, b.array(), 0, headerSize);
            copy.putInt(0x10, 0);
            int actual = crc(copy.array(), 0, headerSize);
            if (stored != actual) {
                throw bad(dev, "GPT header CRC32", at + 0x10,
                        String.format("stored 0x%08x, computed 0x%08x", stored, actual));
            }
            Header h = new Header(
                    b.getLong(0x18),                                              // 0x18 my LBA
                    b.getLong(0x20),                                              // 0x20 alternate LBA
                    b.getLong(0x28),                                              // 0x28 first usable LBA
                    b.getLong(0x30),                                              // 0x30 last usable LBA
                    DeviceReads.guid(b, 0x38),                                    // 0x38 disk GUID
                    b.getLong(0x48),                                              // 0x48 partition entry LBA
                    b.getInt(0x50),                                               // 0x50 number of entries
                    b.getInt(0x54),                                               // 0x54 size of an entry
                    b.getInt(0x58));                                              // 0x58 entry array CRC32
            if (h.entryCount < 0 || h.entryCount > MAX_ENTRIES) {
                throw bad(dev, "GPT number of partition entries", at + 0x50,
                        Integer.toUnsignedString(h.entryCount) + " is more than " + MAX_ENTRIES);
            }
            if (h.entrySize < 128 || h.entrySize > MAX_ENTRY_SIZE || Integer.bitCount(h.entrySize) != 1) {
                throw bad(dev, "GPT size of partition entry", at + 0x54,
                        Integer.toUnsignedString(h.entrySize) + " is not 128 * 2^n up to " + MAX_ENTRY_SIZE);
            }
            long sectors = dev.size() / sectorSize;
            if (h.entriesLba < 1 || h.entriesLba >= sectors
                    || (long) h.entryCount * h.entrySize > (sectors - h.entriesLba) * sectorSize) {
                throw bad(dev, "GPT partition entry LBA", at + 0x48,
                        "entry array at LBA " + h.entriesLba + " lies past the end of the disk");
            }
            return h;
        }
    }

    /** True when a GPT header signature sits at LBA 1 (for 512 or 4096-byte sectors). */
    public static boolean present(BlockDevice disk) throws IOException {
        for (int ss : new int[] {512, 4096}) {
            if (disk.size() >= 2L * ss && signatureAt(disk, ss)) {
                return true;
            }
        }
        return false;
    }

    private static boolean signatureAt(BlockDevice disk, long at) throws IOException {
        ByteBuffer b = DeviceReads.read(disk, at, 8, "GPT header");
        return new String(b.array(), StandardCharsets.ISO_8859_1).equals(SIGNATURE);
    }

    /**
     * Reads the table: the primary header and entries, or the backup ones when the primary is broken
     * (with a warning saying so). Both broken is an error naming both problems.
     */
    public static PartitionTable read(BlockDevice disk) throws IOException {
        int ss = disk.size() >= 8192 && !signatureAt(disk, 512) && signatureAt(disk, 4096) ? 4096 : 512;
        long lastLba = disk.size() / ss - 1;
        List<String> warnings = new ArrayList<>();
        Table primary = null;
        Table backup = null;
        BadInputException primaryError = null;
        BadInputException backupError = null;
        try {
            primary = readAt(disk, 1, ss);
        } catch (BadInputException e) {
            primaryError = e;
        }
        long backupLba = primary != null && primary.header.alternateLba > 1 && primary.header.alternateLba <= lastLba
                ? primary.header.alternateLba : lastLba;
        try {
            backup = readAt(disk, backupLba, ss);
        } catch (BadInputException e) {
            backupError = e;
        }
        if (primary == null && backup == null) {
            throw BadInputException.of(disk.describe() + ": no valid GPT: primary: " + primaryError.getMessage()
                    + "; backup: " + backupError.getMessage());
        }
        Table use = primary;
        if (primary == null) {
            warnings.add("primary GPT is corrupt (" + primaryError.getMessage() + "): using the backup at LBA "
                    + backupLba);
            use = backup;
        } else if (backup == null) {
            warnings.add("backup GPT is missing or corrupt (" + backupError.getMessage() + ")");
        }
        return new PartitionTable("gpt", use.header.diskGuid, partitions(disk, use, ss), warnings);
    }

    private record Table(Header header, ByteBuffer entries) {}

    private static Table readAt(BlockDevice disk, long lba, int ss) throws IOException {
        long at = lba * ss;
        ByteBuffer b = DeviceReads.read(disk, at, ss, "GPT header");
        Header h = Header.read(disk, b, at, ss);
        if (h.myLba != lba) {
            throw bad(disk, "GPT my LBA", at + 0x18, "says " + h.myLba + " but the header is at LBA " + lba);
        }
        int bytes = h.entryCount * h.entrySize;
        ByteBuffer entries = DeviceReads.read(disk, h.entriesLba * ss, bytes, "GPT partition entries");
        int actual = crc(entries.array(), 0, bytes);
        if (actual != h.entriesCrc) {
            throw bad(disk, "GPT partition entry array CRC32", at + 0x58,
                    String.format("stored 0x%08x, computed 0x%08x", h.entriesCrc, actual));
        }
        return new Table(h, entries);
    }

    private static List<Partition> partitions(BlockDevice disk, Table t, int ss) {
        List<Partition> out = new ArrayList<>();
        ByteBuffer e = t.entries.order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < t.header.entryCount; i++) {
            int at = i * t.header.entrySize;
            String type = DeviceReads.guid(e, at);                                // 0x00 partition type GUID
            if (type.equals("00000000-0000-0000-0000-000000000000")) {
                continue;
            }
            String unique = DeviceReads.guid(e, at + 0x10);                       // 0x10 unique partition GUID
            long first = e.getLong(at + 0x20);                                    // 0x20 first LBA
            long last = e.getLong(at + 0x28);                                     // 0x28 last LBA (inclusive)
            long attrs = e.getLong(at + 0x30);                                    // 0x30 attributes
            byte[] nameBytes = new byte[72];                                      // 0x38 name, UTF-16LE
            e.get(at + 0x38, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_16LE);
            int nul = name.indexOf('\0');
            name = nul >= 0 ? name.substring(0, nul) : name;
            long entryOffset = t.header.entriesLba * ss + at;
            if (first < 1 || last < first || last > disk.size() / ss - 1) {
                throw bad(disk, "GPT entry " + (i + 1) + " LBAs", entryOffset + 0x20,
                        "[" + first + ", " + last + "] is not within the disk's " + disk.size() / ss + " sectors");
            }
            out.add(new Partition(i + 1, first * ss, (last - first + 1) * ss, "gpt", 0,
                    (attrs & ATTR_LEGACY_BIOS_BOOTABLE) != 0, false, Optional.of(type), Optional.of(unique), name,
                    attrs));
        }
        return out;
    }

    static int crc(byte[] b, int off, int len) {
        CRC32 c = new CRC32();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    private static BadInputException bad(BlockDevice dev, String field, long off, String problem) {
        return DeviceReads.bad(dev, field, off, problem);
    }
}
