package org.jv2v.image.vhd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * The 512-byte hard disk footer that ends every VHD (and, for dynamic and differencing disks, is
 * copied at offset 0). All fields big-endian, offsets as in Microsoft's VHD specification.
 *
 * @param computedChecksum the checksum computed over the bytes read, to compare with {@code checksum}
 */
record VhdFooter(
        String cookie,            // 0x00 "conectix"
        int features,             // 0x08
        int formatVersion,        // 0x0c 0x00010000
        long dataOffset,          // 0x10 the dynamic header; all ones for a fixed disk
        int timestamp,            // 0x18 seconds since 2000-01-01 UTC
        String creatorApp,        // 0x1c "vpc ", "win ", "qemu", "qem2", "d2v " ...
        int creatorVersion,       // 0x20
        int creatorHostOs,        // 0x24 "Wi2k", "Mac "
        long originalSize,        // 0x28
        long currentSize,         // 0x30
        int cylinders,            // 0x38 u16
        int heads,                // 0x3a u8
        int sectorsPerTrack,      // 0x3b u8
        int diskType,             // 0x3c 2 fixed, 3 dynamic, 4 differencing
        int checksum,             // 0x40 one's complement of the byte sum, this field as zero
        byte[] uniqueId,          // 0x44 16 bytes
        boolean savedState,       // 0x54
        int computedChecksum) {

    static final int SIZE = 512;
    static final String COOKIE = "conectix";
    static final int TYPE_FIXED = 2;
    static final int TYPE_DYNAMIC = 3;
    static final int TYPE_DIFFERENCING = 4;
    static final int CHECKSUM_OFFSET = 0x40;

    /** Reads the footer from {@code b}'s first 512 bytes (from its position). */
    static VhdFooter read(ByteBuffer b) {
        int p = b.position();
        byte[] id = new byte[16];
        b.get(p + 0x44, id);
        return new VhdFooter(
                ascii(b, p, 8),
                b.getInt(p + 0x08),
                b.getInt(p + 0x0c),
                b.getLong(p + 0x10),
                b.getInt(p + 0x18),
                ascii(b, p + 0x1c, 4),
                b.getInt(p + 0x20),
                b.getInt(p + 0x24),
                b.getLong(p + 0x28),
                b.getLong(p + 0x30),
                Short.toUnsignedInt(b.getShort(p + 0x38)),
                Byte.toUnsignedInt(b.get(p + 0x3a)),
                Byte.toUnsignedInt(b.get(p + 0x3b)),
                b.getInt(p + 0x3c),
                b.getInt(p + 0x40),
                id,
                b.get(p + 0x54) != 0,
                checksum(b, p, SIZE, CHECKSUM_OFFSET));
    }

    boolean hasCookie() {
        return COOKIE.equals(cookie);
    }

    boolean checksumOk() {
        return checksum == computedChecksum;
    }

    /** Cylinders x heads x sectors per track, in bytes. */
    long geometrySize() {
        return (long) cylinders * heads * sectorsPerTrack * 512;
    }

    String uniqueIdHex() {
        return HexFormat.of().formatHex(uniqueId);
    }

    String typeName() {
        return switch (diskType) {
            case TYPE_FIXED -> "fixed";
            case TYPE_DYNAMIC -> "dynamic";
            case TYPE_DIFFERENCING -> "differencing";
            default -> "type " + diskType;
        };
    }

    /** The VHD checksum: one's complement of the sum of all bytes, the 4 checksum bytes counted as zero. */
    static int checksum(ByteBuffer b, int start, int length, int checksumOffset) {
        int sum = 0;
        for (int i = 0; i < length; i++) {
            if (i >= checksumOffset && i < checksumOffset + 4) {
                continue;
            }
            sum += Byte.toUnsignedInt(b.get(start + i));
        }
        return ~sum;
    }

    static String ascii(ByteBuffer b, int offset, int length) {
        byte[] bytes = new byte[length];
        b.get(offset, bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
