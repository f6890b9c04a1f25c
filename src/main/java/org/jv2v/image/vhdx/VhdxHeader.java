package org.jv2v.image.vhdx;

import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * One of the two 4 KiB headers at 64 KiB and 128 KiB (MS-VHDX 2.2.2). Little-endian. The valid
 * one with the larger sequence number is current.
 */
record VhdxHeader(
        String signature,       // 0x00 "head"
        int checksum,           // 0x04 CRC-32C over the 4 KiB header
        long sequenceNumber,    // 0x08
        UUID fileWriteGuid,     // 0x10
        UUID dataWriteGuid,     // 0x20 a differencing child's parent_linkage names this
        UUID logGuid,           // 0x30 non-zero: the log holds entries to replay
        int logVersion,         // 0x40 u16, 0
        int version,            // 0x42 u16, 1
        long logLength,         // 0x44 u32, a multiple of 1 MiB
        long logOffset,         // 0x48 u64, a multiple of 1 MiB
        int computedChecksum) {

    static final int SIZE = 4096;
    static final String SIGNATURE = "head";
    static final int CHECKSUM_OFFSET = 0x04;

    static VhdxHeader read(ByteBuffer b) {
        return new VhdxHeader(
                Structs.ascii(b, 0x00, 4),
                b.getInt(0x04),
                b.getLong(0x08),
                MsGuid.read(b, 0x10),
                MsGuid.read(b, 0x20),
                MsGuid.read(b, 0x30),
                Short.toUnsignedInt(b.getShort(0x40)),
                Short.toUnsignedInt(b.getShort(0x42)),
                Integer.toUnsignedLong(b.getInt(0x44)),
                b.getLong(0x48),
                Crc.of(b, 0, SIZE, CHECKSUM_OFFSET));
    }

    boolean valid() {
        return SIGNATURE.equals(signature) && checksum == computedChecksum;
    }

    boolean hasLog() {
        return !MsGuid.ZERO.equals(logGuid);
    }
}
