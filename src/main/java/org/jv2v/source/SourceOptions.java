package org.jv2v.source;

import java.nio.file.Path;
import java.util.List;

/**
 * Input-side options.
 *
 * @param datastores {@code --datastore NAME=FOLDER}: where VMware datastores (and foreign absolute folders) are
 * @param allowDirs  {@code --allow-dir FOLDER}: further folders source files may be in, besides the
 *                   metadata file's own folder and the mapped datastores
 */
public record SourceOptions(DatastoreMap datastores, List<Path> allowDirs) {
    public SourceOptions {
        allowDirs = allowDirs.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    }

    public static SourceOptions defaults() {
        return new SourceOptions(DatastoreMap.empty(), List.of());
    }
}
