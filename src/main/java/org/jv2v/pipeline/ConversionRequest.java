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
 * @param planOnly        {@code --plan}: print what the conversion would change, per file, and stop
 *                        (nothing is written, nothing copied)
 * @param noConvert       {@code --no-convert}: copy the guest as it is, without converting it
 */
public record ConversionRequest(InputMode input, List<Path> inputs, SourceOptions source, TargetOptions target,
                                GuestCapabilities capabilities, boolean printSource, boolean machineReadable,
                                boolean planOnly, boolean noConvert) {
    public ConversionRequest {
        inputs = List.copyOf(inputs);
    }

    /** The same run, with what the guest can drive as the conversion established it. */
    public ConversionRequest withCapabilities(GuestCapabilities c) {
        return new ConversionRequest(input, inputs, source, target, c, printSource, machineReadable, planOnly,
                noConvert);
    }

    /** A run that converts and copies (no {@code --plan}). */
    public ConversionRequest(InputMode input, List<Path> inputs, SourceOptions source, TargetOptions target,
                             GuestCapabilities capabilities, boolean printSource, boolean machineReadable) {
        this(input, inputs, source, target, capabilities, printSource, machineReadable, false, false);
    }
}
