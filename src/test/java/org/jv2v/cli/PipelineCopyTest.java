package org.jv2v.cli;

import org.jv2v.image.PathGuard;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.SourceDisk;
import org.jv2v.pipeline.DiskTransfer;
import org.jv2v.target.TargetVm.TargetDisk;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The copy stage's wiring, with the simplest real transfer there is (a raw image copied byte for
 * byte, as the disk engine will do for raw to raw): every disk is handed over once, with the target
 * file, format and the source's allowed folders, before the metadata is written.
 */
class PipelineCopyTest {
    @TempDir
    Path dir;

    /** Copies raw images only; refuses anything else, so the test cannot pass by accident. */
    static final class RawFileCopy implements DiskTransfer {
        final List<String> calls = new ArrayList<>();

        @Override
        public boolean available() {
            return true;
        }

        @Override
        public void copy(SourceDisk source, PathGuard guard, TargetDisk target, boolean preallocated, Progress progress)
                throws IOException {
            Path from = ((DiskLocation.LocalFile) source.location()).path();
            guard.check(from, () -> "outside");
            if (!source.format().orElse("").equals("raw") || !target.format().equals("raw")) {
                throw new IOException("this test transfer copies raw to raw only");
            }
            Files.copy(from, target.file(), StandardCopyOption.REPLACE_EXISTING);
            progress.update(Files.size(from), Files.size(from));
            calls.add(source.id() + " " + from.getFileName() + " -> " + target.file().getFileName());
        }

        /** A disk the pipeline opened (under its overlay): its bytes, read through the overlay. */
        @Override
        public void copy(org.jv2v.pipeline.ConvertedDisk disk, TargetDisk target, boolean preallocated,
                         List<org.jv2v.fs.ByteRange> unused, Progress progress) throws IOException {
            if (!disk.source().format().orElse("").equals("raw") || !target.format().equals("raw")) {
                throw new IOException("this test transfer copies raw to raw only");
            }
            java.nio.ByteBuffer all = java.nio.ByteBuffer.allocate((int) disk.device().size());
            disk.device().read(all, 0);
            Files.write(target.file(), all.array());
            progress.update(all.capacity(), all.capacity());
            Path from = ((DiskLocation.LocalFile) disk.source().location()).path();
            calls.add(disk.source().id() + " " + from.getFileName() + " -> " + target.file().getFileName());
        }
    }

    @Test
    void eachDiskIsCopiedThenTheMetadataWritten() throws Exception {
        Tools.require("qemu-img", "virt-xml-validate");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path out = Files.createDirectories(dir.resolve("out"));
        Path a = src.resolve("web.img");
        Path b = src.resolve("data.img");
        Tools.run("qemu-img", "create", "-q", "-f", "raw", a.toString(), "1M");
        Tools.run("qemu-img", "create", "-q", "-f", "raw", b.toString(), "2M");
        Files.write(a, "boot sector".getBytes(StandardCharsets.US_ASCII), java.nio.file.StandardOpenOption.WRITE);
        RawFileCopy transfer = new RawFileCopy();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8),
                transfer, "-i", "disk", a.toString(), b.toString(), "-o", "local", "-os", out.toString());
        String stdout = o.toString(StandardCharsets.UTF_8);
        assertThat(code).as(stdout + e).isZero();
        assertThat(transfer.calls).containsExactly("0 web.img -> web-sda", "1 data.img -> web-sdb");
        assertThat(stdout).contains("Copying disk 1/2", "Copying disk 2/2");
        assertThat(stdout.indexOf("Copying disk 2/2")).isLessThan(stdout.indexOf("Creating output metadata"));
        Tools.run("qemu-img", "compare", "-f", "raw", "-F", "raw", a.toString(), out.resolve("web-sda").toString());
        Tools.run("qemu-img", "compare", "-f", "raw", "-F", "raw", b.toString(), out.resolve("web-sdb").toString());
        Tools.run("virt-xml-validate", out.resolve("web.xml").toString(), "domain");
        assertThat(Files.readString(out.resolve("web.xml"))).contains("<source file='" + out.resolve("web-sda") + "'/>");
    }
}
