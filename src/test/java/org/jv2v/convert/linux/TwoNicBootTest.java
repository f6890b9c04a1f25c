package org.jv2v.convert.linux;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.TestGuest;
import org.jv2v.testing.TestGuests;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two NICs and systemd-networkd, booted: a variant of the factory's Debian 12 guest whose network
 * is systemd-networkd's ({@code [Match] Name=ens192} and {@code Name=ens224}, each with a static
 * address; ifupdown keeps only lo) on two vmxnet3 NICs in ESXi's slots 192 and 224. The variant is
 * made from the factory's disk with the reference tools (qemu-img, debugfs -w, e2fsck), converted
 * by {@code jv2v -o qemu}, and started by the script jv2v wrote, as a user would (under TCG, with
 * the serial console to a file). The guest's marker must list both addresses on ens192 and ens224:
 * each NIC kept its VMware name on KVM, where QEMU puts them in other slots, and networkd applied
 * both configurations. One TCG boot (about 2 minutes).
 */
@Tag("boot")
class TwoNicBootTest {
    private static final long ROOT_OFFSET = 1 << 20;
    private static final String MAC1 = "00:50:56:3a:13:24";
    private static final String SECOND_IP = "198.51.100.10/24";

    @TempDir
    Path dir;

    private static void debugfsWrite(Path raw, Path commands) throws Exception {
        Run.Result r = Run.run(List.of("debugfs", "-w", "-f", commands.toString(), raw + "?offset=" + ROOT_OFFSET),
                null, Map.of(), 300);
        assertThat(r.exitCode()).as(r.all()).isZero();
        // debugfs reports a failed command and goes on: none may have failed
        assertThat(r.stderr().lines().filter(l -> !l.startsWith("debugfs ")).toList()).as(r.all()).isEmpty();
    }

    /** The factory guest with networkd on ens192 and ens224, as a .vmx with two NICs. */
    private Path variant(TestGuests.Built built) throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Path raw = work.resolve("disk.raw");
        Tools.run("qemu-img", "convert", "-q", "-f", "vmdk", "-O", "raw", built.vmdk().toString(), raw.toString());
        Path lo = Files.writeString(work.resolve("interfaces"), "auto lo\niface lo inet loopback\n");
        Path n192 = Files.writeString(work.resolve("10-ens192.network"),
                "[Match]\nName=ens192\n\n[Network]\nAddress=" + TestGuest.STATIC_IP + "\nGateway=192.0.2.1\n");
        Path n224 = Files.writeString(work.resolve("20-ens224.network"),
                "[Match]\nName=ens224\n\n[Network]\nAddress=" + SECOND_IP + "\n");
        String sys = "/etc/systemd/system/";
        String lib = "/lib/systemd/system/";
        StringBuilder cmds = new StringBuilder("rm /etc/network/interfaces\n")
                .append("write ").append(lo).append(" /etc/network/interfaces\n")
                .append("write ").append(n192).append(" /etc/systemd/network/10-ens192.network\n")
                .append("write ").append(n224).append(" /etc/systemd/network/20-ens224.network\n");
        // systemctl enable systemd-networkd systemd-networkd-wait-online, as links
        Run.Result ls = Run.run(List.of("debugfs", "-R", "ls " + sys, raw + "?offset=" + ROOT_OFFSET));
        for (String wants : List.of("sockets.target.wants", "network-online.target.wants")) {
            if (!ls.stdout().contains(wants)) {
                cmds.append("mkdir ").append(sys).append(wants).append('\n');
            }
        }
        cmds.append("symlink ").append(sys).append("multi-user.target.wants/systemd-networkd.service ").append(lib)
                .append("systemd-networkd.service\n")
                .append("symlink ").append(sys).append("sockets.target.wants/systemd-networkd.socket ").append(lib)
                .append("systemd-networkd.socket\n")
                .append("symlink ").append(sys).append("network-online.target.wants/systemd-networkd-wait-online.service ")
                .append(lib).append("systemd-networkd-wait-online.service\n");
        debugfsWrite(raw, Files.writeString(work.resolve("cmds"), cmds));
        Run.Result fsck = Run.run(List.of("e2fsck", "-fn", raw + "?offset=" + ROOT_OFFSET), null, Map.of(), 300);
        assertThat(fsck.exitCode()).as("the variant is clean\n" + fsck.all()).isZero();

        Path guest = Files.createDirectories(dir.resolve("guest"));
        Path vmdk = guest.resolve("deb2nic.vmdk");
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicSparse",
                raw.toString(), vmdk.toString());
        Files.delete(raw);
        String vmx = Files.readString(built.vmx())
                .replaceAll("(?m)^displayName = .*$", "displayName = \"deb2nic\"")
                .replace("\"" + built.vmdk().getFileName() + "\"", "\"deb2nic.vmdk\"")
                + "ethernet1.present = \"TRUE\"\nethernet1.virtualDev = \"vmxnet3\"\nethernet1.networkName = \"VM Network\"\n"
                + "ethernet1.addressType = \"static\"\nethernet1.address = \"" + MAC1 + "\"\n"
                + "ethernet1.pciSlotNumber = \"224\"\n";
        assertThat(vmx).contains("displayName = \"deb2nic\"", "\"deb2nic.vmdk\"");
        return Files.writeString(guest.resolve("deb2nic.vmx"), vmx);
    }

    @Test
    void twoNicsWithNetworkdComeUpWithBothAddresses() throws Exception {
        Tools.require("qemu-img", "debugfs", "e2fsck", "qemu-system-x86_64", "timeout");
        ConverterPresent.require();
        TestGuests.Built built = TestGuests.get(TestGuest.DEBIAN12_BIOS);
        Map<String, String> before = Checksums.of(built.dir());
        Path vmx = variant(built);
        Path out = Files.createDirectories(dir.resolve("out"));

        Jv2vRun.Result r = Jv2vRun.ok("-i", "vmx", vmx.toString(), "-o", "qemu", "-os", out.toString());
        assertThat(r.stdout()).contains("NIC names kept: ens192 = " + TestGuest.DEBIAN12_BIOS.mac() + ", ens224 = "
                + MAC1);
        Path script = out.resolve("deb2nic.sh");
        Path console = dir.resolve("console.log");
        long t0 = System.nanoTime();
        Run.Result boot = Run.run(List.of("timeout", "900", "sh", script.toString(), "-serial", "file:" + console,
                "-no-reboot"), null, Map.of("JV2V_ACCEL", "tcg", "JV2V_DISPLAY", "none"), 960);
        String log = Files.exists(console) ? Files.readString(console) : "";
        String tail = String.join("\n", Arrays.asList(log.replace("\r", "").split("\n"))
                .subList(Math.max(0, log.split("\n").length - 40), log.split("\n").length));
        Matcher m = Pattern.compile(TestGuest.MARKER + " ip=(\\S+) if=(\\S+)").matcher(log);
        System.err.printf("deb2nic booted from jv2v's QEMU script in %d s: %s%n", (System.nanoTime() - t0) / 1_000_000_000L,
                m.find() ? m.group() : "no marker");
        assertThat(m.find(0)).as("marker on the console (qemu exit " + boot.exitCode() + ")\n" + boot.all() + "\n"
                + tail).isTrue();
        assertThat(m.group(1).split(",")).as(m.group()).containsExactlyInAnyOrder(TestGuest.STATIC_IP, SECOND_IP);
        List<String> ifs = List.of(m.group(2).split(","));
        List<String> ips = List.of(m.group(1).split(","));
        assertThat(ifs.get(ips.indexOf(TestGuest.STATIC_IP))).isEqualTo("ens192");
        assertThat(ifs.get(ips.indexOf(SECOND_IP))).isEqualTo("ens224");
        assertThat(Checksums.of(built.dir())).as("the factory guest is untouched").isEqualTo(before);
    }
}
