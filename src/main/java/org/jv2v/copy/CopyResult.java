package org.jv2v.copy;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What a copy did.
 *
 * @param target             the finished image (renamed into place)
 * @param virtualSize        the disk's size
 * @param bytesRead          bytes read from the source in this run
 * @param bytesWritten       non-zero bytes written to the target in this run
 * @param zeroBytes          bytes not written because they read as zero (block status or content)
 * @param unusedBytes        bytes not read because no filesystem uses them
 * @param resumedBytes       bytes of the disk an earlier, interrupted run had already copied
 * @param verified           true when {@code --verify} re-read and matched the whole target
 * @param elapsed            wall time of this run
 */
public record CopyResult(Path target, long virtualSize, long bytesRead, long bytesWritten, long zeroBytes,
                         long unusedBytes, long resumedBytes, boolean verified, Duration elapsed) {}
