package org.jv2v.copy;

/**
 * Told how a copy advances: at most about ten times a second, from any one thread at a time, and
 * always once more at the end with {@code done == total}.
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = p -> { };

    void progress(CopyProgress p);
}
