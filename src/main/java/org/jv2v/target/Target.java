package org.jv2v.target;

import org.jv2v.Jv2vException;
import org.jv2v.model.SourceVm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;

/** An output mode ({@code -o}): where the converted guest goes and what describes it. */
public sealed interface Target permits Target.FileOutput, Target.Null {

    /** "-o local -os /dir", for the stage line. */
    String describe();

    /** Checks the options and the output folder; writes nothing. */
    void initialize();

    /** Whether this target receives copies of the disks. */
    boolean writesDisks();

    /** The metadata files {@link #writeMetadata} will write. */
    List<Path> metadataFiles(TargetVm t);

    void writeMetadata(SourceVm source, TargetVm t) throws IOException;

    static Target of(TargetOptions o) {
        return switch (o.mode()) {
            case LOCAL -> new FileOutput(o, ".xml", false, (source, t) -> LibvirtXml.write(t));
            case QEMU -> new FileOutput(o, ".sh", true, (source, t) -> QemuScript.write(t));
            case JSON -> new FileOutput(o, ".json", false, JsonOutput::write);
            case NULL -> new Null(o);
        };
    }

    /** The -os folder: it must exist (jv2v does not create it, so a typo does not scatter files). */
    private static Path storage(TargetOptions o) {
        Path d = o.storage().orElseThrow(() -> new Jv2vException("-o " + o.mode().label()
                + ": output folder was not given: use -os FOLDER"));
        if (!Files.isDirectory(d)) {
            throw new Jv2vException("-os " + d + ": output folder does not exist or is not a folder");
        }
        if (!Files.isWritable(d)) {
            throw new Jv2vException("-os " + d + ": output folder is not writable");
        }
        return d.toAbsolutePath().normalize();
    }

    /** Writes via a temporary file and a rename, so a crash never leaves half a file under the real name. */
    private static void writeAtomically(Path file, String content, boolean executable) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content);
        if (executable) {
            Files.setPosixFilePermissions(tmp, Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                    PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_READ,
                    PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
                    PosixFilePermission.OTHERS_EXECUTE));
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void checkFormat(TargetOptions o) {
        if (!o.format().equals("raw") && !o.format().equals("qcow2")) {
            throw new Jv2vException("-of " + o.format() + ": output format must be raw or qcow2");
        }
    }

    /** What a file-writing output mode writes beside the disks. */
    @FunctionalInterface
    interface MetadataWriter {
        String write(SourceVm source, TargetVm t);
    }

    /**
     * {@code -o local} (disks and a libvirt domain XML), {@code -o qemu} (disks and a script that
     * starts QEMU) and {@code -o json} (disks and a JSON description): they differ only in the one
     * metadata file they write.
     */
    final class FileOutput implements Target {
        private final TargetOptions o;
        private final String extension;
        private final boolean executable;
        private final MetadataWriter writer;

        FileOutput(TargetOptions o, String extension, boolean executable, MetadataWriter writer) {
            this.o = o;
            this.extension = extension;
            this.executable = executable;
            this.writer = writer;
        }

        @Override
        public String describe() {
            return "-o " + o.mode().label() + " -os " + o.storage().map(Path::toString).orElse("?");
        }

        @Override
        public void initialize() {
            storage(o);
            checkFormat(o);
        }

        @Override
        public boolean writesDisks() {
            return true;
        }

        @Override
        public List<Path> metadataFiles(TargetVm t) {
            return List.of(storage(o).resolve(TargetPlanner.fileSafe(t.name()) + extension));
        }

        @Override
        public void writeMetadata(SourceVm source, TargetVm t) throws IOException {
            writeAtomically(metadataFiles(t).get(0), writer.write(source, t), executable);
        }
    }

    /** {@code -o null}: nothing is written. */
    final class Null implements Target {
        private final TargetOptions o;

        Null(TargetOptions o) {
            this.o = o;
        }

        @Override
        public String describe() {
            return "-o null";
        }

        @Override
        public void initialize() {
            checkFormat(o);
        }

        @Override
        public boolean writesDisks() {
            return false;
        }

        @Override
        public List<Path> metadataFiles(TargetVm t) {
            return List.of();
        }

        @Override
        public void writeMetadata(SourceVm source, TargetVm t) {
            // nothing, by design
        }
    }
}
