package org.jv2v.image.vhdx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/**
 * GUIDs as VHDX stores them: Microsoft's layout, whose first three fields are little-endian and
 * last eight bytes are in order.
 */
final class MsGuid {
    static final UUID ZERO = new UUID(0, 0);

    private MsGuid() {}

    static UUID read(ByteBuffer b, int offset) {
        ByteBuffer le = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long data1 = Integer.toUnsignedLong(le.getInt(offset));
        long data2 = Short.toUnsignedLong(le.getShort(offset + 4));
        long data3 = Short.toUnsignedLong(le.getShort(offset + 6));
        long data4 = b.duplicate().order(ByteOrder.BIG_ENDIAN).getLong(offset + 8);
        return new UUID(data1 << 32 | data2 << 16 | data3, data4);
    }

    static void write(ByteBuffer b, int offset, UUID id) {
        ByteBuffer le = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long msb = id.getMostSignificantBits();
        le.putInt(offset, (int) (msb >>> 32));
        le.putShort(offset + 4, (short) (msb >>> 16));
        le.putShort(offset + 6, (short) msb);
        b.duplicate().order(ByteOrder.BIG_ENDIAN).putLong(offset + 8, id.getLeastSignificantBits());
    }
}
