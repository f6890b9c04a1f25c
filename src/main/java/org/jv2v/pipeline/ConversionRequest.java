package org.jv2v.pipeline;

import org.jv2v.source.InputMode;
import org.jv2v.source.SourceOptions;
import org.jv2v.target.GuestCapabilities;
import org.jv2v.target.TargetOptions;

import java.nio.file.Path;
import java.util.List;

/**
 * One run, as the command line asked for it.
 *
 * @param input           {@code -i}
 * @param inputs          the files after the options
 * @param source          input-side options
 * @param target          output-side options ({@code -o} may be absent only with {@code --print-source})
 * @param capabilities    what the guest can drive (from {@code --virtio}, later from conversion)
 * @param printSource     {@code --print-source}
 * @param machineReadable {@code --machine-readable}
 */
public record ConversionRequest(InputMode input, List<Path> inputs, SourceOptions source, TargetOptions target,
                                GuestCapabilities capabilities, boolean printSource, boolean machineReadable) {
    public ConversionRequest {
        inputs = List.copyOf(inputs);
    }
}
