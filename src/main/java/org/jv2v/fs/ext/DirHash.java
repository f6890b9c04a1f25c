package org.jv2v.fs.ext;

/**
 * The name hashes of htree (dir_index) directories: the legacy hash, half-MD4 and TEA, each
 * reading the name's bytes as signed or unsigned chars (versions 3, 4 and 5 are the unsigned
 * variants of 0, 1 and 2; the superblock's s_flags says which one the filesystem's creator used).
 * Only the major hash matters for placing and finding an entry.
 */
final class DirHash {
    static final int LEGACY = 0;
    static final int HALF_MD4 = 1;
    static final int TEA = 2;
    /** Added to a version when the filesystem hashes names as unsigned chars. */
    static final int UNSIGNED = 3;
    /** The four words MD4 starts from, used when the superblock's seed is all zeros. */
    private static final int[] DEFAULT_SEED = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

    private DirHash() {}

    static boolean supported(int version) {
        return version >= 0 && version <= 5;
    }

    /**
     * The major hash of {@code name} (lowest bit clear, which htree indexes use as a collision
     * flag). The kernel keeps the largest even value as an end-of-directory marker and moves a
     * name hashing to it one step down; so does this.
     */
    static int hash(byte[] name, int version, int[] seed) {
        if (!supported(version)) {
            throw new IllegalArgumentException("hash version " + version);
        }
        boolean unsigned = version >= UNSIGNED;
        int[] buf = DEFAULT_SEED.clone();
        if (seed != null && (seed[0] | seed[1] | seed[2] | seed[3]) != 0) {
            buf = seed.clone();
        }
        int h;
        switch (version % UNSIGNED) {
            case LEGACY -> h = legacy(name, unsigned);
            case HALF_MD4 -> {
                for (int off = 0; off < name.length; off += 32) {
                    halfMd4(buf, words(name, off, name.length - off, 8, unsigned));
                }
                h = buf[1];
            }
            default -> {
                for (int off = 0; off < name.length; off += 16) {
                    tea(buf, words(name, off, name.length - off, 4, unsigned));
                }
                h = buf[0];
            }
        }
        h &= ~1;
        return h == 0xfffffffe ? 0xfffffffc : h;
    }

    private static int ch(byte b, boolean unsigned) {
        return unsigned ? b & 0xff : b;
    }

    /** The old "dx_hack" hash: a multiplicative mix folded back below 2^31 at each step. */
    private static int legacy(byte[] name, boolean unsigned) {
        int h0 = 0x12a3fe2d;
        int h1 = 0x37abe8f9;
        for (byte b : name) {
            int h = h1 + (h0 ^ (ch(b, unsigned) * 7152373));
            if ((h & 0x80000000) != 0) {
                h -= 0x7fffffff;
            }
            h1 = h0;
            h0 = h;
        }
        return h0 << 1;
    }

    /**
     * {@code num} message words from the bytes at {@code off}: four bytes per word, first byte
     * most significant, and the words past the name's end filled with a pattern made of the
     * remaining length (so names that differ only in length hash differently).
     */
    private static int[] words(byte[] s, int off, int remaining, int num, boolean unsigned) {
        int pad = remaining | remaining << 8;
        pad |= pad << 16;
        int[] out = new int[num];
        int w = 0;
        int val = pad;
        int n = Math.min(remaining, num * 4);
        for (int i = 0; i < n; i++) {
            val = ch(s[off + i], unsigned) + (val << 8);
            if (i % 4 == 3) {
                out[w++] = val;
                val = pad;
            }
        }
        if (w < num) {
            out[w++] = val;
        }
        while (w < num) {
            out[w++] = pad;
        }
        return out;
    }

    private static final int K2 = 0x5a827999;
    private static final int K3 = 0x6ed9eba1;

    /** MD4's three rounds of eight steps each (half of the real thing), added into buf. */
    private static void halfMd4(int[] buf, int[] in) {
        int a = buf[0];
        int b = buf[1];
        int c = buf[2];
        int d = buf[3];
        // round 1: selection, message words in order, shifts 3 7 11 19
        int[] r1 = {0, 1, 2, 3, 4, 5, 6, 7};
        int[] s1 = {3, 7, 11, 19};
        // round 2: majority, words 1 3 5 7 0 2 4 6, shifts 3 5 9 13
        int[] r2 = {1, 3, 5, 7, 0, 2, 4, 6};
        int[] s2 = {3, 5, 9, 13};
        // round 3: parity, words 3 7 2 6 1 5 0 4, shifts 3 9 11 15
        int[] r3 = {3, 7, 2, 6, 1, 5, 0, 4};
        int[] s3 = {3, 9, 11, 15};
        int[][] order = {r1, r2, r3};
        int[][] shifts = {s1, s2, s3};
        int[] k = {0, K2, K3};
        for (int round = 0; round < 3; round++) {
            for (int step = 0; step < 8; step++) {
                int x = in[order[round][step]] + k[round];
                int s = shifts[round][step % 4];
                // the register updated rotates a, d, c, b; the other three feed the function
                switch (step % 4) {
                    case 0 -> a = Integer.rotateLeft(a + f(round, b, c, d) + x, s);
                    case 1 -> d = Integer.rotateLeft(d + f(round, a, b, c) + x, s);
                    case 2 -> c = Integer.rotateLeft(c + f(round, d, a, b) + x, s);
                    default -> b = Integer.rotateLeft(b + f(round, c, d, a) + x, s);
                }
            }
        }
        buf[0] += a;
        buf[1] += b;
        buf[2] += c;
        buf[3] += d;
    }

    private static int f(int round, int x, int y, int z) {
        return switch (round) {
            case 0 -> z ^ (x & (y ^ z));             // selection
            case 1 -> (x & y) + ((x ^ y) & z);       // majority
            default -> x ^ y ^ z;                    // parity
        };
    }

    /** Sixteen rounds of TEA keyed by the message, in a Davies-Meyer construction over buf[0..1]. */
    private static void tea(int[] buf, int[] in) {
        int sum = 0;
        int b0 = buf[0];
        int b1 = buf[1];
        for (int n = 0; n < 16; n++) {
            sum += 0x9e3779b9;
            b0 += ((b1 << 4) + in[0]) ^ (b1 + sum) ^ ((b1 >>> 5) + in[1]);
            b1 += ((b0 << 4) + in[2]) ^ (b0 + sum) ^ ((b0 >>> 5) + in[3]);
        }
        buf[0] += b0;
        buf[1] += b1;
    }
}
