package org.jv2v.target;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The output side of the command line.
 *
 * @param mode        {@code -o}
 * @param storage     {@code -os}: the output folder (not used by {@code -o null})
 * @param name        {@code -on}: the target's name, else the source's
 * @param format      {@code -of}: "raw" or "qcow2"
 * @param preallocated {@code -oa preallocated}
 * @param blockDriver {@code --block-driver}: "virtio-blk" or "virtio-scsi"
 * @param networks    {@code -n}, {@code -b}, {@code --mac}
 * @param copyDisks   false with {@code --no-copy}: write the metadata only
 */
public record TargetOptions(OutputMode mode, Optional<Path> storage, Optional<String> name, String format,
                            boolean preallocated, String blockDriver, NetworkMap networks, boolean copyDisks) {

    public static TargetOptions defaults(OutputMode mode, Path storage) {
        return new TargetOptions(mode, Optional.of(storage), Optional.empty(), "raw", false, "virtio-blk",
                NetworkMap.empty(), true);
    }

    public TargetOptions withCopyDisks(boolean copy) {
        return new TargetOptions(mode, storage, name, format, preallocated, blockDriver, networks, copy);
    }

    public TargetOptions withName(String n) {
        return new TargetOptions(mode, storage, Optional.of(n), format, preallocated, blockDriver, networks, copyDisks);
    }

    public TargetOptions withBlockDriver(String d) {
        return new TargetOptions(mode, storage, name, format, preallocated, d, networks, copyDisks);
    }

    public TargetOptions withNetworks(NetworkMap n) {
        return new TargetOptions(mode, storage, name, format, preallocated, blockDriver, n, copyDisks);
    }

    public TargetOptions withFormat(String f) {
        return new TargetOptions(mode, storage, name, f, preallocated, blockDriver, networks, copyDisks);
    }
}
