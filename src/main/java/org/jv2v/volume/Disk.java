package org.jv2v.volume;

import org.jv2v.image.BlockDevice;

import java.util.Optional;

/** A disk as scanned: its Linux name (/dev/sda) and its partition table, if it has one. */
public record Disk(String name, BlockDevice device, Optional<PartitionTable> table) {}
