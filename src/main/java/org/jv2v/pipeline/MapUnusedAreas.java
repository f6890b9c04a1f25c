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
            List<List<ByteRange>> out = new java.util.ArrayList<>();
            for (int i = 0; i < maps.size(); i++) {
                List<ByteRange> u = maps.get(i).unused();
                // whatever the conversion wrote is copied, whatever the map (made from the filesystems
                // as inspection opened them) says of it
                out.add(i < in.get().overlays().size() ? minus(u, in.get().overlays().get(i).changedExtents()) : u);
            }
            return out;
        } catch (IOException | RuntimeException e) {
            log.warn("cannot map the unused areas (" + e.getMessage() + "): every byte of every disk will be copied");
            return java.util.Collections.nCopies(diskCount, List.of());
        }
    }

    /** {@code ranges} without anything in {@code cut} (both sorted and disjoint). */
    static List<ByteRange> minus(List<ByteRange> ranges, List<org.jv2v.image.Extent> cut) {
        List<ByteRange> out = new java.util.ArrayList<>();
        int j = 0;
        for (ByteRange r : ranges) {
            long pos = r.offset();
            long end = r.offset() + r.length();
            while (j < cut.size() && cut.get(j).end() <= pos) {
                j++;
            }
            int k = j;
            while (pos < end && k < cut.size() && cut.get(k).offset() < end) {
                org.jv2v.image.Extent c = cut.get(k);
                if (c.offset() > pos) {
                    out.add(new ByteRange(pos, c.offset() - pos));
                }
                pos = Math.max(pos, c.end());
                k++;
            }
            if (pos < end) {
                out.add(new ByteRange(pos, end - pos));
            }
        }
        return out;
    }
}
