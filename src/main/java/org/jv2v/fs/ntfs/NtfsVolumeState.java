package org.jv2v.fs.ntfs;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Whether Windows left the volume safe to modify: what ntfs-3g checks before a read-write mount.
 *
 * @param dirty             the volume's dirty flag ($VOLUME_INFORMATION): chkdsk is scheduled
 * @param hibernated        hiberfil.sys holds a hibernated session, as ntfs-3g judges it: the file
 *                          exists and is shorter than 4096 bytes or starts with "hibr"/"HIBR"
 * @param logFileUnclean    $LogFile has an open client and no "volume is clean" flag: Windows did
 *                          not shut down cleanly and the journal was not replayed
 * @param cachedMetadata    $LogFile restart page version 2.0: Windows "fast startup" kept metadata in
 *                          its cache (or power was cut); ntfs-3g refuses to mount
 */
public record NtfsVolumeState(boolean dirty, boolean hibernated, boolean logFileUnclean, boolean cachedMetadata) {

    /** Why a converter must not write to this volume, in words a user can act on; empty when safe. */
    public Optional<String> writeRefusal() {
        List<String> why = new ArrayList<>();
        if (hibernated) {
            why.add("Windows is hibernated (hiberfil.sys)");
        }
        if (cachedMetadata) {
            why.add("Windows fast startup kept the volume's metadata in its cache ($LogFile version 2.0)");
        }
        if (logFileUnclean) {
            why.add("Windows did not shut down cleanly ($LogFile not clean)");
        }
        if (dirty) {
            why.add("the volume is marked dirty (chkdsk scheduled)");
        }
        if (why.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(String.join("; ", why)
                + ": shut Windows down fully (powercfg /h off disables hibernation and fast startup)");
    }
}
