package org.jv2v.fs.btrfs;

/**
 * An LZO1X decompressor with every input and output access bounds-checked, written from the
 * description of the stream format in the Linux kernel's documentation (staging/lzo.rst). Only
 * what btrfs writes is needed (lzo1x_1 output, bitstream version 0).
 */
final class Lzo1x {
    /** A malformed stream, with where it went wrong. */
    static final class FormatException extends Exception {
        FormatException(String message) {
            super(message);
        }
    }

    private final byte[] in;
    private int ip;
    private final int inEnd;
    private final byte[] out;
    private int op;
    private final int outStart;
    private final int outEnd;

    private Lzo1x(byte[] in, int ip, int inEnd, byte[] out, int op, int outEnd) {
        this.in = in;
        this.ip = ip;
        this.inEnd = inEnd;
        this.out = out;
        this.op = op;
        this.outStart = op;
        this.outEnd = outEnd;
    }

    /**
     * Decompresses {@code in[ip, inEnd)} into {@code out[op, outEnd)}; returns the bytes written.
     * The stream must end with its end marker before either buffer runs out.
     */
    static int decompress(byte[] in, int ip, int inEnd, byte[] out, int op, int outEnd) throws FormatException {
        Lzo1x z = new Lzo1x(in, ip, inEnd, out, op, outEnd);
        z.decode();
        return z.op - z.outStart;
    }

    private void decode() throws FormatException {
        int state;
        int first = peek();
        if (first > 17) {
            ip++;
            int n = first - 17;
            literals(n);
            state = Math.min(n, 4);
        } else {
            state = 0;
        }
        while (true) {
            int t = next();
            int len;
            int dist;
            if (t < 16) {
                if (state == 0) {
                    len = t == 0 ? 15 + extra() : t;
                    literals(len + 3);
                    state = 4;
                    continue;
                }
                int h = next();
                if (state < 4) {
                    len = 2;
                    dist = (h << 2) + (t >>> 2) + 1;
                } else {
                    len = 3;
                    dist = (h << 2) + (t >>> 2) + 2049;
                }
                state = t & 3;
            } else if (t < 32) {
                len = (t & 7) == 0 ? 7 + extra() : t & 7;
                len += 2;
                int v = next() | next() << 8;
                int d = ((t & 8) << 11) + (v >>> 2);
                if (d == 0) {
                    return; // end of stream
                }
                dist = 16384 + d;
                state = v & 3;
            } else if (t < 64) {
                len = (t & 31) == 0 ? 31 + extra() : t & 31;
                len += 2;
                int v = next() | next() << 8;
                dist = (v >>> 2) + 1;
                state = v & 3;
            } else if (t < 128) {
                len = 3 + ((t >>> 5) & 1);
                dist = (next() << 3) + ((t >>> 2) & 7) + 1;
                state = t & 3;
            } else {
                len = 5 + ((t >>> 5) & 3);
                dist = (next() << 3) + ((t >>> 2) & 7) + 1;
                state = t & 3;
            }
            match(dist, len);
            literals(state);
        }
    }

    /** A length continued in extra bytes: 255 per zero byte, then the first non-zero byte. */
    private int extra() throws FormatException {
        int n = 0;
        int b;
        while ((b = next()) == 0) {
            n += 255;
            if (n > outEnd - outStart) {
                throw new FormatException("length run longer than the output at input byte " + ip);
            }
        }
        return n + b;
    }

    private int peek() throws FormatException {
        if (ip >= inEnd) {
            throw new FormatException("input ends at byte " + ip + " without an end marker");
        }
        return in[ip] & 0xFF;
    }

    private int next() throws FormatException {
        int b = peek();
        ip++;
        return b;
    }

    private void literals(int n) throws FormatException {
        if (n > inEnd - ip) {
            throw new FormatException(n + " literals at input byte " + ip + " run past the input");
        }
        if (n > outEnd - op) {
            throw new FormatException(n + " literals at input byte " + ip + " overflow the output");
        }
        System.arraycopy(in, ip, out, op, n);
        ip += n;
        op += n;
    }

    private void match(int dist, int len) throws FormatException {
        if (dist > op - outStart) {
            throw new FormatException("match distance " + dist + " reaches before the output start at input byte "
                    + ip);
        }
        if (len > outEnd - op) {
            throw new FormatException("match of " + len + " bytes at input byte " + ip + " overflows the output");
        }
        int from = op - dist;
        for (int i = 0; i < len; i++) {
            out[op++] = out[from + i]; // byte by byte: the source may overlap what is being written
        }
    }
}
