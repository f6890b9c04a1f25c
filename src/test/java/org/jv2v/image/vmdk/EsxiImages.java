package org.jv2v.image.vmdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.Deflater;

/**
 * Builds, to the formats' specifications, the VMDK layouts that qemu-img reads but cannot make:
 * ESXi flat ("vmfs", "vmfsThin") descriptors, vmfsSparse (COWD) and SEsparse snapshot deltas, and
 * streamOptimized extents whose grain directory sits at the end with a footer (as OVF Tool writes
 * them). Tests then check that qemu-img and jv2v read the same bytes as the model that built them.
 */
final class EsxiImages {
    private EsxiImages() {}

    /** What a delta layer stores for a grain. */
    enum Grain { DATA, ZERO, UNMAPPED }

    /**
     * A delta layer: for each listed grain, its state; DATA grains hold the matching bytes of
     * {@code data} (a whole-disk image, only the listed grains are used).
     */
    record Delta(long sectors, int grainSectors, byte[] data, TreeMap<Long, Grain> grains) {
        /** This layer's view over the parent's bytes. */
        byte[] over(byte[] parent) {
            byte[] out = Arrays.copyOf(parent, (int) (sectors * 512));
            int g = grainSectors * 512;
            for (Map.Entry<Long, Grain> e : grains.entrySet()) {
                int at = (int) (e.getKey() * g);
                int len = Math.min(g, out.length - at);
                if (e.getValue() == Grain.DATA) {
                    System.arraycopy(data, at, out, at, len);
                } else {
                    Arrays.fill(out, at, at + len, (byte) 0);
                }
            }
            return out;
        }
    }

    static String descriptor(long cid, long parentCid, String createType, String parentHint, String extentLines,
                             String adapter) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\n");
        sb.append(String.format("CID=%08x\nparentCID=%08x\n", cid, parentCid));
        sb.append("isNativeSnapshot=\"no\"\n");
        sb.append("createType=\"").append(createType).append("\"\n");
        if (parentHint != null) {
            sb.append("parentFileNameHint=\"").append(parentHint).append("\"\n");
        }
        sb.append("\n# Extent description\n").append(extentLines).append("\n");
        sb.append("# The Disk Data Base\n#DDB\n\n");
        sb.append("ddb.adapterType = \"").append(adapter).append("\"\n");
        sb.append("ddb.geometry.cylinders = \"16\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n");
        sb.append("ddb.longContentID = \"8f6a1e3c2d1b4c5a9e8f7a6b").append(String.format("%08x", cid)).append("\"\n");
        sb.append("ddb.uuid = \"60 00 C2 9a 1b 2c 3d 4e-5f 60 71 82 93 a4 b5 c6\"\n");
        sb.append("ddb.virtualHWVersion = \"14\"\n");
        return sb.toString();
    }

    /** An ESXi flat disk: {@code NAME.vmdk} (descriptor) and {@code NAME-flat.vmdk} (the bytes). */
    static Path vmfsFlat(Path dir, String name, byte[] data, String createType, long cid, boolean holes)
            throws IOException {
        Path flat = dir.resolve(name + "-flat.vmdk");
        try (FileChannel ch = FileChannel.open(flat, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            if (holes) {
                // thin: write only non-zero 64 KiB blocks, leave holes for the rest
                for (int at = 0; at < data.length; at += 65536) {
                    int len = Math.min(65536, data.length - at);
                    if (!isZero(data, at, len)) {
                        ch.write(ByteBuffer.wrap(data, at, len), at);
                    }
                }
                ch.truncate(data.length);
                if (ch.size() < data.length) {
                    ch.write(ByteBuffer.allocate(1), data.length - 1);
                }
            } else {
                ch.write(ByteBuffer.wrap(data));
            }
        }
        Path desc = dir.resolve(name + ".vmdk");
        Files.writeString(desc, descriptor(cid, VmdkDescriptor.NO_PARENT, createType, null,
                "RW " + data.length / 512 + " VMFS \"" + flat.getFileName() + "\"\n", "lsilogic"));
        return desc;
    }

    /**
     * A vmfsSparse snapshot delta: {@code NAME.vmdk} (descriptor) and {@code NAME-delta.vmdk}, a
     * COWD extent: a 2048-byte header, the grain directory at sector 4, 4096-entry grain tables
     * of 32-bit sector numbers, then the grains.
     */
    static Path cowdDelta(Path dir, String name, Delta d, String parent, long parentCid, long cid) throws IOException {
        long sectorsPerTable = (long) d.grainSectors() * 4096;
        int gdEntries = (int) ((d.sectors() + sectorsPerTable - 1) / sectorsPerTable);
        int gdSector = 4;
        int gdSectors = (gdEntries * 4 + 511) / 512;
        // tables for every directory entry that covers a stored grain
        TreeMap<Integer, Integer> tableSector = new TreeMap<>();
        long next = gdSector + gdSectors;
        for (long g : d.grains().keySet()) {
            int t = (int) (g / 4096);
            if (!tableSector.containsKey(t)) {
                tableSector.put(t, (int) next);
                next += 4096 * 4 / 512;
            }
        }
        Path extent = dir.resolve(name + "-delta.vmdk");
        try (FileChannel ch = FileChannel.open(extent, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer gd = le(gdSectors * 512);
            tableSector.forEach((t, s) -> gd.putInt(t * 4, s));
            Map<Integer, ByteBuffer> tables = new TreeMap<>();
            tableSector.forEach((t, s) -> tables.put(t, le(4096 * 4)));
            int grainBytes = d.grainSectors() * 512;
            for (Map.Entry<Long, Grain> e : d.grains().entrySet()) {
                if (e.getValue() != Grain.DATA) {
                    throw new IllegalArgumentException("COWD has no zeroed grains");
                }
                long g = e.getKey();
                tables.get((int) (g / 4096)).putInt((int) (g % 4096) * 4, (int) next);
                ch.write(ByteBuffer.wrap(d.data(), (int) (g * grainBytes), grainBytes), next * 512);
                next += d.grainSectors();
            }
            ByteBuffer h = le(2048);
            h.putInt(0x00, VmdkDescriptor.COWD_MAGIC);       // "COWD"
            h.putInt(0x04, 1);                               // version
            h.putInt(0x08, 3);                               // flags
            h.putInt(0x0c, (int) d.sectors());               // numSectors
            h.putInt(0x10, d.grainSectors());                // grainSize
            h.putInt(0x14, gdSector);                        // gdOffset
            h.putInt(0x18, gdEntries);                       // numGDEntries
            h.putInt(0x1c, (int) next);                      // freeSector
            h.put(0x20, (parent).getBytes(StandardCharsets.UTF_8)); // child: parentFileName[1024]
            h.putInt(0x420, 1);                              // parentGeneration
            h.putInt(0x424, 1);                              // generation
            h.put(0x428, name.getBytes(StandardCharsets.UTF_8));    // name[60]
            ch.write(h, 0);
            ch.write(gd, gdSector * 512L);
            for (var t : tables.entrySet()) {
                ch.write(t.getValue().clear(), tableSector.get(t.getKey()) * 512L);
            }
        }
        Path desc = dir.resolve(name + ".vmdk");
        Files.writeString(desc, descriptor(cid, parentCid, "vmfsSparse", parent,
                "RW " + d.sectors() + " VMFSSPARSE \"" + extent.getFileName() + "\"\n", "lsilogic"));
        return desc;
    }

    /**
     * An SEsparse snapshot delta ({@code NAME.vmdk} and {@code NAME-sesparse.vmdk}) laid out as
     * ESXi's hostd.log reports it: constant header (sector 0), volatile header (1), journal header
     * (2), journal (2048), grain directory (4096), grain tables (6144), free bitmap (8192), back map
     * (10240), grains (12288). Grains are 4 KiB, tables 4096 entries of 64 bits.
     */
    static Path seSparseDelta(Path dir, String name, Delta d, String parent, long parentCid, long cid)
            throws IOException {
        if (d.grainSectors() != 8) {
            throw new IllegalArgumentException("SEsparse grains are 8 sectors");
        }
        long gdOff = 4096, gtOff = 6144, bitmapOff = 8192, backmapOff = 10240, grainsOff = 12288;
        long region = 2048;
        Path extent = dir.resolve(name + "-sesparse.vmdk");
        try (FileChannel ch = FileChannel.open(extent, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            TreeMap<Integer, Integer> tableIndex = new TreeMap<>();
            for (long g : d.grains().keySet()) {
                tableIndex.computeIfAbsent((int) (g / 4096), t -> tableIndex.size());
            }
            ByteBuffer gd = le((int) (region * 512));
            tableIndex.forEach((t, i) -> gd.putLong(t * 8, 0x1000000000000000L | i));
            ByteBuffer gts = le((int) (region * 512));
            ByteBuffer bitmap = le((int) (region * 512));
            long index = 0;
            for (Map.Entry<Long, Grain> e : d.grains().entrySet()) {
                long g = e.getKey();
                int at = tableIndex.get((int) (g / 4096)) * 4096 * 8 + (int) (g % 4096) * 8;
                long entry = switch (e.getValue()) {
                    case UNMAPPED -> 0x1000000000000000L;
                    case ZERO -> 0x2000000000000000L;
                    case DATA -> {
                        long i = index++;
                        ch.write(ByteBuffer.wrap(d.data(), (int) (g * 4096), 4096), (grainsOff + i * 8) * 512);
                        bitmap.put((int) (i / 8), (byte) (bitmap.get((int) (i / 8)) | (1 << (i % 8))));
                        // bits 0..11 of the index go to bits 48..59, the rest to bits 0..47
                        yield 0x3000000000000000L | ((i & 0xfff) << 48) | (i >>> 12);
                    }
                };
                gts.putLong(at, entry);
            }
            ByteBuffer h = le(512);
            h.putLong(0x00, 0xcafebabeL);                // constMagic
            h.putLong(0x08, 0x0000000200000001L);        // version 2.1
            h.putLong(0x10, d.sectors());                // capacity
            h.putLong(0x18, 8);                          // grainSize
            h.putLong(0x20, 64);                         // grainTableSize
            h.putLong(0x28, 0);                          // flags
            h.putLong(0x50, 1).putLong(0x58, 1);         // volatile header
            h.putLong(0x60, 2).putLong(0x68, 2);         // journal header
            h.putLong(0x70, 2048).putLong(0x78, region); // journal
            h.putLong(0x80, gdOff).putLong(0x88, region);
            h.putLong(0x90, gtOff).putLong(0x98, region);
            h.putLong(0xa0, bitmapOff).putLong(0xa8, region);
            h.putLong(0xb0, backmapOff).putLong(0xb8, region);
            h.putLong(0xc0, grainsOff).putLong(0xc8, d.sectors());
            ch.write(h, 0);
            ByteBuffer v = le(512);
            v.putLong(0x00, 0xcafecafeL);                // volatileMagic
            v.putLong(0x08, tableIndex.size());          // freeGTNumber: next table to hand out
            v.putLong(0x10, 1);                          // nextTxnSeqNumber
            v.putLong(0x18, 0);                          // replayJournal
            ch.write(v, 512);
            ch.write(gd, gdOff * 512);
            ch.write(gts, gtOff * 512);
            ch.write(bitmap, bitmapOff * 512);
            long end = (grainsOff + Math.max(1, index) * 8) * 512;
            if (ch.size() < end) {
                ch.write(ByteBuffer.allocate(1), end - 1);
            }
        }
        Path desc = dir.resolve(name + ".vmdk");
        Files.writeString(desc, descriptor(cid, parentCid, "seSparse", parent,
                "RW " + d.sectors() + " SESPARSE \"" + extent.getFileName() + "\"\n", "pvscsi"));
        return desc;
    }

    /**
     * A streamOptimized extent as VMware writes it for OVF: header with gdOffset = GD_AT_END, the
     * embedded descriptor, then compressed grains each behind a grain marker, each grain table
     * behind a table marker after its grains, the directory behind its marker, a footer (the header
     * again, with the real gdOffset) behind a footer marker, and an end-of-stream marker. Only
     * grains that are not all zero are stored.
     */
    static Path streamOptimized(Path file, byte[] data) throws IOException {
        long sectors = data.length / 512;
        int grainSectors = 128;
        int grainBytes = grainSectors * 512;
        long grains = (sectors + grainSectors - 1) / grainSectors;
        int gdEntries = (int) ((grains + 511) / 512);
        String desc = "# Disk DescriptorFile\nversion=1\nCID=5c3a4b21\nparentCID=ffffffff\n"
                + "createType=\"streamOptimized\"\n\n# Extent description\nRW " + sectors + " SPARSE \""
                + file.getFileName() + "\"\n\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"lsilogic\"\n"
                + "ddb.virtualHWVersion = \"4\"\nddb.toolsInstallType = \"4\"\n";
        int descSectors = 2;
        long overhead = 128;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(desc.getBytes(StandardCharsets.UTF_8)), 512);
            long at = overhead * 512;
            int[] gd = new int[gdEntries];
            Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
            byte[] out = new byte[grainBytes * 2 + 64];
            for (int t = 0; t < gdEntries; t++) {
                ByteBuffer gt = le(2048);
                boolean any = false;
                for (int i = 0; i < 512; i++) {
                    long g = (long) t * 512 + i;
                    if (g >= grains) {
                        break;
                    }
                    int off = (int) (g * grainBytes);
                    int len = Math.min(grainBytes, data.length - off);
                    if (isZero(data, off, len)) {
                        continue;
                    }
                    deflater.reset();
                    deflater.setInput(data, off, len);
                    deflater.finish();
                    int n = deflater.deflate(out);
                    ByteBuffer marker = le(roundUp(12 + n));
                    marker.putLong(0, g * grainSectors).putInt(8, n).put(12, out, 0, n);
                    gt.putInt(i * 4, (int) (at / 512));
                    ch.write(marker, at);
                    at += marker.capacity();
                    any = true;
                }
                if (any) {
                    at = writeMarker(ch, at, 4, 1);
                    gd[t] = (int) (at / 512);
                    ch.write(gt.clear(), at);
                    at += 2048;
                }
            }
            ByteBuffer gdb = le(roundUp(gdEntries * 4));
            for (int i = 0; i < gdEntries; i++) {
                gdb.putInt(i * 4, gd[i]);
            }
            at = writeMarker(ch, at, gdb.capacity() / 512, 2);
            long gdSector = at / 512;
            ch.write(gdb, at);
            at += gdb.capacity();
            at = writeMarker(ch, at, 1, 3);
            ch.write(streamHeader(sectors, grainSectors, descSectors, gdSector, overhead), at);
            at += 512;
            ch.write(le(512), at);      // end-of-stream marker: all zero
            ch.write(streamHeader(sectors, grainSectors, descSectors, -1, overhead), 0);
        }
        return file;
    }

    /**
     * A hosted sparse extent (monolithicSparse) with any grain size and table size, as the spec
     * allows and VMware never varies: header, embedded descriptor, grain directory, grain tables
     * (only for tables that map a grain), then uncompressed grains. {@code grains} lists the grains
     * stored (their bytes from {@code data}).
     */
    static Path hostedSparse(Path file, byte[] data, int grainSectors, int gtEntries, java.util.Set<Long> grains)
            throws IOException {
        long sectors = data.length / 512;
        int grainBytes = grainSectors * 512;
        long perTable = (long) grainSectors * gtEntries;
        int gdEntries = (int) ((sectors + perTable - 1) / perTable);
        String desc = "# Disk DescriptorFile\nversion=1\nCID=2468ace0\nparentCID=ffffffff\n"
                + "createType=\"monolithicSparse\"\nRW " + sectors + " SPARSE \"" + file.getFileName() + "\"\n";
        long descSector = 1;
        long descSectors = 2;
        long gdSector = descSector + descSectors;
        long next = gdSector + (gdEntries * 4L + 511) / 512;
        int gtSectors = (gtEntries * 4 + 511) / 512;
        TreeMap<Integer, Long> tables = new TreeMap<>();
        for (long g : new java.util.TreeSet<>(grains)) {
            int t = (int) (g / gtEntries);
            if (!tables.containsKey(t)) {
                tables.put(t, next);
                next += gtSectors;
            }
        }
        long overhead = next;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer gd = le(gdEntries * 4);
            tables.forEach((t, sector) -> gd.putInt(t * 4, (int) (long) sector));
            Map<Integer, ByteBuffer> gts = new TreeMap<>();
            tables.forEach((t, sector) -> gts.put(t, le(gtSectors * 512)));
            for (long g : new java.util.TreeSet<>(grains)) {
                gts.get((int) (g / gtEntries)).putInt((int) (g % gtEntries) * 4, (int) next);
                int off = (int) (g * grainBytes);
                ByteBuffer grain = ByteBuffer.allocate(grainBytes);      // the last grain is padded whole
                grain.put(data, off, Math.min(grainBytes, data.length - off)).clear();
                ch.write(grain, next * 512);
                next += grainSectors;
            }
            ByteBuffer h = le(512);
            h.putInt(0x00, VmdkDescriptor.SPARSE_MAGIC);
            h.putInt(0x04, 1);                                  // version
            h.putInt(0x08, 1);                                  // flags: newline test
            h.putLong(0x0c, sectors);                           // capacity
            h.putLong(0x14, grainSectors);                      // grainSize
            h.putLong(0x1c, descSector);                        // descriptorOffset
            h.putLong(0x24, descSectors);                       // descriptorSize
            h.putInt(0x2c, gtEntries);                          // numGTEsPerGT
            h.putLong(0x38, gdSector);                          // gdOffset
            h.putLong(0x40, overhead);                          // overHead
            h.put(0x49, (byte) '\n').put(0x4a, (byte) ' ').put(0x4b, (byte) '\r').put(0x4c, (byte) '\n');
            ch.write(h, 0);
            ch.write(ByteBuffer.wrap(desc.getBytes(StandardCharsets.UTF_8)), descSector * 512);
            ch.write(gd, gdSector * 512);
            for (var e : gts.entrySet()) {
                ch.write(e.getValue(), tables.get(e.getKey()) * 512);
            }
            if (ch.size() < overhead * 512) {
                ch.write(ByteBuffer.allocate(1), overhead * 512 - 1);
            }
        }
        return file;
    }

    private static ByteBuffer streamHeader(long sectors, int grainSectors, int descSectors, long gdOffset,
                                           long overhead) {
        ByteBuffer h = le(512);
        h.putInt(0x00, VmdkDescriptor.SPARSE_MAGIC);
        h.putInt(0x04, 3);                                  // version
        h.putInt(0x08, 1 | (1 << 16) | (1 << 17));          // newline test, compressed, markers
        h.putLong(0x0c, sectors);                           // capacity
        h.putLong(0x14, grainSectors);                      // grainSize
        h.putLong(0x1c, 1);                                 // descriptorOffset
        h.putLong(0x24, descSectors);                       // descriptorSize
        h.putInt(0x2c, 512);                                // numGTEsPerGT
        h.putLong(0x30, 0);                                 // rgdOffset
        h.putLong(0x38, gdOffset);                          // gdOffset
        h.putLong(0x40, overhead);                          // overHead
        h.put(0x49, (byte) '\n').put(0x4a, (byte) ' ').put(0x4b, (byte) '\r').put(0x4c, (byte) '\n');
        h.putShort(0x4d, (short) 1);                        // compressAlgorithm: deflate
        return h;
    }

    /** A metadata marker: sectors of metadata that follow, size 0, type; padded to a sector. */
    private static long writeMarker(FileChannel ch, long at, long sectors, int type) throws IOException {
        ByteBuffer m = le(512);
        m.putLong(0, sectors).putInt(8, 0).putInt(12, type);
        ch.write(m, at);
        return at + 512;
    }

    private static int roundUp(int n) {
        return (n + 511) / 512 * 512;
    }

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    static boolean isZero(byte[] a, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
