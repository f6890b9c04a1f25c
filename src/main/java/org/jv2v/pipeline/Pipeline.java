package org.jv2v.pipeline;

import org.jv2v.model.SourceVm;
import org.jv2v.target.Target;
import org.jv2v.target.TargetVm;

import java.io.IOException;

/**
 * One conversion, stage by stage: open the source, (print it and stop,) check the target, choose
 * the devices, copy the disks, write the metadata. Inspection and conversion (driver injection)
 * will slot in between choosing and copying, and will supply the guest's capabilities.
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
        TargetVm t = ChooseDevices.run(r, vm, log);
        CopyDisks.run(r, target, t, transfer, log);
        CreateMetadata.run(target, vm, t, log);
        log.stage("Finishing off");
    }
}
