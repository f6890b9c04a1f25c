package org.jv2v.source.disk;

import org.jv2v.BadInputException;
import org.jv2v.model.Cpu;
import org.jv2v.model.Display;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.DiskMode;
import org.jv2v.model.Firmware;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceVm;
import org.jv2v.source.SourceNames;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;

/**
 * {@code -i disk IMAGE...}: bare disk images with virt-v2v's defaults: named after the first file,
 * 2 GiB of memory, one vCPU, firmware left to detection, one NIC on the network "default".
 */
public final class DiskSource {
    /** virt-v2v's default memory for a bare disk. */
    static final long DEFAULT_MEMORY = 2048L * 1024 * 1024;

    private DiskSource() {}

    public static SourceVm read(List<Path> images, Consumer<String> warn) throws IOException {
        SourceVm.Builder b = SourceVm.builder(SourceNames.fromFile(images.get(0)), "unknownhv");
        b.memoryBytes = DEFAULT_MEMORY;
        b.cpu = new Cpu(1, Optional.empty(), Optional.empty(), Optional.empty(), List.of("acpi", "apic", "pae"));
        b.firmware = Firmware.UNKNOWN;
        b.display = Optional.of(new Display("window", Optional.empty(), false, "", Optional.empty()));
        for (int i = 0; i < images.size(); i++) {
            Path p = images.get(i).toAbsolutePath().normalize();
            if (!Files.exists(p)) {
                throw BadInputException.inFile(p, "no such file");
            }
            if (!Files.isRegularFile(p) && !isBlockDevice(p)) {
                throw BadInputException.inFile(p, "not a disk image (not a regular file or block device)");
            }
            b.disks.add(new SourceDisk(i, Optional.empty(), Optional.empty(), DiskMode.PERSISTENT,
                    images.get(i).toString(), new DiskLocation.LocalFile(p), Optional.of(formatHint(p)),
                    OptionalLong.empty()));
        }
        b.nics.add(new SourceNic(0, Optional.empty(), Optional.empty(), SourceNic.MacType.UNKNOWN, Optional.empty(), "default",
                SourceNic.VnetType.NETWORK, SourceNic.Connection.UNSPECIFIED, Optional.empty(), true));
        return b.build();
    }

    private static boolean isBlockDevice(Path p) {
        try {
            return !Files.isDirectory(p) && Files.getAttribute(p, "unix:mode") instanceof Integer m
                    && (m & 0170000) == 0060000;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The image format its header announces (qcow2, vmdk, vhdx, vhd), else raw. Only a hint for
     * the report; the disk engine probes the content again when it opens the image.
     */
    static String formatHint(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(512);
            ch.read(head, 0);
            String h = new String(head.array(), 0, head.position(), StandardCharsets.ISO_8859_1);
            if (h.startsWith("QFI\u00fb")) return "qcow2";
            if (h.startsWith("KDMV") || h.startsWith("COWD") || h.startsWith("# Disk DescriptorFile")) return "vmdk";
            if (h.startsWith("vhdxfile")) return "vhdx";
            if (h.startsWith("conectix")) return "vpc";
            long size = ch.size();
            if (size >= 512) {
                ByteBuffer foot = ByteBuffer.allocate(8);
                ch.read(foot, size - 512);
                if (new String(foot.array(), StandardCharsets.ISO_8859_1).equals("conectix")) return "vpc";
            }
            return "raw";
        }
    }
}
