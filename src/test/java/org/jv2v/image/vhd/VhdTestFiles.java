package org.jv2v.image.vhd;

import org.jv2v.testing.FileBytes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Test-side VHD writing, straight from Microsoft's specification (not from jv2v's reader): edits
 * to images qemu-img made, and differencing disks, which qemu-img cannot create.
 */
final class VhdTestFiles {
    static final int SECTOR = 512;

    private VhdTestFiles() {}

    /** One's complement of the byte sum, the checksum field counted as zero. */
    static int checksum(byte[] b, int checksumAt) {
        int sum = 0;
        for (int i = 0; i < b.length; i++) {
            if (i < checksumAt || i >= checksumAt + 4) {
                sum += b[i] & 0xff;
            }
        }
        return ~sum;
    }



    static long size(Path file) throws IOException {
        return java.nio.file.Files.size(file);
    }

    /**
     * Edits the footer (at the end, and its copy at offset 0 if there is one) and stores it with
     * a fresh checksum.
     */
    static void editFooter(Path file, Consumer<ByteBuffer> edit) throws IOException {
        long end = size(file) - SECTOR;
        List<Long> at = new ArrayList<>(List.of(end));
        if (new String(FileBytes.read(file, 0, 8), StandardCharsets.ISO_8859_1).equals("conectix")) {
            at.add(0L);
        }
        for (long off : at) {
            byte[] f = FileBytes.read(file, off, SECTOR);
            edit.accept(ByteBuffer.wrap(f));
            ByteBuffer.wrap(f).putInt(0x40, checksum(f, 0x40));
            FileBytes.write(file, off, f);
        }
    }

    /** Edits the dynamic header (its offset named by the end footer) and re-checksums it. */
    static void editDynamicHeader(Path file, Consumer<ByteBuffer> edit) throws IOException {
        long at = dynamicHeaderOffset(file);
        byte[] h = FileBytes.read(file, at, 1024);
        edit.accept(ByteBuffer.wrap(h));
        ByteBuffer.wrap(h).putInt(0x24, checksum(h, 0x24));
        FileBytes.write(file, at, h);
    }

    static long dynamicHeaderOffset(Path file) throws IOException {
        return ByteBuffer.wrap(FileBytes.read(file, size(file) - SECTOR, SECTOR)).getLong(0x10);
    }

    static long batOffset(Path file) throws IOException {
        return ByteBuffer.wrap(FileBytes.read(file, dynamicHeaderOffset(file), 1024)).getLong(0x10);
    }

    /**
     * A differencing VHD as Hyper-V lays it out: footer copy, dynamic header, BAT, parent locator
     * data, blocks (sector bitmap, then data), footer. Sectors a write does not cover in an
     * allocated block hold 0xEE garbage with their bitmap bit clear, so a reader that ignores
     * the bitmap shows it.
     */
    static final class DiffBuilder {
        private final Path parent;
        private int blockSize = 512 * 1024;
        private String relative = null;
        private String absolute = null;
        private String unicodeName = null;
        private byte[] parentId;
        private final TreeMap<Long, Integer> sectors = new TreeMap<>(); // sector -> pattern byte
        private String creator = "win ";

        DiffBuilder(Path parent) throws IOException {
            this.parent = parent;
            byte[] footer = FileBytes.read(parent, size(parent) - SECTOR, SECTOR);
            this.parentId = java.util.Arrays.copyOfRange(footer, 0x44, 0x54);
        }

        DiffBuilder blockSize(int size) {
            this.blockSize = size;
            return this;
        }

        /** The W2ru (relative) and W2ku (absolute) locators and the parent unicode name; null omits. */
        DiffBuilder locators(String w2ru, String w2ku, String name) {
            this.relative = w2ru;
            this.absolute = w2ku;
            this.unicodeName = name;
            return this;
        }

        DiffBuilder parentId(byte[] id) {
            this.parentId = id;
            return this;
        }

        DiffBuilder creator(String app) {
            this.creator = app;
            return this;
        }

        /** Sector-aligned writes of one pattern byte. */
        DiffBuilder write(long offset, int length, int pattern) {
            if (offset % SECTOR != 0 || length % SECTOR != 0) {
                throw new IllegalArgumentException("writes must be sector-aligned");
            }
            for (long s = offset / SECTOR; s < (offset + length) / SECTOR; s++) {
                sectors.put(s, pattern);
            }
            return this;
        }

        void build(Path child) throws IOException {
            byte[] pf = FileBytes.read(parent, size(parent) - SECTOR, SECTOR);
            ByteBuffer pfb = ByteBuffer.wrap(pf);
            long size = pfb.getLong(0x30);
            int entries = (int) ((size + blockSize - 1) / blockSize);
            int bitmapBytes = ((blockSize / SECTOR / 8) + 511) & ~511;
            long batAt = 512 + 1024;
            long next = batAt + ((entries * 4L + 511) & ~511L);

            byte[] rel = relative == null ? null : relative.getBytes(StandardCharsets.UTF_16LE);
            byte[] abs = absolute == null ? null : absolute.getBytes(StandardCharsets.UTF_16LE);
            long relAt = next;
            next += rel == null ? 0 : (rel.length + 511) & ~511;
            long absAt = next;
            next += abs == null ? 0 : (abs.length + 511) & ~511;

            int[] bat = new int[entries];
            java.util.Arrays.fill(bat, 0xffffffff);
            TreeMap<Integer, byte[]> blocks = new TreeMap<>();
            for (var e : sectors.entrySet()) {
                int block = (int) (e.getKey() * SECTOR / blockSize);
                int inBlock = (int) (e.getKey() - (long) block * blockSize / SECTOR);
                byte[] b = blocks.computeIfAbsent(block, k -> {
                    byte[] nb = new byte[bitmapBytes + blockSize];
                    java.util.Arrays.fill(nb, bitmapBytes, nb.length, (byte) 0xee);
                    return nb;
                });
                b[inBlock / 8] |= (byte) (0x80 >>> (inBlock % 8));
                java.util.Arrays.fill(b, bitmapBytes + inBlock * SECTOR, bitmapBytes + (inBlock + 1) * SECTOR,
                        (byte) (int) e.getValue());
            }
            for (int block : blocks.keySet()) {
                bat[block] = (int) (next / SECTOR);
                next += bitmapBytes + blockSize;
            }
            long footerAt = next;

            byte[] footer = new byte[SECTOR];
            ByteBuffer f = ByteBuffer.wrap(footer);
            f.put(0, "conectix".getBytes(StandardCharsets.ISO_8859_1));
            f.putInt(0x08, 2);
            f.putInt(0x0c, 0x00010000);
            f.putLong(0x10, 512);
            f.putInt(0x18, 0x2e000000);
            f.put(0x1c, creator.getBytes(StandardCharsets.ISO_8859_1));
            f.putInt(0x20, 0x000a0000);
            f.put(0x24, "Wi2k".getBytes(StandardCharsets.ISO_8859_1));
            f.putLong(0x28, size);
            f.putLong(0x30, size);
            f.putInt(0x38, pfb.getInt(0x38)); // geometry as the parent's
            f.putInt(0x3c, 4);
            UUID id = UUID.randomUUID();
            f.putLong(0x44, id.getMostSignificantBits());
            f.putLong(0x4c, id.getLeastSignificantBits());
            f.putInt(0x40, checksum(footer, 0x40));

            byte[] header = new byte[1024];
            ByteBuffer h = ByteBuffer.wrap(header);
            h.put(0, "cxsparse".getBytes(StandardCharsets.ISO_8859_1));
            h.putLong(0x08, -1L);
            h.putLong(0x10, batAt);
            h.putInt(0x18, 0x00010000);
            h.putInt(0x1c, entries);
            h.putInt(0x20, blockSize);
            h.put(0x28, parentId);
            h.putInt(0x38, pfb.getInt(0x18));
            if (unicodeName != null) {
                h.put(0x40, unicodeName.getBytes(StandardCharsets.UTF_16BE));
            }
            int slot = 0;
            if (rel != null) {
                locator(h, slot++, 0x57327275, rel.length, relAt);
            }
            if (abs != null) {
                locator(h, slot, 0x57326b75, abs.length, absAt);
            }
            h.putInt(0x24, checksum(header, 0x24));

            ByteBuffer batBytes = ByteBuffer.allocate((int) (relAt - batAt)).order(ByteOrder.BIG_ENDIAN);
            for (int e : bat) {
                batBytes.putInt(e);
            }
            java.nio.file.Files.deleteIfExists(child);
            java.nio.file.Files.createFile(child);
            FileBytes.write(child, 0, footer);
            FileBytes.write(child, 512, header);
            FileBytes.write(child, batAt, batBytes.array());
            if (rel != null) {
                FileBytes.write(child, relAt, rel);
            }
            if (abs != null) {
                FileBytes.write(child, absAt, abs);
            }
            for (var b : blocks.entrySet()) {
                FileBytes.write(child, Integer.toUnsignedLong(bat[b.getKey()]) * SECTOR, b.getValue());
            }
            FileBytes.write(child, footerAt, footer);
        }

        private static void locator(ByteBuffer h, int slot, int code, int length, long at) {
            int e = 0x240 + slot * 24;
            h.putInt(e, code);
            h.putInt(e + 4, (length + 511) / 512);
            h.putInt(e + 8, length);
            h.putLong(e + 0x10, at);
        }
    }
}
