package org.jv2v.image.vhdx;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The metadata table at the start of the metadata region (MS-VHDX 2.6.1). Little-endian. */
record VhdxMetadataTable(
        String signature,       // 0x00 "metadata"
        int entryCount,         // 0x0a u16, at most 2047
        List<Entry> entries) {  // 0x20 32 bytes each

    static final int SIZE = 64 * 1024;
    static final String SIGNATURE = "metadata";
    static final int ENTRIES_OFFSET = 0x20;
    static final int ENTRY_SIZE = 32;
    /** The specification's limit, which is also what fits in the 64 KiB table. */
    static final int MAX_ENTRIES = 2047;

    static final UUID FILE_PARAMETERS = UUID.fromString("caa16737-fa36-4d43-b3b6-33f0aa44e76b");
    static final UUID VIRTUAL_DISK_SIZE = UUID.fromString("2fa54224-cd1b-4876-b211-5dbed83bf4b8");
    static final UUID VIRTUAL_DISK_ID = UUID.fromString("beca12ab-b2e6-4523-93ef-c309e000c746");
    static final UUID LOGICAL_SECTOR_SIZE = UUID.fromString("8141bf1d-a96f-4709-ba47-f233a8faab5f");
    static final UUID PHYSICAL_SECTOR_SIZE = UUID.fromString("cda348c7-445d-4471-9cc9-e9885251c556");
    static final UUID PARENT_LOCATOR = UUID.fromString("a8d35f2d-b30b-454d-abf7-d3d84834ab0c");

    record Entry(
            int index,
            UUID itemId,        // +0x00
            long offset,        // +0x10 u32, from the start of the metadata region
            long length,        // +0x14 u32
            boolean isUser,     // +0x18 bit 0
            boolean isVirtualDisk, // +0x18 bit 1
            boolean isRequired) {  // +0x18 bit 2
    }

    static VhdxMetadataTable read(ByteBuffer b) {
        int count = Short.toUnsignedInt(b.getShort(0x0a));
        List<Entry> entries = new ArrayList<>();
        if (count <= MAX_ENTRIES) {
            for (int i = 0; i < count; i++) {
                int e = ENTRIES_OFFSET + i * ENTRY_SIZE;
                int flags = b.getInt(e + 0x18);
                entries.add(new Entry(i, MsGuid.read(b, e), Integer.toUnsignedLong(b.getInt(e + 0x10)),
                        Integer.toUnsignedLong(b.getInt(e + 0x14)), (flags & 1) != 0, (flags & 2) != 0,
                        (flags & 4) != 0));
            }
        }
        return new VhdxMetadataTable(Structs.ascii(b, 0, 8), count, List.copyOf(entries));
    }
}
