package org.jv2v.registry;

import java.nio.file.Files;
import java.nio.file.Path;

/** Writes the minimal hive of {@link EmptyHive} to a file (for bench/ntfs-registry-read.sh). */
public final class EmptyHiveTool {
    private EmptyHiveTool() {}

    public static void main(String[] args) throws Exception {
        Files.write(Path.of(args[0]), EmptyHive.bytes());
    }
}
