package org.jv2v.copy;

/**
 * Where a copy stands.
 *
 * @param done         bytes of the disk handled so far (copied, skipped as zero or unused, or
 *                     already done by an earlier run)
 * @param total        the disk's virtual size
 * @param bytesRead    bytes read from the source in this run
 * @param bytesWritten bytes written to the target in this run
 * @param elapsedNanos time since the copy started
 */
public record CopyProgress(long done, long total, long bytesRead, long bytesWritten, long elapsedNanos) {
    /** 0 to 100. */
    public double percent() {
        return total == 0 ? 100.0 : 100.0 * done / total;
    }
}
