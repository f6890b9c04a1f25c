package org.jv2v.target;

import org.jv2v.model.SourceVm;
import org.jv2v.source.vmx.VmxSource;
import org.jv2v.testing.Corpus;
import org.jv2v.testing.LibvirtCorpusGuests;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The targets jv2v writes for the 82 readable guests of libvirt's corpus, each with the devices the
 * guest already drives, and every third also with virtio (alternating virtio-blk and virtio-scsi,
 * raw and qcow2): every libvirt
 * XML passes {@code virt-xml-validate FILE domain}, and every QEMU script starts QEMU (TCG,
 * paused with {@code -S}, no display; guests above 8 GiB get -m 1G appended to fit the host) and quits cleanly through the monitor.
 */
class CorpusTargetsTest {
    /** QEMU starts paused in well under a second; anything near this is a hang. */
    private static final long QEMU_TIMEOUT_SECONDS = 30;
    private static final int PARALLEL = 3;
    /** Guests above this get "-m 1G" appended, so three paused QEMUs fit in a small CI machine. */
    private static final long MAX_TEST_MEMORY = 8L << 30;

    @TempDir
    static Path work;
    static List<Variant> variants;

    record Variant(String label, SourceVm source, TargetVm target, Path dir) {}

    @BeforeAll
    static void plan() throws Exception {
        Tools.require("qemu-img");
        Path corpus = Corpus.require("libvirt-vmx2xml");
        Path template = LibvirtCorpusGuests.templateVmdk(work);
        variants = new ArrayList<>();
        int i = 0;
        for (LibvirtCorpusGuests.Guest g : LibvirtCorpusGuests.prepare(corpus, work.resolve("corpus"), template)) {
            if (g.mustFail()) {
                continue;
            }
            SourceVm vm = VmxSource.read(g.vmx(), g.datastores(), w -> { });
            // every guest with the devices it already drives; every third one also with virtio
            // (virtio devices do not depend on the guest, so a third covers them at a third of the time)
            for (int v = 0; v < (i % 3 == 0 ? 2 : 1); v++) {
                String label = g.name() + (v == 0 ? "-native" : i % 2 == 0 ? "-virtio-blk" : "-virtio-scsi");
                Path out = Files.createDirectories(work.resolve("out").resolve(label));
                TargetOptions opts = TargetOptions.defaults(OutputMode.LOCAL, out)
                        .withBlockDriver(i % 2 == 0 ? "virtio-blk" : "virtio-scsi")
                        .withFormat(v == 1 && i % 2 == 1 ? "qcow2" : "raw");
                GuestCapabilities caps = v == 0 ? GuestCapabilities.unknown() : GuestCapabilities.virtio("test");
                variants.add(new Variant(label, vm, TargetPlanner.plan(vm, opts, caps), out));
            }
            i++;
        }
        assertThat(variants).hasSize(82 + 28);
    }

    @Test
    void everyLibvirtXmlPassesVirtXmlValidate() throws Exception {
        Tools.require("virt-xml-validate");
        List<String> failures = parallel(variants, v -> {
            Path xml = v.dir().resolve(TargetPlanner.fileSafe(v.target().name()) + ".xml");
            Files.writeString(xml, LibvirtXml.write(v.target()));
            Run.Result r = Run.run(List.of("virt-xml-validate", xml.toString(), "domain"), null, Map.of(), 60);
            return r.exitCode() == 0 ? null : v.label() + ": " + r.all().strip();
        });
        assertThat(failures).as("virt-xml-validate failures").isEmpty();
        System.out.println("virt-xml-validate: " + variants.size() + "/" + variants.size() + " domain XMLs valid");
    }

    @Test
    void everyQemuScriptStartsQemu() throws Exception {
        Tools.require("qemu-system-x86_64", "qemu-img");
        List<String> failures = parallel(variants, v -> {
            Path script = v.dir().resolve(TargetPlanner.fileSafe(v.target().name()) + ".sh");
            Files.writeString(script, QemuScript.write(v.target()));
            for (TargetVm.TargetDisk d : v.target().disks()) {
                if (d.format().equals("qcow2")) {
                    Run.checked(List.of("qemu-img", "create", "-q", "-f", "qcow2", d.file().toString(), "1M"));
                } else {
                    try (var ch = Files.newByteChannel(d.file(), java.nio.file.StandardOpenOption.CREATE_NEW,
                            java.nio.file.StandardOpenOption.WRITE)) {
                        ch.truncate(0);
                        ch.position((1 << 20) - 1).write(java.nio.ByteBuffer.wrap(new byte[1]));
                    }
                }
            }
            return startPaused(v.label(), script, v.target().memoryBytes());
        });
        assertThat(failures).as("QEMU refused these command lines").isEmpty();
        System.out.println("qemu-system-x86_64 -S: " + variants.size() + "/" + variants.size() + " scripts started and quit");
    }

    /** Runs the script with "-S -display none -monitor stdio", sends "quit"; null when QEMU started. */
    static String startPaused(String label, Path script, long memoryBytes) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("sh", script.toString(), "-S", "-monitor", "stdio"));
        if (memoryBytes > MAX_TEST_MEMORY) {
            // QEMU reserves guest RAM even when paused; this host cannot hold a 32 GiB guest. The
            // script's own -m was still parsed; the last -m wins.
            cmd.addAll(List.of("-m", "1G"));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("JV2V_ACCEL", "tcg");
        pb.environment().put("JV2V_DISPLAY", "none");
        pb.environment().remove("DISPLAY");
        pb.redirectErrorStream(true);
        Path log = Files.createTempFile(work, "qemu", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write("quit\n".getBytes(StandardCharsets.US_ASCII));
        }
        if (!p.waitFor(QEMU_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            return label + ": QEMU did not quit within " + QEMU_TIMEOUT_SECONDS + " s";
        }
        String output = Files.readString(log);
        if (p.exitValue() != 0 || output.contains("qemu-system-x86_64:")) {
            return label + ": exit " + p.exitValue() + ": " + output.strip();
        }
        return null;
    }

    interface Check {
        String run(Variant v) throws Exception;
    }

    /** Runs {@code check} on every variant, a few at a time (the machine has 2 cores); returns the failures. */
    static List<String> parallel(List<Variant> vs, Check check) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);
        try {
            List<Future<String>> futures = new ArrayList<>();
            for (Variant v : vs) {
                futures.add(pool.submit(() -> check.run(v)));
            }
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            for (Future<String> f : futures) {
                String r = f.get();
                if (r != null) {
                    failures.add(r);
                }
            }
            return failures;
        } finally {
            pool.shutdownNow();
        }
    }
}
