package org.jv2v.fs.xfs;

import org.jv2v.BadInputException;
import org.jv2v.LruMap;
import org.jv2v.image.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The device under one XFS filesystem: bounds-checked reads, block-number arithmetic, the v5
 * self-describing header checks, a small cache of metadata blocks, and error messages that name
 * the structure and its byte offset.
 */
final class Volume {
    /** Metadata blocks kept in memory: enough for a few B+tree paths and inode clusters (2 MiB at 4 KiB). */
    static final int CACHE_BLOCKS = 512;

    final BlockDevice device;
    final Superblock sb;
    final int blockSize;
    final long fsBytes;
    private final Map<Long, ByteBuffer> cache = new LruMap<>(CACHE_BLOCKS);

    Volume(BlockDevice device, Superblock sb) {
        this.device = device;
        this.sb = sb;
        this.blockSize = (int) sb.blockSize();
        this.fsBytes = sb.dataBlocks() * sb.blockSize();
    }

    BadInputException corrupt(String field, long offset, String problem) {
        return BadInputException.of(device.describe() + ": XFS " + field + " at offset 0x" + Long.toHexString(offset)
                + ": " + problem);
    }

    /** Byte offset of AG-relative block {@code agbno} in AG {@code agno}. */
    long agBlockOffset(long agno, long agbno) {
        return (agno * sb.agBlocks() + agbno) * blockSize;
    }

    /**
     * Byte offset of filesystem block {@code fsb} (AG number in the high bits), checked against the
     * geometry; {@code field}/{@code where} name the pointer for the error.
     */
    long fsbOffset(long fsb, String field, long where) {
        long agno = fsb >>> sb.agBlkLog();
        long agbno = fsb & ((1L << sb.agBlkLog()) - 1);
        if (fsb < 0 || agno >= sb.agCount() || agbno >= sb.agBlocks()) {
            throw corrupt(field, where, "block number " + fsb + " (AG " + agno + " block " + agbno
                    + ") is outside the filesystem");
        }
        long off = agBlockOffset(agno, agbno);
        if (off >= fsBytes) {
            throw corrupt(field, where, "block number " + fsb + " is past the end of the filesystem");
        }
        return off;
    }

    /** Checks that {@code [offset, offset + length)} lies inside the filesystem and the device. */
    void checkRange(long offset, long length, String field, long where) {
        if (offset < 0 || length < 0 || offset > fsBytes || length > fsBytes - offset) {
            throw corrupt(field, where, "range [0x" + Long.toHexString(offset) + ", +" + length
                    + ") is outside the filesystem (" + fsBytes + " bytes)");
        }
        if (offset + length > device.size()) {
            throw corrupt(field, where, "range [0x" + Long.toHexString(offset) + ", +" + length
                    + ") is past the end of the device (" + device.size() + " bytes): truncated image?");
        }
    }

    /** Reads fresh bytes (file data, large structures): not cached. */
    ByteBuffer read(long offset, int length, String field) throws IOException {
        checkRange(offset, length, field, offset);
        ByteBuffer b = ByteBuffer.allocate(length);
        device.read(b, offset);
        return b.flip();
    }

    void readInto(ByteBuffer dst, long offset, String field) throws IOException {
        checkRange(offset, dst.remaining(), field, offset);
        device.read(dst, offset);
    }

    /** A filesystem block of metadata, through the cache. The buffer is read-only and shared. */
    ByteBuffer metaBlock(long offset, String field) throws IOException {
        synchronized (cache) {
            ByteBuffer b = cache.get(offset);
            if (b != null) {
                return b.duplicate();
            }
        }
        ByteBuffer b = read(offset, blockSize, field).asReadOnlyBuffer();
        synchronized (cache) {
            cache.put(offset, b);
        }
        return b.duplicate();
    }

    /** Forgets every cached block (after an edit wrote new metadata). */
    void invalidate() {
        synchronized (cache) {
            cache.clear();
        }
    }

    /** Several consecutive metadata blocks (a directory block) assembled from the cache. */
    ByteBuffer metaBlocks(long[] offsets, String field) throws IOException {
        if (offsets.length == 1) {
            return metaBlock(offsets[0], field);
        }
        ByteBuffer out = ByteBuffer.allocate(offsets.length * blockSize);
        for (long off : offsets) {
            out.put(metaBlock(off, field));
        }
        return out.flip().asReadOnlyBuffer();
    }

    // ---- v5 self-describing metadata ----

    /** Verifies the CRC32C stored little-endian at {@code crcOffset} of the first {@code length} bytes. */
    void checkCrc(ByteBuffer b, int length, int crcOffset, String field, long where) {
        if (!crcOk(b, length, crcOffset)) {
            throw corrupt(field, where, String.format("CRC mismatch (stored 0x%08x, computed 0x%08x)",
                    Integer.reverseBytes(b.getInt(crcOffset)), computeCrc(b, length, crcOffset)));
        }
    }

    static boolean crcOk(ByteBuffer b, int length, int crcOffset) {
        return computeCrc(b, length, crcOffset) == Integer.reverseBytes(b.getInt(crcOffset));
    }

    /** CRC32C of the bytes with the 4-byte checksum field itself counted as zeros. */
    static int computeCrc(ByteBuffer b, int length, int crcOffset) {
        CRC32C crc = new CRC32C();
        ByteBuffer d = b.duplicate();
        d.limit(crcOffset).position(0);
        crc.update(d);
        crc.update(new byte[4]);
        d.limit(length).position(crcOffset + 4);
        crc.update(d);
        return (int) crc.getValue();
    }

    /** Checks a v5 block header's UUID, disk address (in 512-byte sectors) and owner. */
    void checkSelf(ByteBuffer b, int uuidOff, int blknoOff, long expectedOffset, int ownerOff, int ownerBytes,
                   long expectedOwner, String field) {
        UUID u = Superblock.uuid(b, uuidOff);
        if (!u.equals(sb.metadataUuid())) {
            throw corrupt(field, expectedOffset, "belongs to filesystem " + u + ", not " + sb.metadataUuid());
        }
        long blkno = b.getLong(blknoOff);
        if (blkno != expectedOffset >> 9) {
            throw corrupt(field, expectedOffset, "header says it is at sector " + blkno + ", not "
                    + (expectedOffset >> 9));
        }
        if (ownerOff >= 0) {
            long owner = ownerBytes == 8 ? b.getLong(ownerOff) : b.getInt(ownerOff) & 0xffffffffL;
            if (owner != expectedOwner) {
                throw corrupt(field, expectedOffset, "owned by " + owner + ", expected " + expectedOwner);
            }
        }
    }
}
