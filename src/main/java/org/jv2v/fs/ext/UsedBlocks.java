package org.jv2v.fs.ext;

import org.jv2v.fs.ByteRange;

import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The blocks in use: each group's block bitmap, united with every piece of metadata whose place
 * is known from the superblock and descriptors (superblock and descriptor copies, reserved GDT
 * blocks, bitmaps, inode tables, the MMP block). A group whose bitmap was never initialised
 * (BLOCK_UNINIT) holds only metadata. Anything doubtful (a bitmap with a bad checksum or in an
 * impossible place) counts as wholly used; a bad group descriptor makes the whole filesystem used.
 * Bytes of the device past the filesystem's end are listed too: nothing says they are free.
 */
final class UsedBlocks {
    /** The boot sector and the primary superblock are always kept, whatever the block size. */
    static final long BOOT_AND_SUPERBLOCK_BYTES = 2048;

    private UsedBlocks() {}

    static List<ByteRange> ranges(ExtFileSystem fs) throws IOException {
        Superblock sb = fs.superblock();
        long bs = fs.blockSize();
        List<ByteRange> out = new ArrayList<>();
        out.add(new ByteRange(0, BOOT_AND_SUPERBLOCK_BYTES));
        // past the filesystem's last block (a partition larger than its filesystem): not ours to call free
        long fsEnd = sb.blocksCount() * bs;
        if (fs.device().size() > fsEnd) {
            out.add(new ByteRange(fsEnd, fs.device().size() - fsEnd));
        }
        for (int g = 0; g < fs.groupCount(); g++) {
            if (!fs.groupDescValid(g)) {
                // a corrupt descriptor: its flags and metadata places cannot be trusted
                out.add(new ByteRange(0, fs.device().size()));
                return merge(out);
            }
        }
        Map<Integer, List<long[]>> metadata = metadata(fs);
        boolean csums = sb.hasRoCompat(Superblock.RO_COMPAT_GDT_CSUM) || sb.hasRoCompat(Superblock.RO_COMPAT_METADATA_CSUM);
        long ratio = sb.clusterSize() / bs;
        for (int g = 0; g < fs.groupCount(); g++) {
            long start = fs.groupFirstBlock(g);
            int len = (int) Math.min(sb.blocksPerGroup(), sb.blocksCount() - start);
            BitSet used = new BitSet(len);
            GroupDesc d = fs.group(g);
            boolean uninit = csums && (d.flags() & GroupDesc.BLOCK_UNINIT) != 0;
            if (!uninit) {
                byte[] bitmap = bitmap(fs, d);
                if (bitmap == null) {
                    used.set(0, len);
                } else if (ratio == 1) {
                    // the on-disk bit order (bit i of byte i/8, low bit first) is BitSet's own
                    used = BitSet.valueOf(bitmap);
                    used.clear(len, Math.max(len, used.length()));
                } else {
                    for (int c = 0; (long) c * ratio < len; c++) {
                        if ((bitmap[c >>> 3] & (1 << (c & 7))) != 0) {
                            used.set((int) (c * ratio), (int) Math.min(len, (c + 1) * ratio));
                        }
                    }
                }
            }
            for (long[] m : metadata.getOrDefault(g, List.of())) {
                used.set((int) (m[0] - start), (int) (m[0] - start + m[1]));
            }
            for (int i = used.nextSetBit(0); i >= 0; ) {
                int j = used.nextClearBit(i);
                out.add(new ByteRange((start + i) * bs, (long) (j - i) * bs));
                i = j < len ? used.nextSetBit(j) : -1;
            }
        }
        return merge(out);
    }

    /** The group's block bitmap, or null when it cannot be trusted (then the group counts as used). */
    private static byte[] bitmap(ExtFileSystem fs, GroupDesc d) throws IOException {
        Superblock sb = fs.superblock();
        if (d.blockBitmap() < sb.firstDataBlock() || d.blockBitmap() >= sb.blocksCount()) {
            return null;
        }
        byte[] b = fs.block(d.blockBitmap());
        if (sb.hasRoCompat(Superblock.RO_COMPAT_METADATA_CSUM)) {
            int c = Crc32c.update(fs.csumSeed(), b, 0, (int) (sb.clustersPerGroup() / 8));
            int stored = d.blockBitmapCsum();
            if (d.csumHi() ? c != stored : (c & 0xffff) != (stored & 0xffff)) {
                return null;
            }
        }
        return b;
    }

    /** Metadata block ranges {start, length}, split at group boundaries, by group. */
    static Map<Integer, List<long[]>> metadata(ExtFileSystem fs) {
        Superblock sb = fs.superblock();
        long bs = fs.blockSize();
        int ds = sb.groupDescSize();
        long perBlock = bs / ds;
        boolean metaBg = sb.hasIncompat(Superblock.INCOMPAT_META_BG);
        long gdtBlocks = metaBg ? sb.firstMetaBg() : (fs.groupCount() + perBlock - 1) / perBlock;
        long itBlocks = (sb.inodesPerGroup() * fs.inodeSize() + bs - 1) / bs;
        List<long[]> all = new ArrayList<>();
        for (int g = 0; g < fs.groupCount(); g++) {
            if (fs.hasSuper(g)) {
                long first = fs.groupFirstBlock(g);
                long sbBlock = g == 0 ? fs.superblockBlock() : first; // group 0 may start at a boot block
                all.add(new long[] {first, sbBlock - first + 1 + gdtBlocks + sb.reservedGdtBlocks()});
            }
            GroupDesc d = fs.group(g);
            all.add(new long[] {d.blockBitmap(), 1});
            all.add(new long[] {d.inodeBitmap(), 1});
            all.add(new long[] {d.inodeTable(), itBlocks});
        }
        if (metaBg) {
            for (long m = sb.firstMetaBg(); m * perBlock < fs.groupCount(); m++) {
                for (long g : new long[] {m * perBlock, m * perBlock + 1, m * perBlock + perBlock - 1}) {
                    if (g < fs.groupCount()) {
                        all.add(new long[] {fs.metaBgDescriptorBlock(g), 1});
                    }
                }
            }
        }
        if (sb.hasIncompat(Superblock.INCOMPAT_MMP) && sb.mmpBlock() != 0) {
            all.add(new long[] {sb.mmpBlock(), 1});
        }
        Map<Integer, List<long[]>> byGroup = new HashMap<>();
        for (long[] r : all) {
            long s = Math.max(r[0], sb.firstDataBlock());
            long e = Math.min(r[0] + r[1], sb.blocksCount());
            while (s < e) {
                int g = (int) ((s - sb.firstDataBlock()) / sb.blocksPerGroup());
                long gEnd = Math.min(fs.groupFirstBlock(g) + sb.blocksPerGroup(), e);
                byGroup.computeIfAbsent(g, k -> new ArrayList<>()).add(new long[] {s, gEnd - s});
                s = gEnd;
            }
        }
        return byGroup;
    }

    static List<ByteRange> merge(List<ByteRange> in) {
        List<ByteRange> sorted = new ArrayList<>(in);
        sorted.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        List<ByteRange> out = new ArrayList<>();
        for (ByteRange r : sorted) {
            if (!out.isEmpty() && out.getLast().end() >= r.offset()) {
                ByteRange last = out.removeLast();
                out.add(new ByteRange(last.offset(), Math.max(last.end(), r.end()) - last.offset()));
            } else {
                out.add(r);
            }
        }
        return out;
    }
}
