package org.jv2v.convert.linux.kmod;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/**
 * The order in which kmod's hash table (shared/hash.c) hands back its keys: bucket by bucket,
 * each bucket sorted by strcmp. depmod writes modules.symbols, and lays out its module array
 * before sorting it by modules.order, in this order; following it makes our files byte-identical.
 * The hash is Paul Hsieh's "SuperFastHash" over the key's bytes, read as little-endian 16-bit
 * words (the byte order of the x86 and arm64 machines depmod runs on).
 */
final class KmodHashOrder implements Comparator<String> {
    /** depmod's table of module names has 512 buckets, its table of symbols 2048. */
    static final KmodHashOrder MODULES = new KmodHashOrder(512);
    static final KmodHashOrder SYMBOLS = new KmodHashOrder(2048);

    private final int buckets;

    private KmodHashOrder(int buckets) {
        this.buckets = buckets;
    }

    int bucket(String key) {
        return superFastHash(key.getBytes(StandardCharsets.ISO_8859_1)) & (buckets - 1);
    }

    @Override
    public int compare(String a, String b) {
        int c = Integer.compare(bucket(a), bucket(b));
        return c != 0 ? c : Arrays.compareUnsigned(a.getBytes(StandardCharsets.ISO_8859_1),
                b.getBytes(StandardCharsets.ISO_8859_1));
    }

    static int superFastHash(byte[] key) {
        int len = key.length;
        int hash = len;
        int rem = len & 3;
        int p = 0;
        for (int n = len / 4; n > 0; n--) {
            hash += u16(key, p);
            int tmp = (u16(key, p + 2) << 11) ^ hash;
            hash = (hash << 16) ^ tmp;
            p += 4;
            hash += hash >>> 11;
        }
        switch (rem) {
            case 3 -> {
                hash += u16(key, p);
                hash ^= hash << 16;
                hash ^= key[p + 2] << 18;           // a C char: signed, as on x86
                hash += hash >>> 11;
            }
            case 2 -> {
                hash += u16(key, p);
                hash ^= hash << 11;
                hash += hash >>> 17;
            }
            case 1 -> {
                hash += key[p];
                hash ^= hash << 10;
                hash += hash >>> 1;
            }
            default -> { }
        }
        hash ^= hash << 3;
        hash += hash >>> 5;
        hash ^= hash << 4;
        hash += hash >>> 17;
        hash ^= hash << 25;
        hash += hash >>> 6;
        return hash;
    }

    private static int u16(byte[] b, int p) {
        return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8;
    }
}
