package org.jv2v.volume.lvm;

import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.jv2v.volume.DeviceReads.bad;
import org.jv2v.volume.DeviceReads;

/**
 * The LVM2 physical volume label: "LABELONE" in one of the first four sectors, followed by the PV
 * header (the PV's UUID, its size, and where its data and metadata areas are).
 *
 * @param uuid          32 characters, no dashes
 * @param deviceSize    as recorded by lvm
 * @param dataAreas     (offset, size) pairs in bytes; size 0 means "to the end"
 * @param metadataAreas (offset, size) pairs in bytes
 */
record PvLabel(String uuid, long deviceSize, List<long[]> dataAreas, List<long[]> metadataAreas) {
    static final int SECTOR = 512;
    /** The label may be in any of the first four sectors. */
    static final int LABEL_SCAN_SECTORS = 4;
    /** A sector of 16-byte locations holds at most 31 of them after the 32-byte PV UUID and size. */
    static final int MAX_AREAS = 16;

    /** The label, or empty when the device carries none. */
    static Optional<PvLabel> read(BlockDevice dev) throws IOException {
        if (dev.size() < LABEL_SCAN_SECTORS * SECTOR) {
            return Optional.empty();
        }
        ByteBuffer head = DeviceReads.read(dev, 0, LABEL_SCAN_SECTORS * SECTOR, "LVM label");
        for (int s = 0; s < LABEL_SCAN_SECTORS; s++) {
            int at = s * SECTOR;
            if (!ascii(head, at, 8).equals("LABELONE")) {                        // 0x00 id
                continue;
            }
            long sector = head.getLong(at + 0x08);                                // 0x08 sector of this label
            int crc = head.getInt(at + 0x10);                                     // 0x10 crc of 0x14..0x200
            int offset = head.getInt(at + 0x14);                                  // 0x14 offset of the PV header
            String type = ascii(head, at + 0x18, 8);                              // 0x18 type "LVM2 001"
            if (sector != s) {
                throw bad(dev, "LVM label sector", at + 0x08, "says " + sector + " but the label is in sector " + s);
            }
            int actual = LvmCrc.update(LvmCrc.INITIAL, head.array(), at + 0x14, SECTOR - 0x14);
            if (actual != crc) {
                throw bad(dev, "LVM label checksum", at + 0x10,
                        String.format("stored 0x%08x, computed 0x%08x", crc, actual));
            }
            if (!type.equals("LVM2 001")) {
                throw bad(dev, "LVM label type", at + 0x18, "'" + type.trim() + "' is not LVM2 001");
            }
            if (offset < 0x20 || offset > SECTOR - 40) {
                throw bad(dev, "LVM label PV header offset", at + 0x14, offset + " is outside the label sector");
            }
            int p = at + offset;
            String uuid = ascii(head, p, 32);                                     // 0x00 PV UUID
            long size = head.getLong(p + 0x20);                                   // 0x20 device size
            p += 0x28;                                                            // 0x28 data area list
            List<long[]> data = new ArrayList<>();
            p = areas(dev, head, p, at + SECTOR, data, "LVM data area list");
            List<long[]> meta = new ArrayList<>();
            areas(dev, head, p, at + SECTOR, meta, "LVM metadata area list");
            return Optional.of(new PvLabel(uuid, size, data, meta));
        }
        return Optional.empty();
    }

    /** Reads (offset, size) pairs up to the zero pair; returns the position after it. */
    private static int areas(BlockDevice dev, ByteBuffer b, int p, int end, List<long[]> out, String field) {
        while (true) {
            if (p + 16 > end || out.size() > MAX_AREAS) {
                throw bad(dev, field, p, "runs past the label sector without its terminating zero entry");
            }
            long off = b.getLong(p);
            long size = b.getLong(p + 8);
            p += 16;
            if (off == 0) {
                return p;
            }
            if (off < 0 || size < 0 || off > dev.size() || size > dev.size() - off) {
                throw bad(dev, field, p - 16, "area [" + off + ", +" + size + ") lies past the end of the device");
            }
            out.add(new long[] {off, size});
        }
    }

    static String ascii(ByteBuffer b, int at, int len) {
        byte[] a = new byte[len];
        b.get(at, a);
        return new String(a, StandardCharsets.ISO_8859_1);
    }
}
