package org.jv2v.fs.btrfs;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.CRC32C;

/** The metadata checksum algorithm (superblock csum_type); every one of them is verified. */
public enum ChecksumType {
    CRC32C(0, 4),
    XXHASH(1, 8),
    SHA256(2, 32),
    BLAKE2(3, 32);

    private final int code;
    private final int size;

    ChecksumType(int code, int size) {
        this.code = code;
        this.size = size;
    }

    /** Bytes of the 32-byte checksum field that hold the checksum. */
    public int size() {
        return size;
    }

    static ChecksumType of(int code) {
        for (ChecksumType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }

    /** The checksum of {@code d[off, off + len)} as btrfs stores it (little-endian for the integer ones). */
    byte[] compute(byte[] d, int off, int len) {
        return switch (this) {
            case CRC32C -> {
                CRC32C c = new CRC32C();
                c.update(d, off, len);
                int v = (int) c.getValue();
                yield new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
            }
            case XXHASH -> {
                long v = Hashes.xxh64(d, off, len, 0);
                byte[] b = new byte[8];
                for (int i = 0; i < 8; i++) {
                    b[i] = (byte) (v >>> (8 * i));
                }
                yield b;
            }
            case SHA256 -> {
                try {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    md.update(d, off, len);
                    yield md.digest();
                } catch (NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
            }
            case BLAKE2 -> Hashes.blake2b(d, off, len, 32);
        };
    }

    /** True when the block's first {@link #size()} bytes hold the checksum of everything after byte 0x20. */
    boolean verify(byte[] block, int len) {
        byte[] want = compute(block, 0x20, len - 0x20);
        return java.util.Arrays.equals(block, 0, size, want, 0, size);
    }
}
