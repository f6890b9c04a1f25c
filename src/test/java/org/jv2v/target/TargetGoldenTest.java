package org.jv2v.target;

import org.jv2v.testing.Corpus;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Golden files for everything {@code -o local}, {@code -o qemu} and {@code -o json} write, through
 * the whole command. Paths are replaced by {@code @OUT@} and {@code @SRC@}. Run with
 * {@code -Djv2v.golden.update=true} to rewrite them after a deliberate change, then review the diff.
 */
class TargetGoldenTest {
    private static final Path GOLDEN = Corpus.projectDir().resolve("src/test/resources/golden");
    private static final Pattern FILE_NAME = Pattern.compile("(?i)^\\S+\\.fileName\\s*=\\s*\"([^\"/]+\\.vmdk)\"",
            Pattern.MULTILINE);

    @TempDir
    Path dir;

    /** The sample guest needs no corpus, so these goldens are checked on every machine. */
    @ParameterizedTest(name = "samples/tiny -o {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"local", "qemu", "json"})
    void sampleGuestMatchesGolden(String mode) throws Exception {
        Path sample = Corpus.projectDir().resolve("samples/tiny");
        Path out = Files.createDirectories(dir.resolve("out"));
        Jv2vRun.Result r = Jv2vRun.ok("-i", "vmx", sample.resolve("tiny.vmx").toString(), "-o", mode, "-os",
                out.toString(), "--no-copy", "-n", "VM Network:default");
        try (var files = Files.list(out)) {
            Path file = files.findFirst().orElseThrow();
            String text = Files.readString(file).replace(out.toString(), "@OUT@").replace(sample.toString(), "@SRC@");
            Path golden = GOLDEN.resolve("tiny-" + mode + "." + file.getFileName().toString().replaceAll(".*\\.", ""));
            if (Boolean.getBoolean("jv2v.golden.update")) {
                Files.createDirectories(GOLDEN);
                Files.writeString(golden, text);
            }
            assertThat(text).as("golden file " + GOLDEN.relativize(golden) + " (stderr: " + r.stderr() + ")")
                    .isEqualTo(Files.readString(golden));
        }
    }

    @ParameterizedTest(name = "{0} -o {1} {2}")
    @CsvSource({
        "test-i-vmx-7, local, native",
        "test-i-vmx-7, qemu, native",
        "test-i-vmx-7, json, native",
        "test-i-vmx-7, local, virtio",
        "test-i-vmx-7, qemu, virtio",
        "test-i-vmx-1, local, native",
        "test-i-vmx-1, qemu, virtio-scsi",
        "test-i-vmx-6, local, native",
        "test-i-vmx-5, qemu, native",
    })
    void outputMatchesGolden(String vmxName, String mode, String variant) throws Exception {
        Tools.require("qemu-img");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path out = Files.createDirectories(dir.resolve("out"));
        Path vmx = src.resolve(vmxName + ".vmx");
        Files.copy(Corpus.require("virt-v2v").resolve(vmx.getFileName()), vmx);
        Matcher m = FILE_NAME.matcher(Files.readString(vmx));
        while (m.find()) {
            if (!Files.exists(src.resolve(m.group(1)))) {
                Tools.run("qemu-img", "create", "-q", "-f", "vmdk", src.resolve(m.group(1)).toString(), "512");
            }
        }
        List<String> args = new ArrayList<>(List.of("-i", "vmx", vmx.toString(), "-o", mode, "-os", out.toString(),
                "--no-copy"));
        switch (variant) {
            case "virtio" -> args.addAll(List.of("--virtio", "yes", "-of", "qcow2", "-n", "VM Network:default"));
            case "virtio-scsi" -> args.addAll(List.of("--virtio", "yes", "--block-driver", "virtio-scsi", "-on", "renamed"));
            default -> { }
        }
        Jv2vRun.Result r = Jv2vRun.ok(args.toArray(String[]::new));
        try (var files = Files.list(out)) {
            List<Path> written = files.toList();
            assertThat(written).as("exactly one metadata file, no disks (--no-copy)").hasSize(1);
            Path file = written.get(0);
            String text = Files.readString(file).replace(out.toString(), "@OUT@").replace(src.toString(), "@SRC@");
            String ext = file.getFileName().toString().replaceAll(".*\\.", "");
            Path golden = GOLDEN.resolve(vmxName + "-" + mode + "-" + variant + "." + ext);
            if (Boolean.getBoolean("jv2v.golden.update")) {
                Files.createDirectories(GOLDEN);
                Files.writeString(golden, text);
            }
            assertThat(text).as("golden file " + GOLDEN.relativize(golden) + " (stderr: " + r.stderr() + ")")
                    .isEqualTo(Files.readString(golden));
            if (ext.equals("sh")) {
                assertThat(file.toFile().canExecute()).isTrue();
            }
            if (ext.equals("xml") && Tools.has("virt-xml-validate")) {
                Run.Result v = Run.run(List.of("virt-xml-validate", file.toString(), "domain"), null, Map.of(), 60);
                assertThat(v.exitCode()).as(v.all()).isZero();
            }
        }
    }
}
