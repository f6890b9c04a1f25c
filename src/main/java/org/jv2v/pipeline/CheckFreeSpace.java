package org.jv2v.pipeline;

import org.jv2v.Jv2vException;
import org.jv2v.inspect.FreeSpace;
import org.jv2v.inspect.GuestInfo;

import java.util.Optional;

/** "Checking for sufficient free disk space in the guest": virt-v2v's thresholds (see {@link FreeSpace}). */
final class CheckFreeSpace {
    private CheckFreeSpace() {}

    static void run(Optional<GuestInfo> root, StageLog log) {
        if (root.isEmpty()) {
            return;
        }
        log.stage("Checking for sufficient free disk space in the guest");
        for (FreeSpace.Check c : FreeSpace.check(root.get())) {
            log.detail(c.describe());
            if (!c.enough()) {
                throw new Jv2vException(c.problem());
            }
        }
    }
}
