package org.jv2v.image.vmdk;


import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The ESX sparse extent header ("COWD", the vmfsSparse snapshot delta of ESX/ESXi up to 6.5; VMware
 * Virtual Disk Format, "ESX Server Sparse Extents"). Little-endian, 2048 bytes, of which only the
 * first fields matter for reading: grain tables always have 4096 entries of 32-bit sector numbers.
 */
record CowdHeader(int version, int flags, long numSectors, long grainSize, long gdOffset, long numGDEntries,
                  long freeSector) {

    static final int SIZE = 2048;
    static final int GT_ENTRIES = 4096;

    static CowdHeader read(ByteBuffer b, Source src) {
        if (b.remaining() < 0x20) {
            throw src.bad("COWD header", 0, "file too short for a COWD header");
        }
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != VmdkDescriptor.COWD_MAGIC) {                     // 0x00 magicNumber "COWD"
            throw src.bad("magicNumber", 0, "not a COWD sparse extent");
        }
        return new CowdHeader(
                b.getInt(0x04),                                  // 0x04 version
                b.getInt(0x08),                                  // 0x08 flags
                Integer.toUnsignedLong(b.getInt(0x0c)),          // 0x0c numSectors
                Integer.toUnsignedLong(b.getInt(0x10)),          // 0x10 grainSize (sectors)
                Integer.toUnsignedLong(b.getInt(0x14)),          // 0x14 gdOffset (sectors)
                Integer.toUnsignedLong(b.getInt(0x18)),          // 0x18 numGDEntries
                Integer.toUnsignedLong(b.getInt(0x1c)));         // 0x1c freeSector
        // 0x20 root geometry or child parentFileName[1024], 0x420 parentGeneration, 0x424 generation,
        // 0x428 name[60], 0x464 description[512], 0x664 savedGeneration, 0x668 reserved[8],
        // 0x670 uncleanShutdown, 0x674 padding[396]
    }
}
