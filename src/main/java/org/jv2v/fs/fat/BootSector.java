package org.jv2v.fs.fat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The boot sector with its BIOS parameter block (Microsoft's FAT specification, fatgen103). The
 * fields from 0x24 on differ between the FAT12/16 layout and the FAT32 layout; both are read and
 * {@link #fat32Layout()} tells which applies (a zero 16-bit FAT size, as Linux and dosfstools
 * decide).
 */
record BootSector(
        int jump0,              // 0x00 jmpBoot[0]: 0xEB or 0xE9
        int bytesPerSector,     // 0x0B BPB_BytsPerSec
        int sectorsPerCluster,  // 0x0D BPB_SecPerClus
        int reservedSectors,    // 0x0E BPB_RsvdSecCnt
        int numFats,            // 0x10 BPB_NumFATs
        int rootEntries,        // 0x11 BPB_RootEntCnt
        int totalSectors16,     // 0x13 BPB_TotSec16
        int media,              // 0x15 BPB_Media
        int fatSize16,          // 0x16 BPB_FATSz16
        long totalSectors32,    // 0x20 BPB_TotSec32
        // FAT32 layout
        long fatSize32,         // 0x24 BPB_FATSz32
        int extFlags,           // 0x28 BPB_ExtFlags
        long rootCluster,       // 0x2C BPB_RootClus
        int fsInfoSector,       // 0x30 BPB_FSInfo
        // FAT12/16 at 0x24.., FAT32 at 0x40..
        int state,              // 0x25 / 0x41 BS_Reserved1: bit 0 "dirty" as Windows NT and Linux set it
        int bootSignature,      // 0x26 / 0x42 BS_BootSig: 0x29 (or 0x28) when the next fields exist
        long volumeId,          // 0x27 / 0x43 BS_VolID
        byte[] volumeLabel,     // 0x2B / 0x47 BS_VolLab, 11 bytes
        int signature) {        // 0x1FE 0x55 0xAA

    static final int SIZE = 512;

    static BootSector read(ByteBuffer buf) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        int fatSize16 = u16(b, p + 0x16);
        boolean fat32 = fatSize16 == 0;
        int ext = fat32 ? 0x40 : 0x24;
        byte[] label = new byte[11];
        b.get(p + ext + 0x07, label);
        return new BootSector(
                u8(b, p), u16(b, p + 0x0B), u8(b, p + 0x0D), u16(b, p + 0x0E), u8(b, p + 0x10),
                u16(b, p + 0x11), u16(b, p + 0x13), u8(b, p + 0x15), fatSize16, u32(b, p + 0x20),
                u32(b, p + 0x24), u16(b, p + 0x28), u32(b, p + 0x2C), u16(b, p + 0x30),
                u8(b, p + ext + 0x01), u8(b, p + ext + 0x02), u32(b, p + ext + 0x03), label,
                u16(b, p + 0x1FE));
    }

    boolean fat32Layout() {
        return fatSize16 == 0;
    }

    long totalSectors() {
        return totalSectors16 != 0 ? totalSectors16 : totalSectors32;
    }

    long fatSectors() {
        return fat32Layout() ? fatSize32 : fatSize16;
    }

    /** Offset of the field holding the FAT size, for messages. */
    int fatSizeOffset() {
        return fat32Layout() ? 0x24 : 0x16;
    }

    /** Offset of the extended fields (0x24 or 0x40), for messages. */
    int extendedOffset() {
        return fat32Layout() ? 0x40 : 0x24;
    }

    boolean hasExtendedFields() {
        return bootSignature == 0x29 || bootSignature == 0x28;
    }

    private static int u8(ByteBuffer b, int off) {
        return b.get(off) & 0xFF;
    }

    private static int u16(ByteBuffer b, int off) {
        return b.getShort(off) & 0xFFFF;
    }

    private static long u32(ByteBuffer b, int off) {
        return b.getInt(off) & 0xFFFF_FFFFL;
    }
}
