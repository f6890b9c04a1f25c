package org.jv2v.fs.xfs;

/**
 * The hash XFS files directory and attribute names under (xfs_da_hashname): each group of four
 * bytes is mixed into a 32-bit value that is rotated left by 28 bits per group, and the one to
 * three bytes left over are mixed in with a rotation of 7 bits per byte.
 */
final class DaHash {
    private DaHash() {}

    static int hash(byte[] name) {
        int h = 0;
        int i = 0;
        int n = name.length;
        for (; n - i >= 4; i += 4) {
            h = (u(name[i]) << 21) ^ (u(name[i + 1]) << 14) ^ (u(name[i + 2]) << 7) ^ u(name[i + 3])
                    ^ Integer.rotateLeft(h, 28);
        }
        return switch (n - i) {
            case 3 -> (u(name[i]) << 14) ^ (u(name[i + 1]) << 7) ^ u(name[i + 2]) ^ Integer.rotateLeft(h, 21);
            case 2 -> (u(name[i]) << 7) ^ u(name[i + 1]) ^ Integer.rotateLeft(h, 14);
            case 1 -> u(name[i]) ^ Integer.rotateLeft(h, 7);
            default -> h;
        };
    }

    private static int u(byte b) {
        return b & 0xff;
    }
}
