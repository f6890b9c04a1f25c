package org.jv2v.model;

import java.nio.file.Path;

/** Where a source disk's bytes are. */
public sealed interface DiskLocation {

    /** A file (or the first file of a multi-file image, e.g. a VMDK descriptor). */
    record LocalFile(Path path) implements DiskLocation {}

    /**
     * A member of an uncompressed tar archive (an OVA): {@code size} bytes at {@code offset}.
     *
     * @param compression how the member itself is compressed ("none" or "gzip", for {@code disk.vmdk.gz})
     */
    record ArchiveMember(Path archive, String member, long offset, long size, String compression)
            implements DiskLocation {}

    /** A short description for messages. */
    default String describe() {
        return switch (this) {
            case LocalFile f -> f.path().toString();
            case ArchiveMember m -> m.archive() + "!" + m.member();
        };
    }
}
