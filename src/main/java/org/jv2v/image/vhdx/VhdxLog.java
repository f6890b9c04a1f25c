package org.jv2v.image.vhdx;

import org.jv2v.BadInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Replays a VHDX log (MS-VHDX 2.3) into the read view of the file, never into the file itself.
 *
 * <p>A VHDX whose header names a log GUID was not closed cleanly: metadata updates (BAT entries,
 * new blocks) may sit only in the log. Reading without replaying would show a stale disk, so jv2v
 * finds the active sequence of log entries, as a writer would on open, and lays the pages and
 * zeroed ranges it describes over the file in memory.
 */
final class VhdxLog {
    /**
     * Hyper-V and qemu make 1 MiB logs. 8 MiB bounds the memory the replayed pages take and the
     * work of searching the circular log for its active sequence.
     */
    static final long MAX_LOG_LENGTH = 8 * Structs.MIB;
    /** A VHDX holds at most 64 TiB of payload: a log entry writing past 2^48 bytes is garbage. */
    static final long MAX_FILE_OFFSET = 1L << 48;

    private static final int SECTOR = VhdxFile.PAGE;
    private static final int ENTRY_HEADER = 64;
    private static final int DESCRIPTOR = 32;

    private final byte[] log;
    private final int length;
    private final UUID logGuid;

    private VhdxLog(byte[] log, UUID logGuid) {
        this.log = log;
        this.length = log.length;
        this.logGuid = logGuid;
    }

    /** One validated entry of the log (its descriptors are read again when replayed). */
    private record Entry(int start, int entryLength, int tail, long sequence, long descriptorCount,
                         long flushedFileOffset, long lastFileOffset) {}

    /** What a replay found: how many entries it applied, for {@code image info} and tests. */
    record Result(int entries, long firstSequence, long lastSequence) {}

    /**
     * Replays the log named by {@code header} (read at {@code headerOffset}) into {@code file}'s
     * view. A log with no valid sequence is left alone, as qemu and Windows do.
     */
    static Result replay(VhdxFile file, VhdxHeader header, long headerOffset) throws IOException {
        long len = header.logLength();
        long off = header.logOffset();
        if (len == 0 || len % Structs.MIB != 0 || len > MAX_LOG_LENGTH) {
            throw BadInputException.atOffset(file.path(), "log length", headerOffset + 0x44, "log of " + len
                    + " bytes: must be a non-zero multiple of 1 MiB, at most " + MAX_LOG_LENGTH
                    + " (jv2v replays logs in memory)");
        }
        if (off < Structs.MIB || off % Structs.MIB != 0 || off > file.fileSize() - len) {
            throw BadInputException.atOffset(file.path(), "log offset", headerOffset + 0x48, "log at "
                    + Structs.hex(off) + " (" + len + " bytes) is not 1 MiB-aligned inside the file of "
                    + file.fileSize() + " bytes");
        }
        byte[] bytes = new byte[(int) len];
        file.readStruct(off, (int) len, "log").get(bytes);
        VhdxLog log = new VhdxLog(bytes, header.logGuid());
        List<Entry> sequence = log.activeSequence();
        if (sequence.isEmpty()) {
            return new Result(0, 0, 0);
        }
        Entry head = sequence.getLast();
        if (head.flushedFileOffset() > file.fileSize()) {
            throw BadInputException.atOffset(file.path(), "log entry flushed file offset", off + head.start() + 0x30,
                    "the log expects the file to hold at least " + head.flushedFileOffset() + " bytes but it has "
                            + file.fileSize() + " (truncated)");
        }
        NavigableMap<Long, byte[]> pages = new TreeMap<>();
        NavigableMap<Long, Long> zeros = new TreeMap<>();
        long viewEnd = head.lastFileOffset();
        for (Entry e : sequence) {
            viewEnd = Math.max(viewEnd, log.apply(e, pages, zeros));
        }
        file.overlay(pages, zeros, viewEnd);
        return new Result(sequence.size(), sequence.getFirst().sequence(), head.sequence());
    }

    /**
     * The active sequence: entries laid one after another with consecutive sequence numbers,
     * whose last (head) entry's tail points at the first, the one with the highest head sequence
     * number winning. Empty if the log has none.
     */
    private List<Entry> activeSequence() {
        int slots = length / SECTOR;
        Entry[] at = new Entry[slots];
        boolean[] checked = new boolean[slots];
        List<Entry> best = List.of();
        for (int s = 0; s < slots; s++) {
            Entry first = entryAt(s, at, checked);
            if (first == null) {
                continue;
            }
            List<Entry> run = new ArrayList<>();
            run.add(first);
            Entry cur = first;
            int guard = slots;
            while (true) {
                if (cur.tail() == first.start() && (best.isEmpty() || cur.sequence() > best.getLast().sequence())) {
                    best = List.copyOf(run);
                }
                if (--guard <= 0) {
                    break;
                }
                int next = (int) (((long) cur.start() + cur.entryLength()) % length) / SECTOR;
                Entry e = entryAt(next, at, checked);
                if (e == null || e.sequence() != cur.sequence() + 1) {
                    break;
                }
                run.add(e);
                cur = e;
            }
        }
        return best;
    }

    private Entry entryAt(int slot, Entry[] at, boolean[] checked) {
        if (!checked[slot]) {
            checked[slot] = true;
            at[slot] = parse(slot * SECTOR);
        }
        return at[slot];
    }

    /** The entry starting at {@code start}, or null if none valid starts there. */
    private Entry parse(int start) {
        if (!ascii(start, 4).equals("loge")) {
            return null;
        }
        long entryLength = u32(start + 0x08);
        long tail = u32(start + 0x0c);
        long sequence = u64(start + 0x10);
        long count = u32(start + 0x18);
        if (entryLength == 0 || entryLength % SECTOR != 0 || entryLength > length || tail % SECTOR != 0
                || tail >= length || sequence == 0 || !logGuid.equals(guid(start + 0x20))) {
            return null;
        }
        long sectors = entryLength / SECTOR;
        long descriptorSectors = (ENTRY_HEADER + DESCRIPTOR * count + SECTOR - 1) / SECTOR;
        if (descriptorSectors > sectors) {
            return null;
        }
        if (crc(start, (int) entryLength) != (int) u32(start + 0x04)) {
            return null;
        }
        long dataSector = descriptorSectors;
        for (long i = 0; i < count; i++) {
            long d = start + ENTRY_HEADER + DESCRIPTOR * i;
            String sig = ascii(d, 4);
            long fileOffset = u64(d + 0x10);
            if (u64(d + 0x18) != sequence || fileOffset < 0 || fileOffset % SECTOR != 0) {
                return null;
            }
            if (sig.equals("zero")) {
                long zeroLength = u64(d + 0x08);
                if (zeroLength < 0 || zeroLength % SECTOR != 0 || fileOffset > MAX_FILE_OFFSET
                        || zeroLength > MAX_FILE_OFFSET - fileOffset) {
                    return null;
                }
            } else if (sig.equals("desc")) {
                if (dataSector >= sectors || fileOffset > MAX_FILE_OFFSET - SECTOR) {
                    return null;
                }
                long ds = start + dataSector * SECTOR;
                long seq = u32(ds + 0x04) << 32 | u32(ds + 0xffc);
                if (!ascii(ds, 4).equals("data") || seq != sequence) {
                    return null;
                }
                dataSector++;
            } else {
                return null;
            }
        }
        return new Entry(start, (int) entryLength, (int) tail, sequence, count, u64(start + 0x30),
                u64(start + 0x38));
    }

    /** Applies one entry's descriptors in order; returns the end of the furthest write. */
    private long apply(Entry e, NavigableMap<Long, byte[]> pages, NavigableMap<Long, Long> zeros) {
        long end = 0;
        long dataSector = (ENTRY_HEADER + DESCRIPTOR * e.descriptorCount() + SECTOR - 1) / SECTOR;
        for (long i = 0; i < e.descriptorCount(); i++) {
            long d = e.start() + ENTRY_HEADER + DESCRIPTOR * i;
            long fileOffset = u64(d + 0x10);
            if (ascii(d, 4).equals("zero")) {
                long zeroLength = u64(d + 0x08);
                if (zeroLength == 0) {
                    continue;
                }
                pages.subMap(fileOffset, true, fileOffset + zeroLength, false).clear();
                addRange(zeros, fileOffset, fileOffset + zeroLength);
                end = Math.max(end, fileOffset + zeroLength);
            } else {
                long ds = e.start() + dataSector * SECTOR;
                byte[] page = new byte[SECTOR];
                for (int k = 0; k < 8; k++) {
                    page[k] = byteAt(d + 0x08 + k);           // leading bytes
                }
                for (int k = 8; k < SECTOR - 4; k++) {
                    page[k] = byteAt(ds + k);                   // data, 4084 bytes from 0x08
                }
                for (int k = 0; k < 4; k++) {
                    page[SECTOR - 4 + k] = byteAt(d + 0x04 + k); // trailing bytes
                }
                removeRange(zeros, fileOffset, fileOffset + SECTOR);
                pages.put(fileOffset, page);
                end = Math.max(end, fileOffset + SECTOR);
                dataSector++;
            }
        }
        return end;
    }

    /** Adds [s, t) to a set of disjoint ranges (start to end), merging what touches it. */
    static void addRange(NavigableMap<Long, Long> ranges, long s, long t) {
        Map.Entry<Long, Long> before = ranges.floorEntry(s);
        if (before != null && before.getValue() >= s) {
            s = before.getKey();
            t = Math.max(t, before.getValue());
        }
        for (Map.Entry<Long, Long> r = ranges.ceilingEntry(s); r != null && r.getKey() <= t; r = ranges.ceilingEntry(s)) {
            t = Math.max(t, r.getValue());
            ranges.remove(r.getKey());
        }
        ranges.put(s, t);
    }

    /** Removes [s, t) from a set of disjoint ranges, splitting what straddles it. */
    static void removeRange(NavigableMap<Long, Long> ranges, long s, long t) {
        Map.Entry<Long, Long> before = ranges.lowerEntry(s);
        if (before != null && before.getValue() > s) {
            ranges.put(before.getKey(), s);
            if (before.getValue() > t) {
                ranges.put(t, before.getValue());
            }
        }
        for (Map.Entry<Long, Long> r = ranges.ceilingEntry(s); r != null && r.getKey() < t; r = ranges.ceilingEntry(s)) {
            ranges.remove(r.getKey());
            if (r.getValue() > t) {
                ranges.put(t, r.getValue());
            }
        }
    }

    // The log is circular: positions wrap at its end.

    private byte byteAt(long pos) {
        return log[(int) (pos % length)];
    }

    private long u32(long pos) {
        long v = 0;
        for (int i = 3; i >= 0; i--) {
            v = v << 8 | Byte.toUnsignedLong(byteAt(pos + i));
        }
        return v;
    }

    private long u64(long pos) {
        return u32(pos + 4) << 32 | u32(pos);
    }

    private String ascii(long pos, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = byteAt(pos + i);
        }
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private UUID guid(long pos) {
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) {
            b[i] = byteAt(pos + i);
        }
        return MsGuid.read(ByteBuffer.wrap(b), 0);
    }

    /** CRC-32C of the entry at {@code start} with its checksum field (at +4) as zero. */
    private int crc(int start, int entryLength) {
        CRC32C crc = new CRC32C();
        crc.update(log, start, 4);
        crc.update(new byte[4]);
        int pos = start + 8;
        int left = entryLength - 8;
        while (left > 0) {
            int p = pos % length;
            int n = Math.min(left, length - p);
            crc.update(log, p, n);
            pos = p + n;
            left -= n;
        }
        return (int) crc.getValue();
    }
}
