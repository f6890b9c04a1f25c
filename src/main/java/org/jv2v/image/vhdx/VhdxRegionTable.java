package org.jv2v.image.vhdx;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** One of the two 64 KiB region tables at 192 KiB and 256 KiB (MS-VHDX 2.2.3). Little-endian. */
record VhdxRegionTable(
        String signature,       // 0x00 "regi"
        int checksum,           // 0x04 CRC-32C over the 64 KiB table
        long entryCount,        // 0x08 u32, at most 2047
        List<Entry> entries,    // 0x10 32 bytes each
        int computedChecksum) {

    static final int SIZE = 64 * 1024;
    static final String SIGNATURE = "regi";
    static final int CHECKSUM_OFFSET = 0x04;
    static final int ENTRIES_OFFSET = 0x10;
    static final int ENTRY_SIZE = 32;
    /** The specification's limit, which is also what fits in the 64 KiB table. */
    static final int MAX_ENTRIES = 2047;

    static final UUID BAT = UUID.fromString("2dc27766-f623-4200-9d64-115e9bfd4a08");
    static final UUID METADATA = UUID.fromString("8b7ca206-4790-4b9a-b8fe-575f050f886e");

    record Entry(
            int index,
            UUID guid,          // +0x00
            long fileOffset,    // +0x10 u64, a multiple of 1 MiB
            long length,        // +0x18 u32, a multiple of 1 MiB
            boolean required) { // +0x1c bit 0
    }

    /** Reads the table; entries only when the count is within {@link #MAX_ENTRIES} (else none). */
    static VhdxRegionTable read(ByteBuffer b) {
        long count = Integer.toUnsignedLong(b.getInt(0x08));
        List<Entry> entries = new ArrayList<>();
        if (count <= MAX_ENTRIES) {
            for (int i = 0; i < count; i++) {
                int e = ENTRIES_OFFSET + i * ENTRY_SIZE;
                entries.add(new Entry(i, MsGuid.read(b, e), b.getLong(e + 0x10),
                        Integer.toUnsignedLong(b.getInt(e + 0x18)), (b.getInt(e + 0x1c) & 1) != 0));
            }
        }
        return new VhdxRegionTable(Structs.ascii(b, 0, 4), b.getInt(0x04), count, List.copyOf(entries),
                Crc.of(b, 0, SIZE, CHECKSUM_OFFSET));
    }

    boolean valid() {
        return SIGNATURE.equals(signature) && checksum == computedChecksum;
    }
}
