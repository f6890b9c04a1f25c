package org.jv2v.pipeline;

import org.jv2v.model.SourceVm;
import org.jv2v.source.PrintSource;

/** {@code --print-source}: show the source as read, then stop. */
final class PrintSourceStage {
    private PrintSourceStage() {}

    static void run(ConversionRequest r, SourceVm vm, StageLog log) {
        if (r.machineReadable()) {
            log.out().print(PrintSource.json(vm));
        } else {
            log.out().println(PrintSource.HEADER);
            log.out().println();
            log.out().println(PrintSource.text(vm));
        }
        log.out().flush();
    }
}
