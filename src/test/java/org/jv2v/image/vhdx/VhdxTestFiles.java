package org.jv2v.image.vhdx;

import org.jv2v.testing.FileBytes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Test-side VHDX writing, straight from MS-VHDX (not from jv2v's reader): edits to images
 * qemu-img made, differencing disks and pending logs, which qemu-img cannot create.
 */
final class VhdxTestFiles {
    static final int KIB = 1024;
    static final int MIB = 1024 * 1024;
    static final UUID BAT_REGION = UUID.fromString("2dc27766-f623-4200-9d64-115e9bfd4a08");
    static final UUID METADATA_REGION = UUID.fromString("8b7ca206-4790-4b9a-b8fe-575f050f886e");

    private VhdxTestFiles() {}

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A GUID in Microsoft's layout: three little-endian fields, then eight bytes in order. */
    static void putGuid(ByteBuffer b, int at, UUID id) {
        long msb = id.getMostSignificantBits();
        b.order(ByteOrder.LITTLE_ENDIAN).putInt(at, (int) (msb >>> 32)).putShort(at + 4, (short) (msb >>> 16))
                .putShort(at + 6, (short) msb);
        b.order(ByteOrder.BIG_ENDIAN).putLong(at + 8, id.getLeastSignificantBits());
        b.order(ByteOrder.LITTLE_ENDIAN);
    }

    static UUID getGuid(ByteBuffer b, int at) {
        long d1 = Integer.toUnsignedLong(b.order(ByteOrder.LITTLE_ENDIAN).getInt(at));
        long d2 = Short.toUnsignedLong(b.getShort(at + 4));
        long d3 = Short.toUnsignedLong(b.getShort(at + 6));
        long d4 = b.order(ByteOrder.BIG_ENDIAN).getLong(at + 8);
        b.order(ByteOrder.LITTLE_ENDIAN);
        return new UUID(d1 << 32 | d2 << 16 | d3, d4);
    }

    /** CRC-32C of {@code b} with the 4 bytes at {@code at} as zero, stored there. */
    static void putCrc(byte[] b, int at) {
        Arrays.fill(b, at, at + 4, (byte) 0);
        CRC32C crc = new CRC32C();
        crc.update(b);
        le(b).putInt(at, (int) crc.getValue());
    }



    /** The offset of the current header: the valid one with the higher sequence number. */
    static long currentHeader(Path file) throws IOException {
        byte[] h1 = FileBytes.read(file, 64 * KIB, 4096);
        byte[] h2 = FileBytes.read(file, 128 * KIB, 4096);
        boolean v1 = headerValid(h1);
        boolean v2 = headerValid(h2);
        if (v1 && (!v2 || le(h1).getLong(8) >= le(h2).getLong(8))) {
            return 64 * KIB;
        }
        return 128 * KIB;
    }

    static boolean headerValid(byte[] h) {
        byte[] copy = h.clone();
        int stored = le(h).getInt(4);
        putCrc(copy, 4);
        return new String(h, 0, 4, StandardCharsets.ISO_8859_1).equals("head") && le(copy).getInt(4) == stored;
    }

    static UUID dataWriteGuid(Path file) throws IOException {
        return getGuid(le(FileBytes.read(file, currentHeader(file), 4096)), 0x20);
    }

    /**
     * Writes a new header, edited from the current one, into the other slot with the next
     * sequence number: the way a writer updates headers.
     */
    static void updateHeader(Path file, Consumer<ByteBuffer> edit) throws IOException {
        long current = currentHeader(file);
        byte[] h = FileBytes.read(file, current, 4096);
        ByteBuffer b = le(h);
        b.putLong(8, b.getLong(8) + 1);
        edit.accept(b);
        putCrc(h, 4);
        FileBytes.write(file, current == 64 * KIB ? 128 * KIB : 64 * KIB, h);
    }

    /** Edits both region tables (their entries start at 0x10) and re-checksums them. */
    static void editRegionTables(Path file, Consumer<ByteBuffer> edit) throws IOException {
        for (long at : new long[] {192 * KIB, 256 * KIB}) {
            byte[] t = FileBytes.read(file, at, 64 * KIB);
            edit.accept(le(t));
            putCrc(t, 4);
            FileBytes.write(file, at, t);
        }
    }

    /** The file offset of a region named in the first region table. */
    static long regionOffset(Path file, UUID region) throws IOException {
        ByteBuffer t = le(FileBytes.read(file, 192 * KIB, 64 * KIB));
        for (int i = 0; i < t.getInt(8); i++) {
            int e = 0x10 + i * 32;
            if (getGuid(t, e).equals(region)) {
                return t.getLong(e + 0x10);
            }
        }
        throw new IllegalStateException("no region " + region);
    }

    /** Payload block {@code block}'s BAT entry offset, for a disk with {@code chunkRatio}. */
    static long batEntryOffset(Path file, long block, long chunkRatio) throws IOException {
        return regionOffset(file, BAT_REGION) + 8 * (block + block / chunkRatio);
    }

    static long batEntry(Path file, long block, long chunkRatio) throws IOException {
        return le(FileBytes.read(file, batEntryOffset(file, block, chunkRatio), 8)).getLong(0);
    }

    // ---------------------------------------------------------------- the log

    /** One log descriptor: 4 KiB of data at a 4 KiB-aligned file offset, or a zeroed range. */
    record LogWrite(long fileOffset, byte[] page, long zeroLength) {
        static LogWrite data(long fileOffset, byte[] page) {
            return new LogWrite(fileOffset, page, 0);
        }

        static LogWrite zero(long fileOffset, long length) {
            return new LogWrite(fileOffset, null, length);
        }
    }

    /** A log entry to place at {@code logPosition} (from the log's start). */
    record LogEntry(int logPosition, long sequence, int tail, long flushedFileOffset, long lastFileOffset,
                    List<LogWrite> writes) {}

    /** Serializes one entry (MS-VHDX 2.3.1): header, descriptors, data sectors; CRC-32C over it all. */
    static byte[] logEntry(LogEntry e, UUID logGuid) {
        int descSectors = (64 + 32 * e.writes().size() + 4095) / 4096;
        int dataSectors = (int) e.writes().stream().filter(w -> w.page() != null).count();
        byte[] out = new byte[(descSectors + dataSectors) * 4096];
        ByteBuffer b = le(out);
        b.put(0, "loge".getBytes(StandardCharsets.ISO_8859_1));
        b.putInt(0x08, out.length);
        b.putInt(0x0c, e.tail());
        b.putLong(0x10, e.sequence());
        b.putInt(0x18, e.writes().size());
        putGuid(b, 0x20, logGuid);
        b.putLong(0x30, e.flushedFileOffset());
        b.putLong(0x38, e.lastFileOffset());
        int data = descSectors * 4096;
        for (int i = 0; i < e.writes().size(); i++) {
            LogWrite w = e.writes().get(i);
            int d = 64 + 32 * i;
            if (w.page() == null) {
                b.put(d, "zero".getBytes(StandardCharsets.ISO_8859_1));
                b.putLong(d + 0x08, w.zeroLength());
            } else {
                b.put(d, "desc".getBytes(StandardCharsets.ISO_8859_1));
                b.put(d + 0x04, w.page(), 4092, 4);          // trailing bytes
                b.put(d + 0x08, w.page(), 0, 8);             // leading bytes
                b.put(data, "data".getBytes(StandardCharsets.ISO_8859_1));
                b.putInt(data + 0x04, (int) (e.sequence() >>> 32));
                b.put(data + 0x08, w.page(), 8, 4084);
                b.putInt(data + 0xffc, (int) e.sequence());
                data += 4096;
            }
            b.putLong(d + 0x10, w.fileOffset());
            b.putLong(d + 0x18, e.sequence());
        }
        putCrc(out, 4);
        return out;
    }

    /** Writes the entries into the file's log and names the log in a new current header. */
    static void writeLog(Path file, UUID logGuid, List<LogEntry> entries) throws IOException {
        ByteBuffer h = le(FileBytes.read(file, currentHeader(file), 4096));
        long logOffset = h.getLong(0x48);
        for (LogEntry e : entries) {
            FileBytes.write(file, logOffset + e.logPosition(), logEntry(e, logGuid));
        }
        updateHeader(file, b -> putGuid(b, 0x30, logGuid));
    }

    // ---------------------------------------------------------------- differencing disks

    /**
     * A differencing VHDX laid out as MS-VHDX describes: headers, region tables, a 1 MiB log,
     * metadata (file parameters with has_parent, size, sector sizes, disk id, parent locator),
     * BAT, sector bitmap blocks, payload blocks. Sectors a write leaves out of an allocated block
     * hold 0xEE garbage with their bitmap bit clear.
     */
    static final class DiffBuilder {
        private final long size;
        private UUID linkage;
        private long blockSize = MIB;
        private int logicalSector = 512;
        private final List<String[]> locator = new ArrayList<>();
        private final TreeMap<Long, Integer> sectors = new TreeMap<>();
        private final TreeMap<Long, Integer> blockStates = new TreeMap<>();
        private UUID dataWriteGuid = UUID.randomUUID();

        DiffBuilder(Path parent, long size) throws IOException {
            this.size = size;
            this.linkage = VhdxTestFiles.dataWriteGuid(parent);
        }

        DiffBuilder blockSize(long b) {
            blockSize = b;
            return this;
        }

        DiffBuilder logicalSector(int s) {
            logicalSector = s;
            return this;
        }

        DiffBuilder linkage(UUID id) {
            linkage = id;
            return this;
        }

        DiffBuilder dataWriteGuid(UUID id) {
            dataWriteGuid = id;
            return this;
        }

        /** Adds a locator key (relative_path, absolute_win32_path, volume_path ...). */
        DiffBuilder locator(String key, String value) {
            locator.add(new String[] {key, value});
            return this;
        }

        DiffBuilder write(long offset, long length, int pattern) {
            if (offset % logicalSector != 0 || length % logicalSector != 0) {
                throw new IllegalArgumentException("writes must be sector-aligned");
            }
            for (long s = offset / logicalSector; s < (offset + length) / logicalSector; s++) {
                sectors.put(s, pattern);
            }
            return this;
        }

        /** Sets a payload block's state directly (ZERO, UNMAPPED ...): no data, no bitmap. */
        DiffBuilder blockState(long block, int state) {
            blockStates.put(block, state);
            return this;
        }

        void build(Path child) throws IOException {
            long chunkRatio = (1L << 23) * logicalSector / blockSize;
            long payloadBlocks = (size + blockSize - 1) / blockSize;
            long chunks = (payloadBlocks + chunkRatio - 1) / chunkRatio;
            long batEntries = chunks * (chunkRatio + 1);
            long batLength = (batEntries * 8 + MIB - 1) / MIB * MIB;
            long logAt = MIB;
            long metaAt = 2L * MIB;
            long batAt = 3L * MIB;
            long next = batAt + batLength;

            long sectorsPerBlock = blockSize / logicalSector;
            TreeMap<Long, byte[]> blocks = new TreeMap<>();
            TreeMap<Long, boolean[]> present = new TreeMap<>();
            for (var e : sectors.entrySet()) {
                long block = e.getKey() / sectorsPerBlock;
                int in = (int) (e.getKey() % sectorsPerBlock);
                byte[] data = blocks.computeIfAbsent(block, k -> {
                    byte[] d = new byte[(int) blockSize];
                    Arrays.fill(d, (byte) 0xee);
                    return d;
                });
                present.computeIfAbsent(block, k -> new boolean[(int) sectorsPerBlock])[in] = true;
                Arrays.fill(data, in * logicalSector, (in + 1) * logicalSector, (byte) (int) e.getValue());
            }
            long[] bat = new long[(int) batEntries];
            TreeMap<Long, byte[]> bitmaps = new TreeMap<>(); // chunk -> 1 MiB sector bitmap
            for (var e : blocks.entrySet()) {
                long block = e.getKey();
                boolean[] p = present.get(block);
                boolean full = true;
                for (boolean x : p) {
                    full &= x;
                }
                long at = next;
                next += blockSize;
                bat[(int) (block + block / chunkRatio)] = at | (full ? 6 : 7);
                if (!full) {
                    byte[] bm = bitmaps.computeIfAbsent(block / chunkRatio, k -> new byte[MIB]);
                    long first = (block % chunkRatio) * sectorsPerBlock;
                    for (int s = 0; s < p.length; s++) {
                        if (p[s]) {
                            bm[(int) ((first + s) / 8)] |= (byte) (1 << ((first + s) % 8));
                        }
                    }
                }
            }
            for (var e : blockStates.entrySet()) {
                bat[(int) (e.getKey() + e.getKey() / chunkRatio)] = e.getValue();
            }
            TreeMap<Long, Long> bitmapAt = new TreeMap<>();
            for (long chunk : bitmaps.keySet()) {
                bitmapAt.put(chunk, next);
                bat[(int) (chunk * (chunkRatio + 1) + chunkRatio)] = next | 6;
                next += MIB;
            }

            Files.deleteIfExists(child);
            byte[] ident = new byte[64 * KIB];
            ByteBuffer ib = le(ident);
            ib.put(0, "vhdxfile".getBytes(StandardCharsets.ISO_8859_1));
            ib.put(8, "jv2v test builder".getBytes(StandardCharsets.UTF_16LE));
            FileBytes.write(child, 0, ident);
            // Two valid headers; the second (higher sequence) is current. The first carries another
            // data write GUID, so a reader choosing the wrong one breaks its children's linkage.
            FileBytes.write(child, 64 * KIB, header(5, UUID.randomUUID(), logAt));
            FileBytes.write(child, 128 * KIB, header(6, dataWriteGuid, logAt));
            byte[] regions = new byte[64 * KIB];
            ByteBuffer rb = le(regions);
            rb.put(0, "regi".getBytes(StandardCharsets.ISO_8859_1));
            rb.putInt(8, 2);
            putGuid(rb, 0x10, BAT_REGION);
            rb.putLong(0x20, batAt).putInt(0x28, (int) batLength).putInt(0x2c, 1);
            putGuid(rb, 0x30, METADATA_REGION);
            rb.putLong(0x40, metaAt).putInt(0x48, MIB).putInt(0x4c, 1);
            putCrc(regions, 4);
            FileBytes.write(child, 192 * KIB, regions);
            FileBytes.write(child, 256 * KIB, regions);
            FileBytes.write(child, logAt, new byte[MIB]);
            FileBytes.write(child, metaAt, metadata(chunkRatio));
            ByteBuffer batBytes = ByteBuffer.allocate((int) batLength).order(ByteOrder.LITTLE_ENDIAN);
            for (long e : bat) {
                batBytes.putLong(e);
            }
            FileBytes.write(child, batAt, batBytes.array());
            for (var e : blocks.entrySet()) {
                long entry = bat[(int) (e.getKey() + e.getKey() / chunkRatio)];
                FileBytes.write(child, entry & ~0xfffffL, e.getValue());
            }
            for (var e : bitmaps.entrySet()) {
                FileBytes.write(child, bitmapAt.get(e.getKey()), e.getValue());
            }
            try (FileChannel ch = FileChannel.open(child, StandardOpenOption.WRITE)) {
                if (ch.size() < next) {
                    ch.write(ByteBuffer.allocate(1), next - 1);
                }
            }
        }

        private static byte[] header(long seq, UUID dataWrite, long logAt) {
            byte[] h = new byte[4096];
            ByteBuffer b = le(h);
            b.put(0, "head".getBytes(StandardCharsets.ISO_8859_1));
            b.putLong(0x08, seq);
            putGuid(b, 0x10, UUID.randomUUID());
            putGuid(b, 0x20, dataWrite);
            b.putShort(0x40, (short) 0).putShort(0x42, (short) 1).putInt(0x44, MIB).putLong(0x48, logAt);
            putCrc(h, 4);
            return h;
        }

        private byte[] metadata(long chunkRatio) {
            byte[] m = new byte[MIB];
            ByteBuffer b = le(m);
            b.put(0, "metadata".getBytes(StandardCharsets.ISO_8859_1));
            int item = 64 * KIB;
            List<Object[]> items = new ArrayList<>();
            ByteBuffer fp = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) blockSize).putInt(4, 2);
            items.add(new Object[] {"caa16737-fa36-4d43-b3b6-33f0aa44e76b", fp.array(), 4});
            items.add(new Object[] {"2fa54224-cd1b-4876-b211-5dbed83bf4b8",
                    ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, size).array(), 6});
            byte[] id = new byte[16];
            putGuid(le(id), 0, UUID.randomUUID());
            items.add(new Object[] {"beca12ab-b2e6-4523-93ef-c309e000c746", id, 6});
            items.add(new Object[] {"8141bf1d-a96f-4709-ba47-f233a8faab5f",
                    ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, logicalSector).array(), 6});
            items.add(new Object[] {"cda348c7-445d-4471-9cc9-e9885251c556",
                    ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 4096).array(), 6});
            items.add(new Object[] {"a8d35f2d-b30b-454d-abf7-d3d84834ab0c", parentLocator(), 4});
            b.putShort(0x0a, (short) items.size());
            for (int i = 0; i < items.size(); i++) {
                byte[] data = (byte[]) items.get(i)[1];
                int e = 0x20 + 32 * i;
                putGuid(b, e, UUID.fromString((String) items.get(i)[0]));
                b.putInt(e + 0x10, item).putInt(e + 0x14, data.length).putInt(e + 0x18, (Integer) items.get(i)[2]);
                b.put(item, data);
                item += (data.length + 7) / 8 * 8;
            }
            return m;
        }

        private byte[] parentLocator() {
            List<String[]> kv = new ArrayList<>();
            kv.add(new String[] {"parent_linkage", "{" + linkage + "}"});
            kv.addAll(locator);
            int strings = 20 + 12 * kv.size();
            ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
            putGuid(b, 0, UUID.fromString("b04aefb7-d19e-4a81-b789-25b8e9445913"));
            b.putShort(0x12, (short) kv.size());
            int at = strings;
            for (int i = 0; i < kv.size(); i++) {
                byte[] k = kv.get(i)[0].getBytes(StandardCharsets.UTF_16LE);
                byte[] v = kv.get(i)[1].getBytes(StandardCharsets.UTF_16LE);
                int e = 20 + 12 * i;
                b.putInt(e, at).putInt(e + 4, at + k.length).putShort(e + 8, (short) k.length)
                        .putShort(e + 10, (short) v.length);
                b.put(at, k).put(at + k.length, v);
                at += k.length + v.length;
            }
            return Arrays.copyOf(b.array(), at);
        }
    }
}
