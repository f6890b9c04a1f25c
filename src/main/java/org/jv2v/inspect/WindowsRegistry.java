package org.jv2v.inspect;

import org.jv2v.volume.VolumeScan;

import java.util.List;
import java.util.Optional;

/** What the SOFTWARE and SYSTEM hives say (the registry reader is not in this build yet). */
final class WindowsRegistry {
    private WindowsRegistry() {}

    static void read(GuestFiles g, OsData d, VolumeScan scan) {
        d.notes.add("registry: no hive reader in this build: product, version and host name unknown");
    }

    static List<Application> applications(GuestFiles g, OsData d, List<String> notes) {
        return List.of();
    }

    static Optional<WindowsInfo> info(GuestFiles g, OsData d, List<String> notes) {
        return Optional.of(new WindowsInfo(d.windowsSystemRoot, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), List.of(), List.of()));
    }
}
