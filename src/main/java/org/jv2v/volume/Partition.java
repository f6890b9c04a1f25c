package org.jv2v.volume;

import java.util.Optional;

/**
 * One partition of a partition table.
 *
 * @param number     the number Linux gives it (MBR: 1-4 primary, 5.. logical; GPT: entry index + 1)
 * @param start      first byte on the disk
 * @param size       length in bytes
 * @param scheme     "mbr" or "gpt"
 * @param mbrType    the MBR partition type id (0x83, 0x07 ...); 0 on GPT
 * @param bootable   the MBR active flag (GPT: the legacy BIOS bootable attribute, bit 2)
 * @param logical    an MBR logical partition (inside the extended one)
 * @param typeGuid   GPT partition type GUID, upper case as libguestfs prints it
 * @param uniqueGuid GPT unique partition GUID
 * @param name       GPT partition name ("" when none, and on MBR)
 * @param attributes GPT attribute bits; 0 on MBR
 */
public record Partition(int number, long start, long size, String scheme, int mbrType, boolean bootable,
                        boolean logical, Optional<String> typeGuid, Optional<String> uniqueGuid, String name,
                        long attributes) {

    /** MBR type ids of extended partitions (containers of logical partitions). */
    public boolean isExtended() {
        return scheme.equals("mbr") && (mbrType == 0x05 || mbrType == 0x0f || mbrType == 0x85);
    }

    public long end() {
        return start + size;
    }
}
