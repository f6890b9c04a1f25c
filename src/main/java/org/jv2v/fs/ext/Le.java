package org.jv2v.fs.ext;

/** Little-endian fields in byte arrays (every on-disk ext structure except the journal's). */
final class Le {
    private Le() {}

    static int u8(byte[] b, int at) {
        return b[at] & 0xff;
    }

    static int u16(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
    }

    static int i32(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }

    static long u32(byte[] b, int at) {
        return i32(b, at) & 0xffffffffL;
    }

    static void put8(byte[] b, int at, int v) {
        b[at] = (byte) v;
    }

    static void put16(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >> 8);
    }

    static void put32(byte[] b, int at, long v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >> 8);
        b[at + 2] = (byte) (v >> 16);
        b[at + 3] = (byte) (v >> 24);
    }

    /** Big-endian 32 bits: the journal (jbd2) stores its fields this way. */
    static long be32(byte[] b, int at) {
        return ((b[at] & 0xffL) << 24) | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }

    static byte[] le32(long v) {
        byte[] b = new byte[4];
        put32(b, 0, v);
        return b;
    }
}
