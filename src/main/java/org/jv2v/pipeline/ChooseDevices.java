package org.jv2v.pipeline;

import org.jv2v.model.SourceVm;
import org.jv2v.target.TargetPlanner;
import org.jv2v.target.TargetVm;

/** Stage 3: decide the target devices; every choice is printed, the doubtful ones as warnings. */
final class ChooseDevices {
    private ChooseDevices() {}

    static TargetVm run(ConversionRequest r, SourceVm vm, StageLog log) {
        log.stage("Choosing the target devices");
        TargetVm t = TargetPlanner.plan(vm, r.target(), r.capabilities());
        for (TargetVm.Decision d : t.decisions()) {
            if (d.warning()) {
                log.warn(d.describe());
            } else {
                log.detail(d.describe());
            }
        }
        return t;
    }
}
