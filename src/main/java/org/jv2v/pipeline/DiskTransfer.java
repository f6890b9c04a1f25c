package org.jv2v.pipeline;

import org.jv2v.image.PathGuard;
import org.jv2v.model.SourceDisk;
import org.jv2v.target.TargetVm.TargetDisk;

import java.io.IOException;
import java.util.ServiceLoader;

/**
 * The pipeline's door to the disk engine: copy one source disk (read-only, whatever its format
 * and location) into one target image ({@link TargetDisk#file()} in {@link TargetDisk#format()}).
 *
 * <p>The engine (org.jv2v.copy) provides an implementation through {@link ServiceLoader}:
 * a class implementing this interface, named in
 * {@code META-INF/services/org.jv2v.pipeline.DiskTransfer}. Without one, {@link #installed()} is
 * {@link #NOT_WIRED} and the pipeline refuses to start a conversion that would need copying.
 */
public interface DiskTransfer {

    /** Reports bytes done out of the total, for the progress bar. */
    interface Progress {
        void update(long done, long total);

        /**
         * Called once when a copy is complete: the disk's size, the bytes read from the source and
         * written to the target, the bytes neither read nor written because no filesystem uses them
         * ({@code unused}), and the bytes not written because they are zeros ({@code zero}).
         */
        default void finished(long size, long read, long written, long unused, long zero) {}
    }

    /** False for {@link #NOT_WIRED}: this build cannot copy disks. */
    boolean available();

    /**
     * Copies {@code source} into {@code target.file()} (created or truncated), in
     * {@code target.format()}, preallocated if asked. Must leave the source untouched. The source is
     * {@link org.jv2v.model.DiskLocation.LocalFile} (any image format; a VMDK's descriptor) or
     * {@link org.jv2v.model.DiskLocation.ArchiveMember} (a disk inside an OVA tar, at an offset,
     * possibly gzip-compressed). {@code guard} holds the folders its descriptors may name (for
     * {@code OpenContext.of(guard)}).
     */
    void copy(SourceDisk source, PathGuard guard, TargetDisk target, boolean preallocated, Progress progress)
            throws IOException;

    /**
     * As {@link #copy(SourceDisk, PathGuard, TargetDisk, boolean, Progress)}, told which byte ranges
     * of the source no filesystem uses ({@code unused}: sorted, disjoint, from inspection): they need
     * not be read and may be written as zeros. An engine that cannot skip copies everything.
     */
    default void copy(SourceDisk source, PathGuard guard, TargetDisk target, boolean preallocated,
                      java.util.List<org.jv2v.fs.ByteRange> unused, Progress progress) throws IOException {
        copy(source, guard, target, preallocated, progress);
    }

    /**
     * Copies a disk as the conversion left it: reads {@code disk.device()} (the overlay), never the
     * source files themselves; the rest as {@link #copy(SourceDisk, PathGuard, TargetDisk, boolean,
     * java.util.List, Progress)}. Engines that cannot copy from an open device refuse.
     */
    default void copy(ConvertedDisk disk, TargetDisk target, boolean preallocated,
                      java.util.List<org.jv2v.fs.ByteRange> unused, Progress progress) throws IOException {
        throw new UnsupportedOperationException(getClass().getName() + " cannot copy a converted disk");
    }

    DiskTransfer NOT_WIRED = new DiskTransfer() {
        @Override
        public boolean available() {
            return false;
        }

        @Override
        public void copy(SourceDisk source, PathGuard guard, TargetDisk target, boolean preallocated,
                         Progress progress) {
            throw new IllegalStateException("disk copying is not wired into this build");
        }
    };

    /** The engine on the class path, or {@link #NOT_WIRED}. */
    static DiskTransfer installed() {
        return ServiceLoader.load(DiskTransfer.class).findFirst().orElse(NOT_WIRED);
    }
}
