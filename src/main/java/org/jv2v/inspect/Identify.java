package org.jv2v.inspect;

import org.jv2v.image.BlockDevice;
import org.jv2v.volume.DeviceReads;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Names what is on a volume from its superblock alone, as blkid does, for what jv2v has no reader
 * for (swap) or whose reader is not in this build or failed: the type, UUID and label that fstab
 * entries (UUID=, LABEL=) refer to. Reads a few fixed sectors, nothing more.
 */
final class Identify {
    /** Swap and hibernation signatures sit in the last 10 bytes of the first page; pages are 4-64 KiB. */
    static final int[] PAGE_SIZES = {4096, 8192, 16384, 32768, 65536};
    /** btrfs's primary superblock. */
    static final long BTRFS_SUPER = 0x10000;

    /** What a superblock says; {@code hibernated} only for swap holding a suspended system. */
    record Id(String type, Optional<String> uuid, Optional<String> label, int pageSize, boolean hibernated) {}

    private Identify() {}

    static Optional<Id> probe(BlockDevice dev) throws IOException {
        Optional<Id> swap = swap(dev);
        if (swap.isPresent()) {
            return swap;
        }
        Optional<Id> btrfs = btrfs(dev);
        if (btrfs.isPresent()) {
            return btrfs;
        }
        return bootSector(dev);
    }

    /** Linux swap (SWAPSPACE2), or a hibernation image written over it. */
    static Optional<Id> swap(BlockDevice dev) throws IOException {
        for (int ps : PAGE_SIZES) {
            if (dev.size() < ps) {
                break;
            }
            ByteBuffer tail = DeviceReads.read(dev, ps - 10, 10, "swap signature");
            String sig = ascii(tail, 0, 10);
            boolean hibernated = sig.startsWith("S1SUSPEND") || sig.startsWith("S2SUSPEND")
                    || sig.startsWith("ULSUSPEND") || sig.equals("LINHIB0001")
                    || (tail.get(0) == (byte) 0xed && tail.get(1) == (byte) 0xc3 && tail.get(2) == 0x02);
            if (sig.equals("SWAPSPACE2") || sig.equals("SWAP-SPACE") || hibernated) {
                ByteBuffer h = DeviceReads.read(dev, 0x400, 0x30, "swap header");
                // 0x40c uuid[16], 0x41c volume_name[16] (version 1 header, after 1 KiB of boot space)
                Optional<String> uuid = sig.equals("SWAP-SPACE") ? Optional.empty() : uuid(h, 0x0c);
                Optional<String> label = sig.equals("SWAP-SPACE") ? Optional.empty() : cString(h, 0x1c, 16);
                return Optional.of(new Id(hibernated ? "swsuspend" : "swap", uuid, label, ps, hibernated));
            }
        }
        return Optional.empty();
    }

    static Optional<Id> btrfs(BlockDevice dev) throws IOException {
        if (dev.size() < BTRFS_SUPER + 4096) {
            return Optional.empty();
        }
        ByteBuffer sb = DeviceReads.read(dev, BTRFS_SUPER, 0x300, "btrfs superblock");
        if (!ascii(sb, 0x40, 8).equals("_BHRfS_M")) { // 0x40 magic
            return Optional.empty();
        }
        return Optional.of(new Id("btrfs", uuid(sb, 0x20), cString(sb, 0x12b, 256), 0, false)); // 0x20 fsid, 0x12b label
    }

    /** FAT and NTFS keep their identity in the boot sector. */
    static Optional<Id> bootSector(BlockDevice dev) throws IOException {
        if (dev.size() < 512) {
            return Optional.empty();
        }
        ByteBuffer b = DeviceReads.read(dev, 0, 512, "boot sector");
        if ((b.get(510) & 0xff) != 0x55 || (b.get(511) & 0xff) != 0xaa) {
            return Optional.empty();
        }
        if (ascii(b, 3, 8).equals("NTFS    ")) { // 0x03 OEM id
            long serial = b.getLong(0x48); // 0x48 volume serial number
            return Optional.of(new Id("ntfs", Optional.of(String.format("%016X", serial)), Optional.empty(), 0, false));
        }
        int bytesPerSector = b.getShort(0x0b) & 0xffff; // 0x0b
        int sectorsPerCluster = b.get(0x0d) & 0xff;     // 0x0d
        boolean sane = (bytesPerSector == 512 || bytesPerSector == 1024 || bytesPerSector == 2048
                || bytesPerSector == 4096) && Integer.bitCount(sectorsPerCluster) == 1;
        if (!sane) {
            return Optional.empty();
        }
        int idAt;
        if (ascii(b, 0x52, 5).equals("FAT32")) {        // 0x52 FAT32 fs type
            idAt = 0x43;                                  // 0x43 FAT32 volume id, 0x47 label
        } else if (ascii(b, 0x36, 3).equals("FAT")) {   // 0x36 FAT12/16 fs type
            idAt = 0x27;                                  // 0x27 volume id, 0x2b label
        } else {
            return Optional.empty();
        }
        int id = b.getInt(idAt);
        String uuid = String.format("%04X-%04X", (id >>> 16) & 0xffff, id & 0xffff);
        Optional<String> label = Optional.of(ascii(b, idAt + 4, 11).stripTrailing())
                .filter(l -> !l.isEmpty() && !l.equals("NO NAME"));
        return Optional.of(new Id("vfat", Optional.of(uuid), label, 0, false));
    }

    private static Optional<String> uuid(ByteBuffer b, int at) {
        byte[] u = new byte[16];
        b.get(at, u);
        boolean zero = true;
        for (byte x : u) {
            zero &= x == 0;
        }
        if (zero) {
            return Optional.empty();
        }
        String h = HexFormat.of().formatHex(u);
        return Optional.of(h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-"
                + h.substring(16, 20) + "-" + h.substring(20));
    }

    private static Optional<String> cString(ByteBuffer b, int at, int max) {
        int n = 0;
        while (n < max && b.get(at + n) != 0) {
            n++;
        }
        byte[] s = new byte[n];
        b.get(at, s);
        return n == 0 ? Optional.empty() : Optional.of(new String(s, StandardCharsets.UTF_8));
    }

    private static String ascii(ByteBuffer b, int at, int n) {
        byte[] s = new byte[n];
        b.get(at, s);
        return new String(s, StandardCharsets.ISO_8859_1);
    }
}
