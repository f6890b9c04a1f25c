package org.jv2v.testing;

import org.jv2v.testing.QemuBoot.BootResult;
import org.jv2v.testing.QemuBoot.BootSpec;
import org.jv2v.testing.QemuBoot.DiskBus;
import org.jv2v.testing.QemuBoot.Firmware;
import org.jv2v.testing.QemuBoot.NicModel;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link QemuBoot} for scripts (the benchmarks boot what jv2v and virt-v2v wrote the same way the
 * tests do). Run with the jv2v jar and the test classes on the class path:
 *
 * <pre>
 * java -cp target/jv2v.jar:target/test-classes org.jv2v.testing.BootCli --disk D --format qcow2 \
 *     --firmware BIOS --bus VIRTIO_BLK --nic VIRTIO_NET --mac 00:50:56:3a:12:01 --work DIR [--timeout S]
 * </pre>
 *
 * Prints one line {@code outcome=MARKER seconds=N ip=... if=... root=...} (or the failure) and exits
 * 0 when the marker appeared, 1 when not, 2 on bad usage.
 */
public final class BootCli {
    private BootCli() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                usage("unexpected " + args[i]);
            }
            a.put(args[i].substring(2), args[i + 1]);
        }
        if (args.length % 2 != 0 || !a.containsKey("disk") || !a.containsKey("work")) {
            usage("--disk and --work are required, each option takes a value");
        }
        BootSpec spec = new BootSpec(Path.of(a.get("disk")), a.getOrDefault("format", "raw"),
                Firmware.valueOf(a.getOrDefault("firmware", "BIOS")), DiskBus.valueOf(a.getOrDefault("bus", "VIRTIO_BLK")),
                NicModel.valueOf(a.getOrDefault("nic", "VIRTIO_NET")), a.get("mac"),
                a.containsKey("slot") ? Integer.valueOf(a.get("slot")) : null,
                a.containsKey("timeout") ? Duration.ofSeconds(Long.parseLong(a.get("timeout"))) : QemuBoot.DEFAULT_TIMEOUT,
                Path.of(a.get("work")));
        BootResult r = QemuBoot.boot(spec);
        StringBuilder line = new StringBuilder("outcome=" + r.outcome() + " seconds=" + r.elapsed().toSeconds());
        r.marker().forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
        if (r.failure() != null) {
            line.append(" failure=\"").append(r.failure().replace('"', '\'')).append('"');
        }
        line.append(" console=").append(r.consoleLog());
        System.out.println(line);
        System.exit(r.reachedMarker() ? 0 : 1);
    }

    private static void usage(String why) {
        System.err.println("BootCli: " + why);
        System.exit(2);
    }
}
