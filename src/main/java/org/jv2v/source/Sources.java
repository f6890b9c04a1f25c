package org.jv2v.source;

import org.jv2v.Jv2vException;
import org.jv2v.model.SourceVm;
import org.jv2v.source.disk.DiskSource;
import org.jv2v.source.libvirtxml.LibvirtXmlSource;
import org.jv2v.source.ova.OvaSource;
import org.jv2v.source.vmx.VmxSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** Opens the source named by {@code -i} and the arguments. */
public final class Sources {
    private Sources() {}

    public static SourceVm open(InputMode mode, List<Path> args, SourceOptions options, Consumer<String> warn)
            throws IOException {
        if (args.isEmpty()) {
            throw new Jv2vException("-i " + mode.label() + ": expecting " + (mode == InputMode.DISK
                    ? "a disk image" : mode == InputMode.OVA ? "an OVA file or folder" : "a file") + " on the command line");
        }
        if (mode != InputMode.DISK && args.size() > 1) {
            throw new Jv2vException("-i " + mode.label() + ": expecting one " + (mode == InputMode.OVA
                    ? "OVA" : "file") + " on the command line, got " + args.size());
        }
        return switch (mode) {
            case VMX -> VmxSource.read(args.get(0), options, warn);
            case OVA -> OvaSource.read(args.get(0), options, warn);
            case DISK -> DiskSource.read(args, warn);
            case LIBVIRTXML -> LibvirtXmlSource.read(args.get(0), options, warn);
        };
    }
}
