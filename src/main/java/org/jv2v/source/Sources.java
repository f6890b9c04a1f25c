package org.jv2v.source;

import org.jv2v.Jv2vException;
import org.jv2v.image.PathGuard;
import org.jv2v.model.SourceVm;
import org.jv2v.source.disk.DiskSource;
import org.jv2v.source.libvirtxml.LibvirtXmlSource;
import org.jv2v.source.ova.OvaSource;
import org.jv2v.source.vmx.VmxSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Opens the source named by {@code -i} and the arguments. */
public final class Sources {
    private Sources() {}

    /**
     * The folders the source's files may be in: what the disk engine must give {@code OpenContext}
     * so that a VMDK descriptor's extents or a backing file cannot point elsewhere.
     */
    public static PathGuard guard(InputMode mode, List<Path> args, SourceOptions options) {
        List<Path> allowed = new ArrayList<>();
        switch (mode) {
            case VMX, LIBVIRTXML -> allowed.add(args.get(0).toAbsolutePath().getParent());
            case OVA -> allowed.add(Files.isDirectory(args.get(0)) ? args.get(0).toAbsolutePath()
                    : args.get(0).toAbsolutePath().getParent());
            case DISK -> args.forEach(a -> allowed.add(a.toAbsolutePath().getParent()));
        }
        if (mode == InputMode.VMX || mode == InputMode.LIBVIRTXML) {
            allowed.addAll(options.datastores().folders());
        }
        allowed.addAll(options.allowDirs());
        return new PathGuard(allowed);
    }

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
