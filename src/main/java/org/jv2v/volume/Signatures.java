package org.jv2v.volume;

import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/** Recognises containers jv2v cannot open, so the inspector can name them instead of guessing. */
final class Signatures {
    /** md superblock magic, little-endian on every Linux architecture that matters here. */
    static final int MD_MAGIC = 0xa92b4efc;
    static final byte[] LUKS_MAGIC = {'L', 'U', 'K', 'S', (byte) 0xba, (byte) 0xbe};

    private Signatures() {}

    static Optional<Unsupported> check(String name, BlockDevice dev) throws IOException {
        Optional<Unsupported> luks = luks(name, dev);
        return luks.isPresent() ? luks : md(name, dev);
    }

    static Optional<Unsupported> luks(String name, BlockDevice dev) throws IOException {
        long size = dev.size();
        if (size >= 512) {
            ByteBuffer head = DeviceReads.read(dev, 0, 512, "header");
            boolean luks = true;
            for (int i = 0; i < LUKS_MAGIC.length; i++) {
                luks &= head.get(i) == LUKS_MAGIC[i];
            }
            if (luks) {
                int version = (head.get(6) & 0xff) << 8 | (head.get(7) & 0xff); // 0x06 version, big-endian
                return Optional.of(new Unsupported(name, "LUKS",
                        "encrypted volume (LUKS" + version + "): its content cannot be read"));
            }
        }
        return Optional.empty();
    }

    static Optional<Unsupported> md(String name, BlockDevice dev) throws IOException {
        long size = dev.size();
        // md superblocks: 0.90 in the last 64 KiB-aligned 64 KiB; 1.0 8 KiB from the end; 1.1 at 0; 1.2 at 4 KiB
        long[] places = {
            (size & ~0xffffL) - 0x10000, ((size >> 9) - 16 & ~7L) << 9, 0, 4096};
        String[] versions = {"0.90", "1.0", "1.1", "1.2"};
        for (int i = 0; i < places.length; i++) {
            long at = places[i];
            if (at >= 0 && at + 4 <= size) {
                ByteBuffer m = DeviceReads.read(dev, at, 8, "md superblock");
                if (m.getInt(0) == MD_MAGIC) {
                    return Optional.of(new Unsupported(name, "Linux software RAID (md)",
                            "member of an md array (superblock " + versions[i] + "): arrays are not assembled"));
                }
            }
        }
        return Optional.empty();
    }

    static boolean isLdm(Partition p) {
        return p.mbrType() == org.jv2v.volume.mbr.Mbr.TYPE_LDM
                || p.typeGuid().map(g -> g.equals(org.jv2v.volume.gpt.Gpt.TYPE_LDM_DATA)
                        || g.equals(org.jv2v.volume.gpt.Gpt.TYPE_LDM_METADATA)).orElse(false);
    }
}
