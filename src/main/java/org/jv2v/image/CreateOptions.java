package org.jv2v.image;

/**
 * How to create a target image.
 *
 * @param virtualSize   the disk's size in bytes
 * @param preallocation how much to allocate up front
 * @param compress      compress data where the format can (qcow2 compressed clusters)
 * @param durable       true: {@code flush()} and {@code close()} make the image durable (fsync) and
 *                      metadata updates are ordered by fsyncs, so a host crash leaves a consistent
 *                      image; false: no fsync at all, as qemu-img's default {@code cache=unsafe} --
 *                      a killed process loses nothing (the data is in the page cache), a host crash may
 */
public record CreateOptions(long virtualSize, Preallocation preallocation, boolean compress, boolean durable) {
    public CreateOptions {
        if (virtualSize < 0) {
            throw new IllegalArgumentException("negative virtual size " + virtualSize);
        }
    }

    /** A durable image. */
    public CreateOptions(long virtualSize, Preallocation preallocation, boolean compress) {
        this(virtualSize, preallocation, compress, true);
    }

    public static CreateOptions sparse(long virtualSize) {
        return new CreateOptions(virtualSize, Preallocation.OFF, false);
    }
}
