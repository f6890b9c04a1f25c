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
 * the disks, write the metadata. Conversion (driver injection) will slot in after the free-space
 * check, and will supply the guest's capabilities.
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
            TargetVm t = ChooseDevices.run(r, vm, log);
            List<List<ByteRange>> unused = target.writesDisks() && r.target().copyDisks()
                    ? MapUnusedAreas.run(inspected, vm.disks().size(), log) : List.of();
            CopyDisks.run(r, target, t, transfer, unused, log);
            CreateMetadata.run(target, vm, t, log);
        } finally {
            if (inspected.isPresent()) {
                inspected.get().close();
            }
        }
        log.stage("Finishing off");
    }
}
