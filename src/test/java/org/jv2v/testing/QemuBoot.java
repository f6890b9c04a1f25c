package org.jv2v.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Boots a disk image under {@code qemu-system-x86_64 -accel tcg} (q35, 1 GiB) with a chosen disk
 * bus, NIC model and firmware, and reports what the serial console showed: the guest's
 * {@value TestGuest#MARKER} line, a failure signature (dracut's emergency shell, a kernel panic) or
 * a timeout. The image is never written: QEMU boots a qcow2 overlay made in the work folder.
 *
 * <pre>{@code
 * TestGuests.Built guest = TestGuests.get(TestGuest.RHEL_LIKE_UEFI);
 * // ... convert guest.vmx() with jv2v into out/ ...
 * BootResult r = QemuBoot.boot(BootSpec.converted(guest, out.resolve("rhel-like-uefi-sda"), "qcow2", tempDir));
 * assertThat(r.ip()).as(r.describe()).isEqualTo(TestGuest.STATIC_IP);
 * }</pre>
 */
public final class QemuBoot {
    public enum Firmware { BIOS, UEFI }

    /** The disk's controller; each boots the disk as the first and only boot device. */
    public enum DiskBus { VIRTIO_BLK, VIRTIO_SCSI, PVSCSI, SATA, LSI_SAS }

    public enum NicModel {
        VIRTIO_NET("virtio-net-pci"), VMXNET3("vmxnet3"), E1000E("e1000e");

        final String device;

        NicModel(String device) {
            this.device = device;
        }
    }

    public enum Outcome {
        /** the marker line appeared */
        MARKER,
        /** a failure signature appeared (see {@link BootResult#failure()}) */
        FAILED,
        /** neither appeared in time */
        TIMEOUT,
        /** QEMU stopped before either appeared */
        EXITED
    }

    /**
     * A TCG boot of the factory guests takes 2-3 minutes on a busy 2-core machine; a slower machine
     * can raise the limit with {@code -Djv2v.boot.timeout.seconds=N}.
     */
    public static final Duration DEFAULT_TIMEOUT =
            Duration.ofSeconds(Long.getLong("jv2v.boot.timeout.seconds", 300));
    public static final Path OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd");
    public static final Path OVMF_VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd");

    /** Console lines that end a boot as failed: the guest will not reach its marker any more. */
    static final List<Pattern> FAILURES = List.of(
            Pattern.compile("Could not boot\\."),
            Pattern.compile("Entering emergency mode"),
            Pattern.compile("You are in emergency mode"),
            Pattern.compile("Cannot open access to console, the root account is locked"),
            Pattern.compile("Kernel panic - not syncing"),
            Pattern.compile("dracut: FATAL"),
            Pattern.compile("Failed to mount /sysroot"),
            // initramfs-tools: the root never appeared (it then drops to its busybox shell)
            Pattern.compile("Gave up waiting for root file system device"),
            // the firmware found nothing to boot: SeaBIOS (on its debug port), OVMF (falls back to its shell)
            Pattern.compile("No bootable device"),
            Pattern.compile("Boot failed: not a bootable disk"),
            Pattern.compile("starting Boot[0-9A-F]{4} \"EFI Internal Shell\""));
    private static final Pattern MARKER_LINE = Pattern.compile(Pattern.quote(TestGuest.MARKER) + "( [^\\r\\n]*)?");

    private QemuBoot() {}

    /**
     * One boot. {@code nicSlot}: the physical slot number of the PCIe root port the NIC sits on,
     * which gives a predictable name ens{slot} (ESXi puts ethernet0 at 192); null puts the NIC on
     * a root port without a slot number as libvirt does (the guest then names it enp1s0 or so).
     */
    public record BootSpec(Path disk, String format, Firmware firmware, DiskBus bus, NicModel nic, String mac,
                           Integer nicSlot, Duration timeout, Path workDir) {
        public BootSpec {
            Objects.requireNonNull(disk);
            Objects.requireNonNull(format);
            Objects.requireNonNull(firmware);
            Objects.requireNonNull(bus);
            Objects.requireNonNull(nic);
            Objects.requireNonNull(timeout);
            Objects.requireNonNull(workDir);
        }

        /**
         * The guest on the hardware it was built for: vmxnet3 in slot 192 and the disk on pvscsi,
         * or on SATA for UEFI guests (see {@link TestGuest#vmwareBus()}).
         */
        public static BootSpec vmwareLike(TestGuests.Built guest, Path workDir) {
            return new BootSpec(guest.vmdk(), "vmdk", guest.guest().firmware(), guest.guest().vmwareBus(),
                    NicModel.VMXNET3,
                    guest.guest().mac(), TestGuest.VMWARE_NIC_SLOT, DEFAULT_TIMEOUT, workDir);
        }

        /**
         * A converted factory guest on KVM's devices: virtio-blk, and virtio-net with the guest's
         * own MAC (a conversion keeps it) on a root port without a slot number, as libvirt places
         * it. Use {@link #withBus} for virtio-scsi.
         */
        public static BootSpec converted(TestGuests.Built guest, Path disk, String format, Path workDir) {
            return new BootSpec(disk, format, guest.guest().firmware(), DiskBus.VIRTIO_BLK, NicModel.VIRTIO_NET,
                    guest.guest().mac(), null, DEFAULT_TIMEOUT, workDir);
        }

        /** Any disk on KVM's devices: virtio-blk and virtio-net, NIC placed as libvirt does. */
        public static BootSpec kvm(Path disk, String format, Firmware firmware, Path workDir) {
            return new BootSpec(disk, format, firmware, DiskBus.VIRTIO_BLK, NicModel.VIRTIO_NET, null, null,
                    DEFAULT_TIMEOUT, workDir);
        }

        public BootSpec withBus(DiskBus b) {
            return new BootSpec(disk, format, firmware, b, nic, mac, nicSlot, timeout, workDir);
        }

        public BootSpec withNic(NicModel n, String m, Integer slot) {
            return new BootSpec(disk, format, firmware, bus, n, m, slot, timeout, workDir);
        }

        public BootSpec withTimeout(Duration t) {
            return new BootSpec(disk, format, firmware, bus, nic, mac, nicSlot, t, workDir);
        }
    }

    /**
     * What one boot showed. {@code marker} holds the marker line's fields (ip, if, links, root,
     * kernel) when it appeared; {@code failure} the first failure line when one did.
     */
    public record BootResult(Outcome outcome, Map<String, String> marker, String failure, Duration elapsed,
                             Path consoleLog, String console, List<String> command) {
        public boolean reachedMarker() {
            return outcome == Outcome.MARKER;
        }

        /** The guest's global IPv4 addresses as the marker printed them ("none" when it had none). */
        public String ip() {
            return marker.getOrDefault("ip", "");
        }

        /** For assertion messages: the outcome and the end of the console log. */
        public String describe() {
            return "boot " + outcome + " after " + elapsed.toSeconds() + " s"
                    + (failure != null ? " (" + failure + ")" : "") + ", console " + consoleLog + ", last lines:\n"
                    + TestGuests.tail(console.replace("\r", ""), 40);
        }
    }

    /** Boots and waits for the marker, a failure or the timeout; QEMU is always stopped after. */
    public static BootResult boot(BootSpec spec) throws IOException, InterruptedException {
        Tools.require("qemu-system-x86_64", "qemu-img");
        Files.createDirectories(spec.workDir());
        Path overlay = spec.workDir().resolve("overlay.qcow2");
        Path console = spec.workDir().resolve("console.log");
        Files.deleteIfExists(overlay);
        Files.deleteIfExists(console);
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", spec.format(), "-b",
                spec.disk().toAbsolutePath().toString(), overlay.toString());
        List<String> cmd = command(spec, overlay, console);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(spec.workDir().resolve("qemu.out").toFile())
                .redirectErrorStream(true);
        long t0 = System.nanoTime();
        Process qemu = pb.start();
        Outcome outcome = Outcome.TIMEOUT;
        Map<String, String> marker = Map.of();
        String failure = null;
        long deadline = t0 + spec.timeout().toNanos();
        try {
            while (System.nanoTime() < deadline) {
                boolean exited = qemu.waitFor(500, TimeUnit.MILLISECONDS);
                String text = read(console);
                Path firmwareLog = spec.workDir().resolve("firmware.log");
                Matcher m = MARKER_LINE.matcher(text);
                if (m.find()) {
                    outcome = Outcome.MARKER;
                    marker = fields(m.group(1) == null ? "" : m.group(1));
                    qemu.waitFor(20, TimeUnit.SECONDS); // the guest powers off by itself
                    break;
                }
                failure = firstFailure(text);
                if (failure == null) {
                    failure = firstFailure(read(firmwareLog));
                }
                if (failure != null) {
                    outcome = Outcome.FAILED;
                    qemu.waitFor(2, TimeUnit.SECONDS); // a few more lines for the log
                    break;
                }
                if (exited) {
                    outcome = Outcome.EXITED;
                    break;
                }
            }
        } finally {
            if (qemu.isAlive()) {
                qemu.destroy();
                if (!qemu.waitFor(5, TimeUnit.SECONDS)) {
                    qemu.destroyForcibly();
                    qemu.waitFor(5, TimeUnit.SECONDS);
                }
            }
            Files.deleteIfExists(overlay);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        String text = read(console);
        if (outcome == Outcome.EXITED) {
            text += "\n[qemu] " + read(spec.workDir().resolve("qemu.out"));
        }
        return new BootResult(outcome, marker, failure, took, console, text, cmd);
    }

    static List<String> command(BootSpec spec, Path overlay, Path console) throws IOException {
        List<String> c = new ArrayList<>(List.of("qemu-system-x86_64", "-accel", "tcg", "-machine", "q35",
                "-m", "1024", "-smp", "1", "-display", "none", "-monitor", "none", "-no-reboot",
                "-chardev", "file,id=ser0,path=" + console, "-serial", "chardev:ser0",
                // firmware messages (SeaBIOS, OVMF) to a file beside the console, for diagnosis
                "-chardev", "file,id=fw,path=" + spec.workDir().resolve("firmware.log"),
                "-device", "isa-debugcon,iobase=0x402,chardev=fw",
                // native PCIe hotplug, so a root port's slot number reaches the guest (ens192)
                "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"));
        if (spec.firmware() == Firmware.UEFI) {
            requireFile(OVMF_CODE, "ovmf");
            requireFile(OVMF_VARS, "ovmf");
            Path vars = spec.workDir().resolve("OVMF_VARS.fd");
            Files.copy(OVMF_VARS, vars, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            c.addAll(List.of("-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                    "-drive", "if=pflash,format=raw,unit=1,file=" + vars));
        }
        c.addAll(List.of("-drive", "if=none,id=disk0,format=qcow2,file=" + overlay));
        c.addAll(List.of("-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x10"));
        switch (spec.bus()) {
            case VIRTIO_BLK -> c.addAll(List.of("-device", "virtio-blk-pci,drive=disk0,bus=rp1,bootindex=1"));
            case VIRTIO_SCSI -> c.addAll(List.of("-device", "virtio-scsi-pci,id=scsi0,bus=rp1",
                    "-device", "scsi-hd,drive=disk0,bus=scsi0.0,channel=0,scsi-id=0,lun=0,bootindex=1"));
            case PVSCSI -> c.addAll(List.of("-device", "pvscsi,id=scsi0,bus=rp1",
                    "-device", "scsi-hd,drive=disk0,bus=scsi0.0,channel=0,scsi-id=0,lun=0,bootindex=1"));
            case LSI_SAS -> c.addAll(List.of("-device", "mptsas1068,id=scsi0,bus=rp1",
                    "-device", "scsi-hd,drive=disk0,bus=scsi0.0,channel=0,scsi-id=0,lun=0,bootindex=1"));
            case SATA -> c.addAll(List.of("-device", "ide-hd,drive=disk0,bus=ide.0,bootindex=1"));
        }
        // The NIC: user networking restricted to the guest itself, on the TEST-NET-1 range the
        // guests configure statically; nothing leaves the machine.
        c.addAll(List.of("-netdev", "user,id=net0,restrict=on,net=192.0.2.0/24,host=192.0.2.1,dhcpstart=192.0.2.100"));
        String port = spec.nicSlot() == null ? "pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x11"
                : "pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x11,slot=" + spec.nicSlot();
        c.addAll(List.of("-device", port));
        // romfile= : no iPXE option ROM, so the firmware never tries a network boot
        c.addAll(List.of("-device", spec.nic().device + ",netdev=net0,bus=rp2,romfile="
                + (spec.mac() == null ? "" : ",mac=" + spec.mac())));
        return c;
    }

    static String firstFailure(String console) {
        int best = -1;
        String line = null;
        for (Pattern p : FAILURES) {
            Matcher m = p.matcher(console);
            if (m.find() && (best < 0 || m.start() < best)) {
                best = m.start();
                int s = console.lastIndexOf('\n', m.start()) + 1;
                int e = console.indexOf('\n', m.start());
                line = console.substring(s, e < 0 ? console.length() : e).strip();
            }
        }
        return line;
    }

    /** "ip=a,b if=ens192 root=/dev/sda1" to a map. */
    static Map<String, String> fields(String rest) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : rest.strip().split("\\s+")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                out.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        return out;
    }

    private static void requireFile(Path file, String debianPackage) {
        if (!Files.isRegularFile(file)) {
            String msg = file + " is missing (Debian package " + debianPackage + "; .ci/run installs it)";
            if (Tools.inCi()) {
                throw new AssertionError(msg);
            }
            System.err.println("NOTICE: skipping: " + msg);
            org.junit.jupiter.api.Assumptions.abort(msg);
        }
    }

    private static String read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return "";
        }
        return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    }
}
