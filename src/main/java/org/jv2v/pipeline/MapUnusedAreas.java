package org.jv2v.pipeline;

import org.jv2v.fs.ByteRange;
import org.jv2v.inspect.UnusedAreas;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * "Mapping filesystem data to avoid copying unused and blank areas": the byte ranges of each disk
 * that no filesystem uses, handed to the copier (virt-v2v runs fstrim for the same effect).
 */
final class MapUnusedAreas {
    private MapUnusedAreas() {}

    /** Per source disk (in order), the ranges that need not be copied; empty lists when not inspected. */
    static List<List<ByteRange>> run(Optional<InspectGuest.Inspected> in, int diskCount, StageLog log) {
        if (in.isEmpty()) {
            return java.util.Collections.nCopies(diskCount, List.of());
        }
        log.stage("Mapping filesystem data to avoid copying unused and blank areas");
        try {
            List<UnusedAreas.DiskMap> maps = UnusedAreas.compute(in.get().inspection());
            for (UnusedAreas.DiskMap m : maps) {
                log.detail(String.format(Locale.ROOT, "%s: %.1f of %.1f MiB used by no filesystem: not copied", m.disk(),
                        m.unusedBytes() / 1048576.0, m.size() / 1048576.0));
            }
            return maps.stream().map(UnusedAreas.DiskMap::unused).toList();
        } catch (IOException | RuntimeException e) {
            log.warn("cannot map the unused areas (" + e.getMessage() + "): every byte of every disk will be copied");
            return java.util.Collections.nCopies(diskCount, List.of());
        }
    }
}
