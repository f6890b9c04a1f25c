package org.jv2v.volume;

import org.jv2v.image.BlockDevice;

import java.util.Optional;

/**
 * A place a filesystem may live: a whole unpartitioned disk, a partition, or a logical volume.
 *
 * @param name      the Linux name: /dev/sda, /dev/sda1, /dev/VG/LV
 * @param device    its bytes (a slice of the disk, or a mapped device for a logical volume)
 * @param kind      what it is
 * @param partition the partition entry when {@code kind} is {@link Kind#PARTITION}
 */
public record Volume(String name, BlockDevice device, Kind kind, Optional<Partition> partition) {
    public enum Kind { WHOLE_DISK, PARTITION, LOGICAL_VOLUME }
}
