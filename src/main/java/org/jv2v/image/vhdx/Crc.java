package org.jv2v.image.vhdx;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** VHDX checksums: CRC-32C over a structure whose 4-byte checksum field counts as zero. */
final class Crc {
    private Crc() {}

    static int of(ByteBuffer b, int start, int length, int checksumOffset) {
        CRC32C crc = new CRC32C();
        ByteBuffer d = b.duplicate();
        d.limit(start + checksumOffset).position(start);
        crc.update(d);
        crc.update(new byte[4]);
        d.limit(start + length).position(start + checksumOffset + 4);
        crc.update(d);
        return (int) crc.getValue();
    }
}
