package org.jv2v.pipeline;

import org.jv2v.Jv2vException;
import org.jv2v.target.Target;

/**
 * Stage 2: check the output side before any work, so a conversion cannot fail after an hour of
 * copying on a typo; and refuse to pretend: without a disk engine, only {@code --no-copy} runs.
 */
final class InitializeTarget {
    private InitializeTarget() {}

    static Target run(ConversionRequest r, DiskTransfer transfer, StageLog log) {
        Target target = Target.of(r.target());
        log.stage("Initializing the target " + target.describe());
        target.initialize();
        if (target.writesDisks() && r.target().copyDisks() && !transfer.available()) {
            throw new Jv2vException("-o " + r.target().mode().label() + ": copying disks is not available in this "
                    + "build yet (the disk engine is not connected); rerun with --no-copy to write only the "
                    + "metadata, which will name disk files that do not exist");
        }
        return target;
    }
}
