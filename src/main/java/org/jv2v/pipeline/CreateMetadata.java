package org.jv2v.pipeline;

import org.jv2v.model.SourceVm;
import org.jv2v.target.Target;
import org.jv2v.target.TargetVm;

import java.io.IOException;
import java.nio.file.Path;

/** Stage 5: write the target's description (libvirt XML, QEMU script, JSON). */
final class CreateMetadata {
    private CreateMetadata() {}

    static void run(Target target, SourceVm vm, TargetVm t, StageLog log) throws IOException {
        log.stage("Creating output metadata");
        target.writeMetadata(vm, t);
        for (Path p : target.metadataFiles(t)) {
            log.detail("wrote " + p);
        }
    }
}
