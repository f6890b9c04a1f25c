package org.jv2v.fs.xfs;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Finds the head and tail of the internal log, following the rules xfs_repair and xfs_logprint use
 * (libxlog's find-head/find-tail): every 512-byte log block starts with the cycle number of the
 * pass that wrote it, so the head is where the cycle number drops; then the last record header
 * before the head gives the tail, unless that record is a lone unmount record ending exactly at
 * the head. Anything that does not add up reports the log as not clean.
 */
final class Journal {
    static final int BB = 512;
    static final int HEADER_MAGIC = 0xfeedbabe;
    static final int UNMOUNT_TRANS = 0x20;
    static final int HEADER_CYCLE_SIZE = 32 * 1024;
    /** Largest log record (v2 logs); larger h_len/h_size values are corruption. */
    static final int MAX_RECORD = 256 * 1024;

    private final Volume v;
    private final long start;   // byte offset of the log
    private final long n;       // log size in 512-byte blocks
    private final boolean v2;
    /** How far back a partially written set of in-core logs can reach: 8 records of the largest size. */
    private final int totalRecordBlocks;
    /** The largest single record, in blocks. */
    private final int recordBlocks;

    private Journal(Volume v, long start, long blocks) {
        this.v = v;
        this.start = start;
        this.n = blocks;
        this.v2 = v.sb.hasLogV2();
        // windows never larger than the log itself (old logs can be as small as 512 KiB)
        this.recordBlocks = (int) Math.min((v2 ? MAX_RECORD : HEADER_CYCLE_SIZE) / BB, blocks);
        this.totalRecordBlocks = (int) Math.min(8L * (v2 ? MAX_RECORD : HEADER_CYCLE_SIZE) / BB, blocks);
    }

    /** Thrown inside the scan when the log does not make sense. */
    private static final class Inconsistent extends Exception {
        Inconsistent(String message) {
            super(message, null, false, false);
        }
    }

    static XfsLogState state(Volume v) throws IOException {
        Superblock sb = v.sb;
        if (sb.logStart() == 0) {
            return new XfsLogState(false, -1, -1, "the log is on an external device: its state cannot be checked");
        }
        long start = v.fsbOffset(sb.logStart(), "superblock log start", 0x30);
        long bytes = sb.logBlocks() * sb.blockSize();
        v.checkRange(start, bytes, "internal log", 0x30);
        try {
            return new Journal(v, start, bytes / BB).find();
        } catch (Inconsistent e) {
            return new XfsLogState(false, -1, -1, "the log is inconsistent: " + e.getMessage());
        }
    }

    private ByteBuffer blocks(long blk, int count) throws IOException {
        return v.read(start + blk * BB, count * BB, "log block " + blk);
    }

    private long cycle(long blk) throws IOException {
        return cycleOf(blocks(blk, 1), 0);
    }

    /** A block's cycle number: its first word, or the h_cycle field of a record header. */
    private static long cycleOf(ByteBuffer b, int off) {
        int first = b.getInt(off);
        return Superblock.u32(b, first == HEADER_MAGIC ? off + 4 : off);
    }

    private XfsLogState find() throws IOException, Inconsistent {
        long head = findHead();
        if (head < 0) {
            return new XfsLogState(true, 0, 0, "the log is zeroed");
        }
        return findTail(head);
    }

    /** The head block, or -1 for an entirely zeroed log. */
    private long findHead() throws IOException, Inconsistent {
        long first = cycle(0);
        if (first == 0) {
            return -1;
        }
        long last = cycle(n - 1);
        if (last == 0) {
            // partly written first pass: the head is the first block never written
            if (first != 1) {
                throw new Inconsistent("the last block was never written but the first has cycle " + first);
            }
            long head = firstWithCycle(n - 1, 0);
            long scan = Math.min(totalRecordBlocks, head);
            long earlier = scanFor(head - scan, scan, 0);
            if (earlier >= 0) {
                head = earlier;
            }
            Long h = backOverPartialRecord(head - scan, head, 0);
            if (h == null) {
                throw new Inconsistent("no record header before block " + head);
            }
            return h;
        }
        long head;
        long stop;
        if (first == last) {
            head = n; // one whole pass: the head is at the wrap point, unless a hole of the previous pass remains
            stop = last - 1;
        } else {
            head = firstWithCycle(n - 1, last);
            stop = last;
        }
        int window = totalRecordBlocks;
        if (head >= window) {
            long found = scanFor(head - window, window, stop);
            if (found >= 0) {
                head = found;
            }
        } else {
            long found = scanFor(n - (window - head), window - head, stop - 1);
            if (found >= 0) {
                head = found;
            } else {
                found = scanFor(0, head, stop);
                if (found >= 0) {
                    head = found;
                }
            }
        }
        // the head must not point into the middle of a record
        if (head >= recordBlocks) {
            Long h = backOverPartialRecord(head - recordBlocks, head, 0);
            if (h == null) {
                throw new Inconsistent("no record header within " + recordBlocks + " blocks before block " + head);
            }
            head = h;
        } else {
            Long h = backOverPartialRecord(0, head, 0);
            if (h == null) {
                long from = n - (recordBlocks - head);
                Long wrapped = backOverPartialRecord(from, n, head);
                if (wrapped == null) {
                    throw new Inconsistent("no record header before block " + head);
                }
                if (wrapped != n) {
                    head = wrapped;
                }
            } else {
                head = h;
            }
        }
        return head == n ? 0 : head;
    }

    /** Binary search for the first block with {@code cycle} in (0, last], block {@code last} having it. */
    private long firstWithCycle(long last, long cycle) throws IOException {
        long lo = 0;
        long hi = last;
        long mid = (lo + hi) >>> 1;
        while (mid != lo && mid != hi) {
            if (cycle(mid) == cycle) {
                hi = mid;
            } else {
                lo = mid;
            }
            mid = (lo + hi) >>> 1;
        }
        return hi;
    }

    /** The first block in {@code [from, from + count)} whose cycle is {@code cycle}, or -1. */
    private long scanFor(long from, long count, long cycle) throws IOException {
        for (long b = from; b < from + count; ) {
            int chunk = (int) Math.min(count - (b - from), 2048);
            ByteBuffer buf = blocks(b, chunk);
            for (int i = 0; i < chunk; i++) {
                if (cycleOf(buf, i * BB) == cycle) {
                    return b + i;
                }
            }
            b += chunk;
        }
        return -1;
    }

    /**
     * Looks back from {@code end - 1} to {@code from} for a record header. Returns null when none is
     * there; else {@code end} when that record ends exactly at {@code end} (counting {@code extra}
     * blocks written past the physical end), or the header's block when the record was cut short.
     */
    private Long backOverPartialRecord(long from, long end, long extra) throws IOException, Inconsistent {
        for (long i = end - 1; i >= from && i >= 0; i--) {
            ByteBuffer h = blocks(i, 1);
            if (h.getInt(0) == HEADER_MAGIC) {
                long expected = recordBlocks(h, i) + headerBlocks(h);
                return end - i + extra == expected ? end : i;
            }
        }
        return null;
    }

    private long recordBlocks(ByteBuffer h, long blk) throws Inconsistent {
        long len = Superblock.u32(h, 0x0c);
        if (len > MAX_RECORD) {
            throw new Inconsistent("record at block " + blk + " claims " + len + " bytes");
        }
        return (len + BB - 1) / BB;
    }

    /** Header blocks of a record: v2 records bigger than 32 KiB carry extra cycle-data sectors. */
    private long headerBlocks(ByteBuffer h) throws Inconsistent {
        if (!v2) {
            return 1;
        }
        long size = Superblock.u32(h, 0x140);
        long version = Superblock.u32(h, 0x08);
        if (size > MAX_RECORD) {
            throw new Inconsistent("record header claims a " + size + "-byte in-core log");
        }
        if ((version & 2) != 0 && size > HEADER_CYCLE_SIZE) {
            return (size + HEADER_CYCLE_SIZE - 1) / HEADER_CYCLE_SIZE;
        }
        return 1;
    }

    private XfsLogState findTail(long head) throws IOException, Inconsistent {
        long at = -1;
        ByteBuffer h = null;
        for (long i = head - 1; i >= 0 && at < 0; i--) {
            ByteBuffer b = blocks(i, 1);
            if (b.getInt(0) == HEADER_MAGIC) {
                at = i;
                h = b;
            }
        }
        for (long i = n - 1; i >= head && at < 0; i--) {
            ByteBuffer b = blocks(i, 1);
            if (b.getInt(0) == HEADER_MAGIC) {
                at = i;
                h = b;
            }
        }
        if (at < 0) {
            throw new Inconsistent("no log record header anywhere");
        }
        long tail = h.getLong(0x18) & 0xffffffffL;
        if (tail >= n) {
            throw new Inconsistent("record at block " + at + " names tail block " + tail + " past the log (" + n + " blocks)");
        }
        long hblks = headerBlocks(h);
        long afterRecord = (at + hblks + recordBlocks(h, at)) % n;
        if (head == afterRecord && Superblock.u32(h, 0x28) == 1) {
            ByteBuffer op = blocks((at + hblks) % n, 1);
            if ((op.get(9) & UNMOUNT_TRANS) != 0) {
                return new XfsLogState(true, head, afterRecord, "clean: unmount record at log block " + at);
            }
        }
        if (head == tail) {
            return new XfsLogState(true, head, tail, "clean: nothing between tail and head");
        }
        return new XfsLogState(false, head, tail, "the log holds transactions not yet written back (tail block "
                + tail + ", head block " + head + "): mount the filesystem once to replay them");
    }
}
