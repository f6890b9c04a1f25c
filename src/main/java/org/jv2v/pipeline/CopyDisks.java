package org.jv2v.pipeline;

import org.jv2v.fs.ByteRange;
import org.jv2v.image.PathGuard;
import org.jv2v.source.Sources;
import org.jv2v.target.Target;
import org.jv2v.target.TargetVm;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Stage 4: copy each disk through the disk engine (or say plainly that nothing was copied). Where
 * the disks were opened for inspection, the engine copies their overlays (the conversion's writes
 * on top of the read-only source); otherwise (an OVA's compressed disk) the source itself.
 */
final class CopyDisks {
    private static final double MIB = 1024.0 * 1024.0;

    private CopyDisks() {}

    static void run(ConversionRequest r, Target target, TargetVm t, DiskTransfer transfer,
                    List<List<ByteRange>> unused, Optional<InspectGuest.Inspected> inspected, String changes,
                    StageLog log) throws IOException {
        if (!target.writesDisks()) {
            return;
        }
        if (!r.target().copyDisks()) {
            if (!t.disks().isEmpty()) {
                log.warn("--no-copy: no disk was copied; the metadata names "
                        + t.disks().stream().map(d -> d.file().toString()).toList() + ", which do not exist");
            }
            return;
        }
        int n = t.disks().size();
        PathGuard guard = Sources.guard(r.input(), r.inputs(), r.source());
        for (TargetVm.TargetDisk d : t.disks()) {
            log.stage("Copying disk " + (d.id() + 1) + "/" + n);
            List<ByteRange> skip = d.source().id() < unused.size() ? unused.get(d.source().id()) : List.of();
            DiskTransfer.Progress progress = new DiskTransfer.Progress() {
                @Override
                public void update(long done, long total) {
                }

                @Override
                public void finished(long size, long read, long written, long unusedBytes, long zero) {
                    log.detail(String.format(Locale.ROOT, "%.1f MiB read, %.1f MiB written of %.1f MiB "
                            + "(%.1f MiB of stale data in unused areas, not read; %.1f MiB blank, not written)", read / MIB, written / MIB,
                            size / MIB, unusedBytes / MIB, zero / MIB));
                }
            };
            if (inspected.isPresent()) {
                // the overlay's merged view: the source as the conversion left it
                InspectGuest.Inspected in = inspected.get();
                int id = d.source().id();
                ConvertedDisk c = new ConvertedDisk(d.source(), in.disks().images().get(id), in.overlays().get(id),
                        changes);
                transfer.copy(c, d, r.target().preallocated(), skip, progress);
            } else {
                transfer.copy(d.source(), guard, d, r.target().preallocated(), skip, progress);
            }
        }
    }
}
