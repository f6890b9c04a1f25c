package org.jv2v.image;

import java.nio.ByteBuffer;

/** Zero detection for sparse writing: a vectorised compare against a shared block of zeros. */
public final class Zeros {
    /** The file system block: the smallest hole a file can have, and the granularity of detection. */
    public static final int BLOCK = 4096;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private Zeros() {}

    /** True when every remaining byte of {@code b} is zero. Does not move {@code b}'s position. */
    public static boolean isZero(ByteBuffer b) {
        return isZero(b, b.position(), b.limit());
    }

    /** True when bytes {@code [from, to)} of {@code b} are all zero. Does not move {@code b}'s position. */
    public static boolean isZero(ByteBuffer b, int from, int to) {
        // Data nearly always differs from zero in its first bytes: answered without building the
        // slices of a full compare (a copy asks this of every 4 KiB block it reads).
        if (to - from >= Long.BYTES && b.getLong(from) != 0) {
            return false;
        }
        for (int at = from; at < to; ) {
            int n = Math.min(to - at, ZEROS.capacity());
            if (b.slice(at, n).mismatch(ZEROS.slice(0, n)) >= 0) {
                return false;
            }
            at += n;
        }
        return true;
    }

    /** A read-only buffer of {@code n} zeros ({@code n} at most 1 MiB). */
    public static ByteBuffer of(int n) {
        return ZEROS.slice(0, n);
    }

    /** Writes {@code n} zeros at {@code dst}'s position, advancing it. */
    public static void fill(ByteBuffer dst, int n) {
        while (n > 0) {
            int k = Math.min(n, ZEROS.capacity());
            dst.put(ZEROS.slice(0, k));
            n -= k;
        }
    }
}
