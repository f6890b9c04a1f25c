package org.jv2v.volume.lvm;

import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

import static org.jv2v.volume.DeviceReads.bad;
import org.jv2v.volume.DeviceReads;

/**
 * A metadata area: a 512-byte header (checksum, magic, where the current text is) then a circular
 * buffer holding the VG's text metadata. The text may wrap from the end of the area back to just
 * after the header.
 */
final class MetadataArea {
    static final int HEADER_SIZE = 512;
    static final byte[] MAGIC = " LVM2 x[5A%r0N*>".getBytes(StandardCharsets.ISO_8859_1);
    /** raw_locn flag: this copy is to be ignored (pvchange --metadataignore). */
    static final int RAW_LOCN_IGNORED = 1;
    /**
     * lvm2's own limit is half the metadata area, which defaults to 1 MiB; 64 MiB is far beyond any
     * real VG and keeps a hostile size from allocating gigabytes.
     */
    static final int MAX_TEXT = 64 << 20;

    private MetadataArea() {}

    /** The current metadata text of the area at {@code [offset, +size)}, or empty if the area holds none. */
    static Optional<String> text(BlockDevice dev, long offset, long size) throws IOException {
        if (size < HEADER_SIZE) {
            throw bad(dev, "LVM metadata area", offset, "smaller than its header (" + size + " bytes)");
        }
        ByteBuffer h = DeviceReads.read(dev, offset, HEADER_SIZE, "LVM metadata area header");
        int crc = h.getInt(0x00);                                                 // 0x00 checksum of 0x04..0x200
        byte[] magic = new byte[16];
        h.get(0x04, magic);                                                       // 0x04 magic
        int version = h.getInt(0x14);                                             // 0x14 version
        long start = h.getLong(0x18);                                             // 0x18 start (absolute)
        long areaSize = h.getLong(0x20);                                          // 0x20 size
        if (!Arrays.equals(magic, MAGIC)) {
            throw bad(dev, "LVM metadata area magic", offset + 0x04, "wrong magic");
        }
        int actual = LvmCrc.update(LvmCrc.INITIAL, h.array(), 4, HEADER_SIZE - 4);
        if (actual != crc) {
            throw bad(dev, "LVM metadata area header checksum", offset,
                    String.format("stored 0x%08x, computed 0x%08x", crc, actual));
        }
        if (version != 1) {
            throw bad(dev, "LVM metadata area version", offset + 0x14, version + " is not 1");
        }
        if (start != offset || areaSize != size) {
            throw bad(dev, "LVM metadata area start", offset + 0x18,
                    "header says [" + start + ", +" + areaSize + "), the PV header says [" + offset + ", +" + size + ")");
        }
        long locOffset = h.getLong(0x28);                                         // 0x28 raw_locn[0].offset
        long locSize = h.getLong(0x30);                                           // 0x30 raw_locn[0].size
        int locCrc = h.getInt(0x38);                                              // 0x38 raw_locn[0].checksum
        int locFlags = h.getInt(0x3c);                                            // 0x3c raw_locn[0].flags
        if (locOffset == 0 || (locFlags & RAW_LOCN_IGNORED) != 0) {
            return Optional.empty();
        }
        if (locOffset < HEADER_SIZE || locOffset >= size || locSize <= 0 || locSize > size - HEADER_SIZE
                || locSize > MAX_TEXT) {
            throw bad(dev, "LVM metadata location", offset + 0x28,
                    "text [" + locOffset + ", +" + locSize + ") does not fit the " + size + "-byte area");
        }
        byte[] text = new byte[(int) locSize];
        long first = Math.min(locSize, size - locOffset);
        dev.read(ByteBuffer.wrap(text, 0, (int) first), offset + locOffset);
        if (first < locSize) { // wrapped around the circular buffer
            dev.read(ByteBuffer.wrap(text, (int) first, (int) (locSize - first)), offset + HEADER_SIZE);
        }
        int textCrc = LvmCrc.update(LvmCrc.INITIAL, text, 0, text.length);
        if (textCrc != locCrc) {
            throw bad(dev, "LVM metadata text checksum", offset + 0x38,
                    String.format("stored 0x%08x, computed 0x%08x", locCrc, textCrc));
        }
        int len = text.length;
        while (len > 0 && text[len - 1] == 0) {
            len--;
        }
        return Optional.of(new String(text, 0, len, StandardCharsets.UTF_8));
    }
}
