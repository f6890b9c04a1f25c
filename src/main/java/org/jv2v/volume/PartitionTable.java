package org.jv2v.volume;

import java.util.List;

/**
 * A disk's partition table.
 *
 * @param scheme     "mbr" or "gpt"
 * @param diskId     MBR: the disk signature as 8 hex digits; GPT: the disk GUID
 * @param partitions in table order (MBR: primaries, then logicals in chain order)
 * @param warnings   things that were repaired or ignored (e.g. "primary GPT header is corrupt: using
 *                   the backup"), for the inspector to show
 */
public record PartitionTable(String scheme, String diskId, List<Partition> partitions, List<String> warnings) {
    public PartitionTable {
        partitions = List.copyOf(partitions);
        warnings = List.copyOf(warnings);
    }
}
