package org.jv2v.image;

/**
 * How to create a target image.
 *
 * @param virtualSize   the disk's size in bytes
 * @param preallocation how much to allocate up front
 * @param compress      compress data where the format can (qcow2 compressed clusters)
 */
public record CreateOptions(long virtualSize, Preallocation preallocation, boolean compress) {
    public CreateOptions {
        if (virtualSize < 0) {
            throw new IllegalArgumentException("negative virtual size " + virtualSize);
        }
    }

    public static CreateOptions sparse(long virtualSize) {
        return new CreateOptions(virtualSize, Preallocation.OFF, false);
    }
}
