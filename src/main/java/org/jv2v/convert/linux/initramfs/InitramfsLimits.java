package org.jv2v.convert.linux.initramfs;

/**
 * Caps on what an initramfs may make jv2v hold in memory, checked while reading (a header's claim
 * is never trusted). Real images: 10 to 100 MiB on disk, 30 to 400 MiB unpacked, some thousands
 * of entries.
 *
 * @param maxImageBytes    the image file itself
 * @param maxUnpackedBytes everything its compressed parts unpack to, together; Java arrays stop
 *                         short of 2 GiB, so that is the ceiling whatever is asked
 * @param maxEntries       cpio entries in all archives together
 */
public record InitramfsLimits(long maxImageBytes, long maxUnpackedBytes, int maxEntries) {
    /**
     * 512 MiB unpacked: above the largest distribution images (a "no-hostonly" dracut image is some
     * 300 MiB), and an edit holds about three copies of it, which must fit jv2v's 1 GiB heap.
     */
    public static final InitramfsLimits DEFAULT = new InitramfsLimits(512L << 20, 512L << 20, 1 << 20);

    public InitramfsLimits {
        if (maxImageBytes <= 0 || maxUnpackedBytes <= 0 || maxEntries <= 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }
}
