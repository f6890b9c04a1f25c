package org.jv2v.pipeline;

import org.jv2v.model.SourceVm;
import org.jv2v.source.Sources;

import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Collectors;

/** Stage 1: read the source's metadata into a {@link SourceVm}. */
final class OpenSource {
    private OpenSource() {}

    static SourceVm run(ConversionRequest r, StageLog log) throws IOException {
        log.stage("Opening the source -i " + r.input().label() + " "
                + r.inputs().stream().map(Path::toString).collect(Collectors.joining(" ")));
        SourceVm vm = Sources.open(r.input(), r.inputs(), r.source(), log::warn);
        log.debug("source: " + vm);
        return vm;
    }
}
