package org.jv2v.convert.linux.compress;

/**
 * The compressions the Linux kernel recognises at the start of an initramfs part (and that kmod
 * accepts for modules), told apart by their magic bytes as the kernel's {@code decompress_method}
 * does, never by a file name.
 */
public enum Compression {
    /** No compression: a cpio archive or an ELF module as is. */
    NONE("none", null),
    GZIP("gzip", new byte[] {0x1f, (byte) 0x8b}),
    BZIP2("bzip2", new byte[] {'B', 'Z', 'h'}),
    LZMA("lzma", new byte[] {0x5d, 0x00, 0x00}),
    XZ("xz", new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0x00}),
    LZO("lzo", new byte[] {(byte) 0x89, 'L', 'Z', 'O'}),
    /** The lz4 "legacy" frame ({@code lz4 -l}), the only lz4 framing the kernel reads. */
    LZ4_LEGACY("lz4", new byte[] {0x02, 0x21, 0x4c, 0x18}),
    ZSTD("zstd", new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd});

    private final String displayName;
    private final byte[] magic;

    Compression(String displayName, byte[] magic) {
        this.displayName = displayName;
        this.magic = magic;
    }

    /** The name users know (the tool's name): "gzip", "xz", "zstd", "lz4" ... */
    public String displayName() {
        return displayName;
    }

    /** The compression whose magic starts at {@code off}, or {@code null} if none matches. */
    public static Compression detect(byte[] buf, int off, int len) {
        for (Compression c : values()) {
            if (c.magic != null && c.magic.length <= len && matches(buf, off, c.magic)) {
                return c;
            }
        }
        return null;
    }

    /** Whether this Java implementation can also write the format (LZO cannot even be read). */
    public boolean canWrite() {
        return this != LZO;
    }

    private static boolean matches(byte[] buf, int off, byte[] magic) {
        for (int i = 0; i < magic.length; i++) {
            if (buf[off + i] != magic[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return displayName;
    }
}
