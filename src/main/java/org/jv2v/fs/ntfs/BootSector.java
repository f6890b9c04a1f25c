package org.jv2v.fs.ntfs;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The NTFS boot sector (sector 0 of the volume; a backup sits in the sector after the volume).
 *
 * @param clusterSize     bytes per cluster
 * @param totalSectors    sectors in the volume, not counting the backup boot sector
 * @param mftRecordSize   bytes per MFT record (usually 1024)
 * @param indexBlockSize  bytes per directory index block (usually 4096)
 * @param serial          the volume serial number (blkid's UUID)
 */
record BootSector(int bytesPerSector, int clusterSize, long totalSectors, long mftLcn, long mftMirrLcn,
                  int mftRecordSize, int indexBlockSize, long serial) {

    static final int SIZE = 512;
    /** Windows formats up to 2 MiB clusters (mkntfs too); anything larger is not NTFS. */
    static final int MAX_CLUSTER_SIZE = 2 << 20;
    /** Records and index blocks are a few KiB; the encoding allows more, nothing writes it. */
    static final int MAX_RECORD_SIZE = 64 << 10;

    static boolean hasMagic(ByteBuffer b) {
        byte[] oem = new byte[8];
        b.get(0x03, oem);
        return new String(oem, StandardCharsets.US_ASCII).equals("NTFS    ");
    }

    /** Parses and checks the boot sector; {@code device} names the volume in errors. */
    static BootSector read(ByteBuffer b, String device, long deviceSize) {
        b = Ntfs.le(b);
        if (!hasMagic(b)) {
            throw Ntfs.bad(device, "boot sector OEM id", 0x03, "not \"NTFS    \"");
        }
        if (Ntfs.u16(b, 0x1FE) != 0xAA55) {
            throw Ntfs.bad(device, "boot sector signature", 0x1FE, "not 0x55AA");
        }
        int bps = Ntfs.u16(b, 0x0B);                           // 0x0B bytes per sector
        if (bps < 256 || bps > 4096 || Integer.bitCount(bps) != 1) {
            throw Ntfs.bad(device, "bytes per sector", 0x0B, bps + " is not a power of two in 256..4096");
        }
        int spcRaw = Ntfs.u8(b, 0x0D);                         // 0x0D sectors per cluster
        long clusterSize;
        if (spcRaw == 0) {
            throw Ntfs.bad(device, "sectors per cluster", 0x0D, "zero");
        } else if (spcRaw <= 0x80) {
            if (Integer.bitCount(spcRaw) != 1) {
                throw Ntfs.bad(device, "sectors per cluster", 0x0D, spcRaw + " is not a power of two");
            }
            clusterSize = (long) spcRaw * bps;
        } else {
            // Values above 0x80 are a negative exponent: 2^-(signed byte) sectors per cluster.
            int shift = 256 - spcRaw;
            if (shift > 31) {
                throw Ntfs.bad(device, "sectors per cluster", 0x0D, "exponent " + shift + " too large");
            }
            clusterSize = (long) bps << shift;
        }
        if (clusterSize > MAX_CLUSTER_SIZE) {
            throw Ntfs.bad(device, "sectors per cluster", 0x0D,
                    "cluster size " + clusterSize + " above the " + MAX_CLUSTER_SIZE + " NTFS allows");
        }
        long totalSectors = b.getLong(0x28);                   // 0x28 total sectors
        if (totalSectors <= 0 || totalSectors > deviceSize / bps) {
            throw Ntfs.bad(device, "total sectors", 0x28, totalSectors + " sectors of " + bps
                    + " bytes do not fit the device's " + deviceSize + " bytes");
        }
        long clusters = totalSectors * bps / clusterSize;
        long mftLcn = b.getLong(0x30);                         // 0x30 $MFT cluster
        if (mftLcn <= 0 || mftLcn >= clusters) {
            throw Ntfs.bad(device, "$MFT cluster number", 0x30, mftLcn + " outside the volume's " + clusters + " clusters");
        }
        long mftMirrLcn = b.getLong(0x38);                     // 0x38 $MFTMirr cluster
        int recordSize = sizeField(b, 0x40, clusterSize, device, "clusters per MFT record");
        int indexSize = sizeField(b, 0x44, clusterSize, device, "clusters per index block");
        long serial = b.getLong(0x48);                         // 0x48 volume serial number
        return new BootSector(bps, (int) clusterSize, totalSectors, mftLcn, mftMirrLcn, recordSize, indexSize, serial);
    }

    /** A signed byte: positive counts clusters, negative n means 2^-n bytes. */
    private static int sizeField(ByteBuffer b, int off, long clusterSize, String device, String field) {
        int v = b.get(off);
        long size;
        if (v > 0) {
            size = v * clusterSize;
        } else if (v < 0 && -v <= 31) {
            size = 1L << -v;
        } else {
            throw Ntfs.bad(device, field, off, "invalid value " + v);
        }
        if (size > MAX_RECORD_SIZE || Long.bitCount(size) != 1 || size < Ntfs.FIXUP_STRIDE) {
            throw Ntfs.bad(device, field, off, "size " + size + " is not a power of two in "
                    + Ntfs.FIXUP_STRIDE + ".." + MAX_RECORD_SIZE);
        }
        return (int) size;
    }

    long clusterCount() {
        return totalSectors * bytesPerSector / clusterSize;
    }

    long volumeBytes() {
        return clusterCount() * clusterSize;
    }
}
