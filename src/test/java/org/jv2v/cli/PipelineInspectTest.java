package org.jv2v.cli;

import org.jv2v.fs.ByteRange;
import org.jv2v.image.PathGuard;
import org.jv2v.model.SourceDisk;
import org.jv2v.pipeline.DiskTransfer;
import org.jv2v.target.TargetVm.TargetDisk;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The conversion pipeline's inspection stages on real guests: "Inspecting the overlay" names the
 * OS, "Checking for sufficient free disk space in the guest" passes the Debian guest and stops a
 * guest whose root is nearly full with virt-v2v's message, and the copy stage is handed the map of
 * areas no filesystem uses.
 */
class PipelineInspectTest {
    @TempDir
    Path dir;

    /** Records what the pipeline hands over; copies nothing. */
    static final class RecordingTransfer implements DiskTransfer {
        final List<List<ByteRange>> unused = new ArrayList<>();

        @Override
        public boolean available() {
            return true;
        }

        @Override
        public void copy(SourceDisk source, PathGuard guard, TargetDisk target, boolean preallocated, Progress progress) {
            throw new AssertionError("the pipeline must use the variant that passes the unused areas");
        }

        @Override
        public void copy(SourceDisk source, PathGuard guard, TargetDisk target, boolean preallocated,
                         List<ByteRange> unusedAreas, Progress progress) throws java.io.IOException {
            throw new AssertionError("an inspected guest is copied from its overlay");
        }

        @Override
        public void copy(org.jv2v.pipeline.ConvertedDisk disk, TargetDisk target, boolean preallocated,
                         List<ByteRange> unusedAreas, Progress progress) throws java.io.IOException {
            unused.add(unusedAreas);
            Files.writeString(target.file(), "not copied by this test\n");
        }
    }

    private record Result(int code, String out, String err) {}

    private static Result run(DiskTransfer transfer, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8),
                transfer, args);
        return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    private Path vmdk(Path raw, String name) throws Exception {
        Path v = Files.createDirectories(dir.resolve("src")).resolve(name);
        Tools.run("qemu-img", "convert", "-f", "raw", "-O", "vmdk", raw.toString(), v.toString());
        return v;
    }

    /**
     * The inspector's synthetic Debian guest has no kernel with virtio_pci (its module lists are
     * made up): inspected and checked, its conversion stops the run before anything is copied.
     */
    @Test
    void debianIsInspectedCheckedAndRefusedBeforeCopying() throws Exception {
        Tools.require("qemu-img");
        Path disk = vmdk(org.jv2v.inspect.TestGuests.debian().image(), "deb12.vmdk");
        Path out = Files.createDirectories(dir.resolve("out"));
        RecordingTransfer t = new RecordingTransfer();
        Result r = run(t, "-i", "disk", disk.toString(), "-o", "local", "-os", out.toString());
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.out()).contains("Inspecting the overlay", "/dev/sda4: 12.5 (linux/debian, x86_64)",
                "Checking for sufficient free disk space in the guest", "/boot (/dev/sda1): ",
                "MB free, 100 MB needed", "Converting Debian GNU/Linux 12 (bookworm) to run on KVM");
        assertThat(r.out()).doesNotContain("Copying disk");
        assertThat(r.err()).contains("no kernel in the guest has a virtio disk driver");
        assertThat(t.unused).as("nothing was handed to the copier").isEmpty();
        try (var files = Files.list(out)) {
            assertThat(files.toList()).isEmpty();
        }
    }

    /** Without a conversion (--no-copy is not it: an OS-less disk), the unused areas still reach the copier. */
    @Test
    void unusedAreasOfADiskWithoutAnOsAreHandedToTheCopier() throws Exception {
        Tools.require("qemu-img", "sfdisk", "mkfs.ext4");
        Path tree = Files.createDirectories(dir.resolve("data"));
        Files.writeString(tree.resolve("readme"), "data only\n");
        Path raw = dir.resolve("data.img");
        org.jv2v.inspect.TestGuests.truncate(raw, 64L << 20);
        Run.Result p = Run.run(List.of("sh", "-c", "printf 'label: dos\\nstart=2048, type=83\\n' | sfdisk -q " + raw),
                dir, Map.of(), 60);
        assertThat(p.exitCode()).as(p.all()).isZero();
        Run.Result m = Run.run(List.of("mkfs.ext4", "-q", "-F", "-E", "offset=1048576", "-d", tree.toString(),
                raw.toString(), "63M"), dir, Map.of(), 60);
        assertThat(m.exitCode()).as(m.all()).isZero();
        Path disk = vmdk(raw, "data.vmdk");
        RecordingTransfer t = new RecordingTransfer();
        Result r = run(t, "-i", "disk", disk.toString(), "-o", "local", "-os",
                Files.createDirectories(dir.resolve("out")).toString());
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("Mapping filesystem data to avoid copying unused and blank areas", "/dev/sda: ");
        assertThat(r.out().indexOf("Mapping filesystem data")).isLessThan(r.out().indexOf("Copying disk 1/1"));
        assertThat(t.unused).hasSize(1);
        long skipped = t.unused.getFirst().stream().mapToLong(ByteRange::length).sum();
        assertThat(skipped).isGreaterThan(40L << 20).isLessThan(64L << 20);
        assertThat(t.unused.getFirst().getFirst().offset()).as("the first MiB is always copied")
                .isGreaterThanOrEqualTo(1 << 20);
    }

    @Test
    void aNearlyFullRootStopsTheConversion() throws Exception {
        Tools.require("qemu-img", "sfdisk", "mkfs.ext4");
        Path tree = dir.resolve("tree");
        Files.createDirectories(tree.resolve("etc"));
        Files.createDirectories(tree.resolve("bin"));
        Files.writeString(tree.resolve("etc/fstab"), "/dev/sda1 / ext4 defaults 0 1\n");
        Files.copy(Path.of("/usr/bin/ls"), tree.resolve("bin/ls"));
        byte[] filler = new byte[40 << 20];
        new Random(1).nextBytes(filler);
        Files.write(tree.resolve("filler"), filler);
        Path raw = dir.resolve("full.img");
        org.jv2v.inspect.TestGuests.truncate(raw, 80L << 20);
        Run.Result p = Run.run(List.of("sh", "-c", "printf 'label: dos\\nstart=2048, type=83\\n' | sfdisk -q " + raw),
                dir, Map.of(), 60);
        assertThat(p.exitCode()).as(p.all()).isZero();
        Run.Result m = Run.run(List.of("mkfs.ext4", "-q", "-F", "-E", "offset=1048576", "-d", tree.toString(),
                raw.toString(), "79M"), dir, Map.of(), 60);
        assertThat(m.exitCode()).as(m.all()).isZero();
        Path disk = vmdk(raw, "full.vmdk");
        Result r = run(new RecordingTransfer(), "-i", "disk", disk.toString(), "-o", "local", "-os",
                Files.createDirectories(dir.resolve("out")).toString(), "--no-copy");
        assertThat(r.code()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.err()).containsPattern("jv2v: error: not enough free space for conversion on filesystem '/'.  "
                + "[0-9]+\\.[0-9] MB free < 50 MB needed");
    }

    @Test
    void aGuestThatCannotBeInspectedIsAWarningWhileJv2vDoesNotConvert() throws Exception {
        Tools.require("qemu-img");
        Path blank = Files.createDirectories(dir.resolve("src")).resolve("blank.vmdk");
        Tools.run("qemu-img", "create", "-q", "-f", "vmdk", blank.toString(), "8M");
        RecordingTransfer t = new RecordingTransfer();
        Result r = run(t, "-i", "disk", blank.toString(), "-o", "local", "-os",
                Files.createDirectories(dir.resolve("out")).toString());
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.err()).contains("jv2v: warning: no operating system was found on the guest's disks");
        assertThat(t.unused).hasSize(1);
    }
}
