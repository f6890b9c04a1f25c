package org.jv2v.fs.ntfs;

import java.nio.ByteBuffer;

/**
 * Multi-sector protection of MFT records, index blocks and $LogFile restart pages: the last two
 * bytes of every 512-byte stride hold the update sequence number, their real values are saved in
 * the update sequence array. A stride whose tail differs was torn (or corrupted) and the record is
 * refused.
 */
final class Fixups {
    private Fixups() {}

    /**
     * Verifies and undoes the fixups of {@code b[0, length)} in place. {@code what} names the
     * record ("MFT record 42") and {@code diskOffset} where it lies, for the error.
     */
    static void apply(ByteBuffer b, int length, String device, String what, long diskOffset) {
        int usaOfs = Ntfs.u16(b, 0x04);                        // 0x04 update sequence array offset
        int usaCount = Ntfs.u16(b, 0x06);                      // 0x06 update sequence array count (1 + strides)
        int strides = length / Ntfs.FIXUP_STRIDE;
        if (usaCount != strides + 1) {
            throw Ntfs.bad(device, what + " update sequence array count", diskOffset + 0x06,
                    usaCount + " does not match " + strides + " sectors of 512 bytes (+1)");
        }
        if ((usaOfs & 1) != 0 || usaOfs < 0x08 || usaOfs + 2 * usaCount > Ntfs.FIXUP_STRIDE - 2) {
            throw Ntfs.bad(device, what + " update sequence array offset", diskOffset + 0x04,
                    "0x" + Integer.toHexString(usaOfs) + " does not fit the first sector");
        }
        short usn = b.getShort(usaOfs);
        for (int i = 1; i <= strides; i++) {
            int tail = i * Ntfs.FIXUP_STRIDE - 2;
            if (b.getShort(tail) != usn) {
                throw Ntfs.bad(device, what + " update sequence number", diskOffset + tail,
                        "sector " + (i - 1) + " ends in 0x" + Integer.toHexString(b.getShort(tail) & 0xFFFF)
                                + ", expected 0x" + Integer.toHexString(usn & 0xFFFF) + " (torn or corrupt record)");
            }
            b.putShort(tail, b.getShort(usaOfs + 2 * i));
        }
    }
}
