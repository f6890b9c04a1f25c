package org.jv2v.pipeline;

import org.jv2v.fs.ByteRange;
import org.jv2v.model.SourceVm;
import org.jv2v.target.Target;
import org.jv2v.target.TargetVm;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * One conversion, stage by stage: open the source, (print it and stop,) check the target, inspect
 * the guest and check its free space, choose the devices, map the areas no filesystem uses, copy
 * the disks, write the metadata. The source's disks are opened read-only under copy-on-write
 * overlays: inspection reads them, the conversion (after the free-space check) writes to them and
 * establishes what the guest can drive, and the copy reads their merged view. With {@code --plan}
 * the run stops after printing what the conversion would change: nothing is written or copied.
 */
public final class Pipeline {
    private final DiskTransfer transfer;

    public Pipeline(DiskTransfer transfer) {
        this.transfer = transfer;
    }

    public void run(ConversionRequest r, StageLog log) throws IOException {
        SourceVm vm = OpenSource.run(r, log);
        if (r.printSource()) {
            PrintSourceStage.run(r, vm, log);
            return;
        }
        Target target = InitializeTarget.run(r, transfer, log);
        Optional<InspectGuest.Inspected> inspected = InspectGuest.run(r, vm, log);
        try {
            CheckFreeSpace.run(inspected.flatMap(InspectGuest.Inspected::root), log);
            ConvertGuest.Converted converted = ConvertGuest.run(r, vm, inspected, log);
            if (r.planOnly()) {
                return;
            }
            TargetVm t = ChooseDevices.run(r.withCapabilities(converted.capabilities()), vm, inspected, log);
            List<List<ByteRange>> unused = target.writesDisks() && r.target().copyDisks()
                    ? MapUnusedAreas.run(inspected, vm.disks().size(), log) : List.of();
            CopyDisks.run(r, target, t, transfer, unused, inspected, converted.fingerprint(), log);
            CreateMetadata.run(target, vm, t, log);
        } finally {
            if (inspected.isPresent()) {
                inspected.get().close();
            }
        }
        log.stage("Finishing off");
    }
}
