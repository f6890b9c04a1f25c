package org.jv2v.volume;

import org.jv2v.BadInputException;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Bounds-checked reads of on-disk structures, with errors that name the device, field and offset. */
public final class DeviceReads {
    private DeviceReads() {}

    /** {@code length} bytes at {@code offset}, little-endian; a range past the end is bad input. */
    public static ByteBuffer read(BlockDevice dev, long offset, int length, String field) throws IOException {
        if (offset < 0 || length < 0 || offset > dev.size() || length > dev.size() - offset) {
            throw bad(dev, field, offset, "lies past the end of the device (size " + dev.size() + ")");
        }
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        dev.read(b, offset);
        return b.flip();
    }

    /** {@code DEVICE: FIELD at offset 0xOFF: problem}. */
    public static BadInputException bad(BlockDevice dev, String field, long offset, String problem) {
        return BadInputException.of(dev.describe() + ": " + field + " at offset 0x" + Long.toHexString(offset)
                + ": " + problem);
    }

    /** A GUID stored mixed-endian (as GPT and UEFI store them), printed upper case. */
    public static String guid(ByteBuffer b, int at) {
        ByteBuffer le = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder s = new StringBuilder(36);
        s.append(String.format("%08X-%04X-%04X-", le.getInt(at), le.getShort(at + 4) & 0xffff,
                le.getShort(at + 6) & 0xffff));
        for (int i = 8; i < 16; i++) {
            if (i == 10) {
                s.append('-');
            }
            s.append(String.format("%02X", b.get(at + i) & 0xff));
        }
        return s.toString();
    }
}
