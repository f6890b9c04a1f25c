package org.jv2v.pipeline;

import org.jv2v.inspect.FirmwareInfo;
import org.jv2v.model.Firmware;
import org.jv2v.model.SourceVm;
import org.jv2v.target.TargetPlanner;
import org.jv2v.target.TargetVm;

import java.util.Optional;

/** Stage 3: decide the target devices; every choice is printed, the doubtful ones as warnings. */
final class ChooseDevices {
    private ChooseDevices() {}

    static TargetVm run(ConversionRequest r, SourceVm vm, Optional<InspectGuest.Inspected> inspected, StageLog log) {
        log.stage("Choosing the target devices");
        TargetVm t = TargetPlanner.plan(vm, r.target(), r.capabilities(), inspected.map(ChooseDevices::firmware));
        for (TargetVm.Decision d : t.decisions()) {
            if (d.warning()) {
                log.warn(d.describe());
            } else {
                log.detail(d.describe());
            }
        }
        return t;
    }

    /** The firmware inspection found, with the facts behind it (the conversion goes by it too). */
    static TargetPlanner.DiskFirmware firmware(InspectGuest.Inspected in) {
        FirmwareInfo f = in.inspection().firmware();
        String evidence = f.evidence().isEmpty() ? "no EFI system partition" : String.join("; ", f.evidence());
        return new TargetPlanner.DiskFirmware(f.kind() == FirmwareInfo.Kind.UEFI ? Firmware.UEFI : Firmware.BIOS,
                evidence);
    }
}
