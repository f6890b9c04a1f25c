package org.jv2v.fs.xfs;

import java.io.IOException;
import java.nio.ByteBuffer;

/** The per-AG header sectors: the AGF (free space, sector 1) and the AGI (inodes, sector 2). */
final class AgHeaders {
    private AgHeaders() {}

    /** The AG free space header. */
    record Agf(
            long agno,
            long offset,
            int magic,        // 0x00 "XAGF"
            long seqno,       // 0x08
            long length,      // 0x0c AG size in blocks
            long bnoRoot,     // 0x10 root of the by-block-number free space B+tree
            long cntRoot,     // 0x14 root of the by-size free space B+tree
            int bnoLevel,     // 0x1c
            int cntLevel,     // 0x20
            long flCount,     // 0x30 blocks on the AG free list
            long freeBlocks,  // 0x34 blocks in the free space B+trees' records
            long btreeBlocks) // 0x3c blocks of the free space B+trees beyond their roots
    {
        static final int MAGIC = 0x58414746;
        static final int CRC_OFFSET = 0xd8;

        static Agf read(Volume v, long agno) throws IOException {
            long off = v.agBlockOffset(agno, 0) + v.sb.sectSize();
            String field = "AGF of AG " + agno;
            ByteBuffer b = v.read(off, v.sb.sectSize(), field);
            Agf agf = new Agf(agno, off, b.getInt(0x00), Superblock.u32(b, 0x08), Superblock.u32(b, 0x0c),
                    Superblock.u32(b, 0x10), Superblock.u32(b, 0x14), b.getInt(0x1c), b.getInt(0x20),
                    Superblock.u32(b, 0x30), Superblock.u32(b, 0x34), Superblock.u32(b, 0x3c));
            if (agf.magic != MAGIC) {
                throw v.corrupt(field, off, "bad magic 0x" + Integer.toHexString(agf.magic));
            }
            if (v.sb.isV5()) {
                v.checkCrc(b, v.sb.sectSize(), CRC_OFFSET, field, off);
                if (!Superblock.uuid(b, 0x40).equals(v.sb.metadataUuid())) {
                    throw v.corrupt(field, off, "belongs to filesystem " + Superblock.uuid(b, 0x40));
                }
            }
            if (agf.seqno != agno) {
                throw v.corrupt(field, off, "says it is AG " + agf.seqno);
            }
            long expected = agno < v.sb.agCount() - 1 ? v.sb.agBlocks()
                    : v.sb.dataBlocks() - (v.sb.agCount() - 1) * v.sb.agBlocks();
            if (agf.length != expected) {
                throw v.corrupt(field, off, "AG length " + agf.length + " blocks, the superblock implies " + expected);
            }
            if (agf.freeBlocks > agf.length || agf.flCount > agf.length || agf.btreeBlocks > agf.length) {
                throw v.corrupt(field, off, "counters exceed the AG size");
            }
            return agf;
        }
    }

    /** Checks the AG inode header (magic, CRC, sequence number, length). */
    static void checkAgi(Volume v, long agno, long agLength) throws IOException {
        long off = v.agBlockOffset(agno, 0) + 2L * v.sb.sectSize();
        String field = "AGI of AG " + agno;
        ByteBuffer b = v.read(off, v.sb.sectSize(), field);
        if (b.getInt(0x00) != 0x58414749) { // "XAGI"
            throw v.corrupt(field, off, "bad magic 0x" + Integer.toHexString(b.getInt(0x00)));
        }
        if (v.sb.isV5()) {
            v.checkCrc(b, v.sb.sectSize(), 0x138, field, off);
            if (!Superblock.uuid(b, 0x128).equals(v.sb.metadataUuid())) {
                throw v.corrupt(field, off, "belongs to filesystem " + Superblock.uuid(b, 0x128));
            }
        }
        if (Superblock.u32(b, 0x08) != agno || Superblock.u32(b, 0x0c) != agLength) {
            throw v.corrupt(field, off, "says it is AG " + Superblock.u32(b, 0x08) + " of length "
                    + Superblock.u32(b, 0x0c));
        }
    }
}
