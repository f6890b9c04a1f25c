package org.jv2v.fs.btrfs;

import org.jv2v.BadInputException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Logical to physical address translation from the chunk items (first the superblock's
 * sys_chunk_array, then the chunk tree). SINGLE, DUP, RAID1/1C3/1C4, RAID0 and RAID10 are mapped;
 * RAID5/6 chunks are refused when something in them is read.
 */
final class ChunkMap {
    static final long TYPE_DATA = 1L;
    static final long TYPE_SYSTEM = 1L << 1;
    static final long TYPE_METADATA = 1L << 2;
    static final long RAID0 = 1L << 3;
    static final long RAID1 = 1L << 4;
    static final long DUP = 1L << 5;
    static final long RAID10 = 1L << 6;
    static final long RAID5 = 1L << 7;
    static final long RAID6 = 1L << 8;
    static final long RAID1C3 = 1L << 9;
    static final long RAID1C4 = 1L << 10;
    static final long MIRRORED = RAID1 | DUP | RAID1C3 | RAID1C4;

    /** struct btrfs_chunk without its stripes, and the size of one btrfs_stripe. */
    static final int CHUNK_HEADER = 0x30;
    static final int STRIPE_SIZE = 0x20;
    /** Most stripes accepted in a chunk: one per device, and no filesystem has this many devices. */
    static final int MAX_STRIPES = 256;
    /** Most chunks accepted: 4 Mi data chunks of 1 GiB are 4 PiB; more comes only from damage. */
    static final int MAX_CHUNKS = 1 << 22;

    record Stripe(long devId, long offset) {}

    record Chunk(long logical, long length, long type, long stripeLen, int subStripes, Stripe[] stripes) {
        long end() {
            return logical + length;
        }

        /** Bytes of each stripe on its device. */
        long stripeLength() {
            int n = stripes.length;
            if ((type & RAID0) != 0) {
                return length / n;
            }
            if ((type & RAID10) != 0) {
                return length / (n / subStripes);
            }
            if ((type & RAID5) != 0) {
                return length / (n - 1);
            }
            if ((type & RAID6) != 0) {
                return length / (n - 2);
            }
            return length;
        }

        String profile() {
            if ((type & RAID0) != 0) {
                return "RAID0";
            }
            if ((type & RAID1) != 0) {
                return "RAID1";
            }
            if ((type & DUP) != 0) {
                return "DUP";
            }
            if ((type & RAID10) != 0) {
                return "RAID10";
            }
            if ((type & RAID5) != 0) {
                return "RAID5";
            }
            if ((type & RAID6) != 0) {
                return "RAID6";
            }
            if ((type & RAID1C3) != 0) {
                return "RAID1C3";
            }
            if ((type & RAID1C4) != 0) {
                return "RAID1C4";
            }
            return "SINGLE";
        }
    }

    /** One copy of a piece of a chunk: {@code length} bytes at {@code offset} of device {@code devId}. */
    record Copy(long devId, long offset, long length) {}

    private final TreeMap<Long, Chunk> chunks = new TreeMap<>();
    private final String device;

    ChunkMap(String device) {
        this.device = device;
    }

    /** Parses one chunk item at {@code d[o, o + size)}; {@code where} names it for messages. */
    static Chunk parse(long logical, byte[] d, int o, int size, String where) {
        if (size < CHUNK_HEADER + STRIPE_SIZE) {
            throw BadInputException.of(where + ": chunk item of " + size + " bytes is too short");
        }
        long length = Hashes.le64(d, o);          // 0x00 length
        long stripeLen = Hashes.le64(d, o + 0x10); // 0x10 stripe_len
        long type = Hashes.le64(d, o + 0x18);      // 0x18 type
        int numStripes = Hashes.le16(d, o + 0x2C); // 0x2C num_stripes
        int subStripes = Hashes.le16(d, o + 0x2E); // 0x2E sub_stripes
        if (numStripes == 0 || numStripes > MAX_STRIPES || CHUNK_HEADER + (long) numStripes * STRIPE_SIZE > size) {
            throw BadInputException.of(where + ": chunk at logical 0x" + Long.toHexString(logical) + ": "
                    + numStripes + " stripes do not fit its " + size + " bytes");
        }
        if (length <= 0 || logical + length < logical) {
            throw BadInputException.of(where + ": chunk at logical 0x" + Long.toHexString(logical)
                    + ": bad length " + Long.toUnsignedString(length));
        }
        Stripe[] stripes = new Stripe[numStripes];
        for (int i = 0; i < numStripes; i++) {
            int s = o + CHUNK_HEADER + i * STRIPE_SIZE;
            stripes[i] = new Stripe(Hashes.le64(d, s), Hashes.le64(d, s + 8)); // 0x00 devid, 0x08 offset
        }
        Chunk c = new Chunk(logical, length, type, stripeLen, subStripes, stripes);
        String problem = null;
        if ((type & (RAID0 | RAID10 | RAID5 | RAID6)) != 0 && (stripeLen <= 0 || Long.bitCount(stripeLen) != 1)) {
            problem = "stripe length " + stripeLen + " is not a power of two";
        } else if ((type & DUP) != 0 && numStripes != 2) {
            problem = "DUP with " + numStripes + " stripes";
        } else if ((type & RAID10) != 0 && (subStripes != 2 || numStripes % 2 != 0)) {
            problem = "RAID10 with " + numStripes + " stripes and " + subStripes + " sub-stripes";
        } else if ((type & RAID5) != 0 && numStripes < 2 || (type & RAID6) != 0 && numStripes < 3) {
            problem = c.profile() + " with " + numStripes + " stripes";
        }
        if (problem != null) {
            throw BadInputException.of(where + ": chunk at logical 0x" + Long.toHexString(logical) + ": " + problem);
        }
        for (Stripe s : stripes) {
            if (s.offset() < 0 || s.offset() + c.stripeLength() < s.offset()) {
                throw BadInputException.of(where + ": chunk at logical 0x" + Long.toHexString(logical)
                        + ": stripe offset 0x" + Long.toHexString(s.offset()) + " out of range");
            }
        }
        return c;
    }

    /** Adds a chunk; one identical to a known chunk is ignored, an overlapping one is an error. */
    void add(Chunk c, String where) {
        Map.Entry<Long, Chunk> below = chunks.floorEntry(c.logical());
        Map.Entry<Long, Chunk> above = chunks.ceilingEntry(c.logical());
        if (below != null && below.getKey().longValue() == c.logical() && below.getValue().length() == c.length()) {
            chunks.put(c.logical(), c); // the chunk tree's copy replaces the superblock's bootstrap copy
            return;
        }
        if (below != null && below.getValue().end() > c.logical()
                || above != null && above.getKey() < c.end()) {
            throw BadInputException.of(where + ": chunk at logical 0x" + Long.toHexString(c.logical())
                    + " overlaps another chunk");
        }
        if (chunks.size() >= MAX_CHUNKS) {
            throw BadInputException.of(where + ": more than " + MAX_CHUNKS + " chunks");
        }
        chunks.put(c.logical(), c);
    }

    Chunk find(long logical) {
        Map.Entry<Long, Chunk> e = chunks.floorEntry(logical);
        return e != null && logical < e.getValue().end() ? e.getValue() : null;
    }

    List<Chunk> all() {
        return List.copyOf(chunks.values());
    }

    /**
     * The copies holding {@code [logical, logical + length)}, cut at the first stripe boundary:
     * each returned copy has the same length, at most {@code length}.
     */
    List<Copy> copies(long logical, long length) {
        Chunk c = find(logical);
        if (c == null) {
            throw BadInputException.of(device + ": logical address 0x" + Long.toHexString(logical)
                    + " is in no chunk");
        }
        long off = logical - c.logical();
        long n = Math.min(length, c.end() - logical);
        Stripe[] st = c.stripes();
        List<Copy> out = new ArrayList<>();
        if ((c.type() & (RAID5 | RAID6)) != 0) {
            throw BadInputException.of(device + ": chunk at logical 0x" + Long.toHexString(c.logical()) + " is "
                    + c.profile() + ", which jv2v does not read");
        }
        if ((c.type() & RAID0) != 0) {
            long stripeNr = off / c.stripeLen();
            long in = off % c.stripeLen();
            int idx = (int) (stripeNr % st.length);
            long phys = st[idx].offset() + (stripeNr / st.length) * c.stripeLen() + in;
            out.add(new Copy(st[idx].devId(), phys, Math.min(n, c.stripeLen() - in)));
        } else if ((c.type() & RAID10) != 0) {
            int factor = st.length / c.subStripes();
            long stripeNr = off / c.stripeLen();
            long in = off % c.stripeLen();
            int idx = (int) (stripeNr % factor) * c.subStripes();
            long phys = (stripeNr / factor) * c.stripeLen() + in;
            for (int i = 0; i < c.subStripes(); i++) {
                out.add(new Copy(st[idx + i].devId(), st[idx + i].offset() + phys, Math.min(n, c.stripeLen() - in)));
            }
        } else if ((c.type() & MIRRORED) != 0) {
            for (Stripe s : st) {
                out.add(new Copy(s.devId(), s.offset() + off, n));
            }
        } else {
            out.add(new Copy(st[0].devId(), st[0].offset() + off, n));
        }
        return out;
    }
}
