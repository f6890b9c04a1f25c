package org.jv2v.convert.linux.compress;

import org.jv2v.BadInputException;

import java.io.OutputStream;
import java.util.Arrays;

/**
 * A growing in-memory buffer that refuses to hold more than a cap: decompressors write into it, so
 * a bomb is stopped while it unpacks, whatever its headers claimed.
 */
public final class CappedBuffer extends OutputStream {
    /** The largest array a JVM reliably allocates. */
    public static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

    private final long cap;
    private final String where;
    private byte[] buf;
    private int len;

    /** {@code where} names the data in the error ("initrd.img: zstd part at offset 0x200"). */
    public CappedBuffer(long cap, String where) {
        this.cap = Math.min(cap, MAX_ARRAY);
        this.where = where;
        this.buf = new byte[(int) Math.min(this.cap, 1 << 16)];
    }

    @Override
    public void write(int b) {
        ensure(1);
        buf[len++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int n) {
        ensure(n);
        System.arraycopy(b, off, buf, len, n);
        len += n;
    }

    private void ensure(int n) {
        long need = (long) len + n;
        if (need > cap) {
            throw BadInputException.of(where + ": unpacks to more than " + cap
                    + " bytes, the limit for data held in memory (corrupt or a decompression bomb?)");
        }
        if (need > buf.length) {
            long grown = Math.max(need, Math.min(cap, (long) buf.length * 2));
            buf = Arrays.copyOf(buf, (int) grown);
        }
    }

    public int size() {
        return len;
    }

    /** The bytes written (a copy only when the buffer is larger than its content). */
    public byte[] toByteArray() {
        return len == buf.length ? buf : Arrays.copyOf(buf, len);
    }
}
