package org.jv2v.convert.linux;

import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A static IP on the VMware NIC survives the conversion in each network configuration style
 * Linux guests use: ifupdown, netplan, NetworkManager keyfiles, ifcfg files, systemd-networkd.
 * Each guest is built here ({@link MiniGuest}: mkfs.ext4 -d, sfdisk, qemu-img), converted by jv2v
 * ({@code -o local}) and read back with debugfs; e2fsck -fn finds the result clean.
 *
 * <p>What the guest's tools will do with the result decides what is expected. jv2v leaves the
 * configuration as the user wrote it and keeps the NIC's VMware name instead: a systemd .link file
 * that gives the NIC with the VMware MAC (which the conversion keeps) its old name. udev applies the
 * first .link file that matches a NIC, in file-name order across /etc, /run and /usr/lib, so
 * 10-jv2v-*.link wins over 99-default.link (predictable names, which would call the NIC enp1s0 on
 * q35). So:
 * <ul>
 *   <li>a configuration naming the NIC (ifupdown's iface, netplan's id without match, NM's
 *       interface-name, ifcfg's DEVICE, networkd's [Match] Name) gets a pin; where it also names a
 *       MAC (NM mac-address, ifcfg HWADDR), that MAC decides which NIC it is;</li>
 *   <li>one that finds the NIC by its MAC only (netplan {@code match: macaddress} without
 *       set-name, whose id is only a label) applies whatever the name: no pin;</li>
 *   <li>netplan {@code match: macaddress} with {@code set-name}: netplan writes its own .link file
 *       for that MAC: no pin;</li>
 *   <li>a match on VMware's NIC driver (networkd [Match] Driver=vmxnet3, netplan
 *       {@code match: driver}) would never match virtio-net: rewritten to virtio_net, the file's
 *       owner, mode and SELinux label kept.</li>
 * </ul>
 * Files jv2v does not edit are read back byte for byte as they were, with their owner, mode and
 * label (NetworkManager ignores a keyfile that is not root's with mode 0600).
 */
class NetworkStylesConversionTest {
    static final String MAC0 = "00:50:56:8a:01:92";
    static final String MAC1 = "00:50:56:8a:02:24";

    private static final Map<String, String> NM_LABEL = Map.of("security.selinux",
            "system_u:object_r:NetworkManager_etc_rw_t:s0");
    private static final Map<String, String> NET_LABEL = Map.of("security.selinux",
            "system_u:object_r:net_conf_t:s0");

    private static final String ETC_LABEL = "system_u:object_r:etc_t:s0";

    @TempDir
    Path dir;

    @BeforeEach
    void tools() {
        Tools.require("qemu-img", "sfdisk", "mkfs.ext4", "debugfs", "e2fsck", "setfattr");
    }

    /** The pin jv2v writes for {@code name}: the MAC's NIC is called {@code name}. */
    private static void assertPinned(MiniGuest.Converted c, String name, String mac, String label) throws Exception {
        String link = "/etc/systemd/network/10-jv2v-" + name + ".link";
        String text = c.cat(link);
        assertThat(text).contains("[Match]\nMACAddress=" + mac + "\n", "[Link]\nName=" + name + "\n");
        DebianGuestConversionTest.Golden.check("convert/net-styles/10-jv2v-" + name + "-" + mac.replace(":", "")
                + ".link", text);
        // the folder's SELinux label, without which an enforcing guest's udevd could not read it
        assertThat(c.owner(link)).isEqualTo("regular 0644 0:0"
                + (label.isEmpty() ? "" : "\nsecurity.selinux = \"" + label + "\""));
    }

    private static void assertNoPins(MiniGuest.Converted c) throws Exception {
        if (c.exists("/etc/systemd/network")) {
            assertThat(c.list("/etc/systemd/network")).noneMatch(n -> n.startsWith("10-jv2v-"));
        }
        assertThat(c.exists(NicPins.UDEV_RULES_PATH)).isFalse();
    }

    /** The file is read back as written, with its owner, mode and labels. */
    private static void assertKept(MiniGuest.Converted c, String path, String text, String owner)
            throws Exception {
        assertThat(c.cat(path)).as(path).isEqualTo(text);
        assertThat(c.owner(path)).as(path).isEqualTo(owner);
    }

    /**
     * netplan's own reading of the converted guest's /etc/netplan: {@code netplan generate
     * --root-dir} writes the systemd-networkd and udev files the guest's netplan would make at
     * boot; returned by name ("10-netplan-ens192.network" -> content).
     */
    private Map<String, String> netplanGenerate(MiniGuest.Converted c) throws Exception {
        Tools.require("netplan");
        Path root = dir.resolve("netplan-root");
        c.rdump("/etc/netplan", root.resolve("etc"));
        Run.Result r = Run.run(List.of("netplan", "generate", "--root-dir",
                root.toString()), null, Map.of(), 120);
        assertThat(r.exitCode()).as("netplan generate\n" + r.all()).isZero();
        Map<String, String> out = new TreeMap<>();
        try (var files = Files.list(root.resolve("run/systemd/network"))) {
            for (Path f : files.toList()) {
                out.put(f.getFileName().toString(), Files.readString(f));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ ifupdown

    @Test
    void ifupdownInAnIncludedFileIsPinnedToTheVmwareMac() throws Exception {
        MiniGuest g = new MiniGuest(dir, "ifupdown", MiniGuest.Kind.DEBIAN12).nic(0, MAC0, 192);
        String main = "# The loopback network interface\nauto lo\niface lo inet loopback\n\n"
                + "source /etc/network/interfaces.d/*\n";
        String ens192 = """
                allow-hotplug ens192
                iface ens192 inet static
                \taddress 192.0.2.10/24
                \tgateway 192.0.2.1

                auto ens192.10
                iface ens192.10 inet static
                \taddress 198.51.100.10/24
                \tvlan-raw-device ens192
                """;
        g.file("etc/network/interfaces", main, 0644, 0, 0, NET_LABEL);
        g.file("etc/network/interfaces.d/ens192", ens192, 0644, 0, 0, NET_LABEL);

        MiniGuest.Converted c = g.convert();

        c.assertClean();
        assertPinned(c, "ens192", MAC0, "");
        assertThat(c.owner("/etc/systemd/network")).isEqualTo("directory 0755 0:0");
        assertKept(c, "/etc/network/interfaces", main,
                "regular 0644 0:0\nsecurity.selinux = \"system_u:object_r:net_conf_t:s0\"");
        assertKept(c, "/etc/network/interfaces.d/ens192", ens192,
                "regular 0644 0:0\nsecurity.selinux = \"system_u:object_r:net_conf_t:s0\"");
        DebianGuestConversionTest.Golden.check("convert/net-styles/ifupdown-plan.txt", g.plan());
    }

    // ------------------------------------------------------------------ netplan

    @Test
    void netplanByNameIsPinnedAndByMacIsLeftToNetplan() throws Exception {
        MiniGuest g = new MiniGuest(dir, "netplan", MiniGuest.Kind.DEBIAN12).nic(0, MAC0, 192).nic(1, MAC1, 224);
        // ens192: named by its id, no match: the name must stay ens192
        String byName = """
                network:
                  version: 2
                  renderer: networkd
                  ethernets:
                    ens192:
                      addresses: [192.0.2.10/24]
                      routes:
                        - to: default
                          via: 192.0.2.1
                """;
        // the second NIC by MAC only: "lan1" is a label, netplan matches the MAC, whatever the name
        String byMac = """
                network:
                  version: 2
                  ethernets:
                    lan1:
                      match:
                        macaddress: "%s"
                      addresses: [198.51.100.10/24]
                """.formatted(MAC1);
        g.file("etc/netplan/01-ens192.yaml", byName, 0600, 0, 0, NET_LABEL);
        g.file("etc/netplan/02-lan1.yaml", byMac, 0600, 0, 0, NET_LABEL);

        MiniGuest.Converted c = g.convert();

        c.assertClean();
        assertPinned(c, "ens192", MAC0, "");
        assertThat(c.list("/etc/systemd/network")).containsExactly("10-jv2v-ens192.link");
        String label = "regular 0600 0:0\nsecurity.selinux = \"system_u:object_r:net_conf_t:s0\"";
        assertKept(c, "/etc/netplan/01-ens192.yaml", byName, label);
        assertKept(c, "/etc/netplan/02-lan1.yaml", byMac, label);
        DebianGuestConversionTest.Golden.check("convert/net-styles/netplan-plan.txt", g.plan());

        // netplan itself: ens192's configuration applies to a NIC called ens192 (the pin), lan1's
        // to the NIC with MAC1, whatever its name (so no pin)
        Map<String, String> gen = netplanGenerate(c);
        assertThat(gen.get("10-netplan-ens192.network")).startsWith("[Match]\nName=ens192\n\n")
                .contains("Address=192.0.2.10/24");
        assertThat(gen.get("10-netplan-lan1.network")).startsWith("[Match]\nPermanentMACAddress=" + MAC1 + "\n\n")
                .contains("Address=198.51.100.10/24");
        assertThat(gen.keySet()).noneMatch(n -> n.endsWith(".link"));
    }

    @Test
    void netplanSetNameByMacNeedsNoPinAndADriverMatchFollowsTheNewNic() throws Exception {
        MiniGuest g = new MiniGuest(dir, "netplan-set-name", MiniGuest.Kind.DEBIAN12).nic(0, MAC0, 192)
                .nic(1, MAC1, 224);
        // netplan writes 10-netplan-ens192.link matching the MAC, which the conversion keeps
        String setName = """
                network:
                  version: 2
                  ethernets:
                    ens192:
                      match: {macaddress: "%s"}
                      set-name: ens192
                      addresses: [192.0.2.10/24]
                """.formatted(MAC0);
        // a NIC this VM does not have (a stale file from a template): said, not acted on
        String stale = """
                network:
                  version: 2
                  ethernets:
                    old0:
                      match:
                        macaddress: "00:50:56:00:de:ad"
                      set-name: old0
                      dhcp4: true
                """;
        // any vmxnet3 NIC gets DHCP: on KVM it is a virtio-net NIC
        String byDriver = """
                network:
                  version: 2
                  ethernets:
                    any-vmxnet:
                      match:
                        driver: vmxnet3
                      dhcp4: true
                """;
        g.file("etc/netplan/01-ens192.yaml", setName, 0600, 0, 0, NET_LABEL);
        g.file("etc/netplan/02-dhcp.yaml", byDriver, 0640, 0, 4, NET_LABEL);
        g.file("etc/netplan/03-old.yaml", stale, 0600, 0, 0, NET_LABEL);

        MiniGuest.Converted c = g.convert();

        c.assertClean();
        assertNoPins(c);
        assertThat(c.run().stderr()).contains("old0: /etc/netplan/03-old.yaml line 4 (netplan, dhcp) names the NIC "
                + "with MAC 00:50:56:00:de:ad, which no NIC of this VM has");
        assertKept(c, "/etc/netplan/01-ens192.yaml", setName,
                "regular 0600 0:0\nsecurity.selinux = \"system_u:object_r:net_conf_t:s0\"");
        assertKept(c, "/etc/netplan/02-dhcp.yaml", byDriver.replace("driver: vmxnet3", "driver: virtio_net"),
                "regular 0640 0:4\nsecurity.selinux = \"system_u:object_r:net_conf_t:s0\"");
        DebianGuestConversionTest.Golden.check("convert/net-styles/netplan-set-name-plan.txt", g.plan());

        // netplan itself: it names the NIC with MAC0 ens192 by a .link file of its own, and gives
        // DHCP to NICs driven by virtio_net, which the converted guest's NICs are
        Map<String, String> gen = netplanGenerate(c);
        assertThat(gen.get("10-netplan-ens192.link")).contains("[Match]\nPermanentMACAddress=" + MAC0 + "\n",
                "[Link]\nName=ens192\n");
        assertThat(gen.get("10-netplan-any-vmxnet.network")).startsWith("[Match]\nDriver=virtio_net\n")
                .contains("DHCP=ipv4");
    }

    // ------------------------------------------------------------------ NetworkManager

    @Test
    void networkManagerKeyfileWithInterfaceNameIsPinnedToItsMac() throws Exception {
        // two NICs: the keyfile's mac-address says which one is ens192 (the second in the .vmx)
        MiniGuest g = new MiniGuest(dir, "nm", MiniGuest.Kind.RHEL9).nic(0, MAC1, 224).nic(1, MAC0, 192)
                .labelledDir("etc/systemd/network", ETC_LABEL);
        String keyfile = """
                [connection]
                id=ens192
                uuid=5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03
                type=ethernet
                interface-name=ens192

                [ethernet]
                mac-address=%s

                [ipv4]
                address1=192.0.2.10/24,192.0.2.1
                method=manual

                [ipv6]
                method=disabled
                """.formatted(MAC0.toUpperCase(Locale.ROOT));
        g.file("etc/NetworkManager/system-connections/ens192.nmconnection", keyfile, 0600, 0, 0, NM_LABEL);

        MiniGuest.Converted c = g.convert();

        c.assertClean();
        assertPinned(c, "ens192", MAC0, ETC_LABEL);
        assertThat(c.list("/etc/systemd/network")).containsExactly("10-jv2v-ens192.link");
        assertKept(c, "/etc/NetworkManager/system-connections/ens192.nmconnection", keyfile,
                "regular 0600 0:0\nsecurity.selinux = \"system_u:object_r:NetworkManager_etc_rw_t:s0\"");
        DebianGuestConversionTest.Golden.check("convert/net-styles/networkmanager-plan.txt", g.plan());
    }

    // ------------------------------------------------------------------ ifcfg

    @Test
    void ifcfgWithDeviceAndHwaddrIsPinnedToItsMac() throws Exception {
        MiniGuest g = new MiniGuest(dir, "ifcfg", MiniGuest.Kind.RHEL9).nic(0, MAC0, 192)
                .labelledDir("etc/systemd/network", ETC_LABEL);
        String ifcfg = """
                TYPE=Ethernet
                BOOTPROTO=none
                NAME=ens192
                DEVICE=ens192
                HWADDR=%s
                ONBOOT=yes
                IPADDR=192.0.2.10
                PREFIX=24
                GATEWAY=192.0.2.1
                """.formatted(MAC0.toUpperCase(Locale.ROOT));
        g.file("etc/sysconfig/network-scripts/ifcfg-ens192", ifcfg, 0644, 0, 0, NET_LABEL);
        g.file("etc/sysconfig/network-scripts/ifcfg-lo", "DEVICE=lo\nIPADDR=127.0.0.1\nONBOOT=yes\n", 0644, 0, 0,
                NET_LABEL);

        MiniGuest.Converted c = g.convert();

        c.assertClean();
        assertPinned(c, "ens192", MAC0, ETC_LABEL);
        assertKept(c, "/etc/sysconfig/network-scripts/ifcfg-ens192", ifcfg,
                "regular 0644 0:0\nsecurity.selinux = \"system_u:object_r:net_conf_t:s0\"");
        DebianGuestConversionTest.Golden.check("convert/net-styles/ifcfg-plan.txt", g.plan());
    }

    // ------------------------------------------------------------------ systemd-networkd

    @Test
    void networkdMatchNameIsPinnedAndADriverMatchIsRewritten() throws Exception {
        MiniGuest g = new MiniGuest(dir, "networkd", MiniGuest.Kind.DEBIAN12).nic(0, MAC0, 192);
        String byName = """
                [Match]
                Name=ens192

                [Network]
                Address=192.0.2.10/24
                Gateway=192.0.2.1
                """;
        String byDriver = """
                # anything else VMware gives this VM gets DHCP
                [Match]
                Driver=vmxnet3 e1000e

                [Network]
                DHCP=yes
                """;
        g.file("etc/systemd/network/10-ens192.network", byName, 0644, 0, 0, NET_LABEL);
        g.file("etc/systemd/network/90-vmware.network", byDriver, 0640, 0, 101, NET_LABEL);

        MiniGuest.Converted c = g.convert();

        c.assertClean();
        assertPinned(c, "ens192", MAC0, "");
        assertThat(c.list("/etc/systemd/network")).containsExactlyInAnyOrder("10-ens192.network",
                "90-vmware.network", "10-jv2v-ens192.link");
        assertKept(c, "/etc/systemd/network/10-ens192.network", byName,
                "regular 0644 0:0\nsecurity.selinux = \"system_u:object_r:net_conf_t:s0\"");
        assertKept(c, "/etc/systemd/network/90-vmware.network",
                byDriver.replace("Driver=vmxnet3 e1000e", "Driver=virtio_net"),
                "regular 0640 0:101\nsecurity.selinux = \"system_u:object_r:net_conf_t:s0\"");
        DebianGuestConversionTest.Golden.check("convert/net-styles/networkd-plan.txt", g.plan());
    }

    /**
     * networkd's Name= takes shell patterns: {@code Name=ens1*} matched ens192 on VMware but would
     * match neither enp1s0 (libvirt) nor ens3 (QEMU's pc machine), so ens192 is kept for the NIC in
     * slot 192; the NIC in slot 224 does not match it and is left alone, and {@code Name=en*}
     * matches every name the NIC may have on KVM: nothing to keep for it.
     */
    @Test
    void networkdNamePatternKeepsTheVmwareNamesItMatches() throws Exception {
        MiniGuest g = new MiniGuest(dir, "networkd-glob", MiniGuest.Kind.DEBIAN12).nic(0, MAC1, 224)
                .nic(1, MAC0, 192);
        String pattern = "[Match]\nName=ens1*\n\n[Network]\nAddress=192.0.2.10/24\n";
        String any = "[Match]\nName=en*\n\n[Network]\nDHCP=yes\n";
        g.file("etc/systemd/network/10-lan.network", pattern);
        g.file("etc/systemd/network/99-any.network", any);

        MiniGuest.Converted c = g.convert();

        c.assertClean();
        assertPinned(c, "ens192", MAC0, "");
        assertThat(c.list("/etc/systemd/network")).containsExactlyInAnyOrder("10-lan.network", "99-any.network",
                "10-jv2v-ens192.link");
        assertThat(c.cat("/etc/systemd/network/10-lan.network")).isEqualTo(pattern);
        DebianGuestConversionTest.Golden.check("convert/net-styles/networkd-glob-plan.txt", g.plan());
    }

    @Test
    void olderKeyfilesWriteTheMacAsDecimalBytes() {
        String keyfile = "[connection]\nid=x\ntype=802-3-ethernet\ninterface-name=ens192\n\n[802-3-ethernet]\n"
                + "mac-address=0;80;86;138;1;146;\n";
        assertThat(NetworkConfigs.nmKeyfile("/x", keyfile)).singleElement()
                .satisfies(r -> assertThat(r.mac()).contains(MAC0));
        assertThat(NetworkConfigs.keyfileMac("0;80;86;138;1;300;")).as("not bytes: left as it is, then ignored")
                .isEqualTo("0;80;86;138;1;300;");
    }

    @Test
    void globsReadAsFnmatchDoes() {
        assertThat(NicPins.globRegex("ens1*").matcher("ens192").matches()).isTrue();
        assertThat(NicPins.globRegex("ens1*").matcher("ens224").matches()).isFalse();
        assertThat(NicPins.globRegex("ens[12]9?").matcher("ens192").matches()).isTrue();
        assertThat(NicPins.globRegex("ens[!1]*").matcher("ens192").matches()).isFalse();
        assertThat(NicPins.globRegex("en.*").matcher("ens192").matches()).as("a dot is a dot").isFalse();
    }

    // ------------------------------------------------------------------ two NICs

    /**
     * Two VMware NICs, each with a static address: ESXi numbers a NIC's name after its PCI slot
     * ({@code ethernetN.pciSlotNumber}), not after N, and here ethernet0 is in slot 224 (ens224) and
     * ethernet1 in slot 192 (ens192), as after a NIC was removed and added again. Each name is kept
     * on the NIC of its slot, found by its MAC, whatever slot libvirt or QEMU give it on KVM. The
     * libvirt XML has both NICs with their MACs (virt-xml-validate accepts it), and the QEMU script
     * both virtio-net devices.
     */
    @Test
    void twoNicsKeepTheNamesOfTheirVmwareSlots() throws Exception {
        MiniGuest g = new MiniGuest(dir, "two-nics", MiniGuest.Kind.DEBIAN12).nic(0, MAC1, 224).nic(1, MAC0, 192);
        String interfaces = """
                auto lo
                iface lo inet loopback

                allow-hotplug ens192
                iface ens192 inet static
                	address 192.0.2.10/24
                	gateway 192.0.2.1

                allow-hotplug ens224
                iface ens224 inet static
                	address 198.51.100.10/24
                """;
        g.file("etc/network/interfaces", interfaces);

        MiniGuest.Converted c = g.convert();

        c.assertClean();
        assertPinned(c, "ens192", MAC0, "");
        assertPinned(c, "ens224", MAC1, "");
        assertThat(c.run().all()).doesNotContain("a guess", "cannot tell which");
        assertThat(c.cat("/etc/network/interfaces")).isEqualTo(interfaces);
        DebianGuestConversionTest.Golden.check("convert/net-styles/two-nics-plan.txt", g.plan());

        Path xml = c.out().resolve("two-nics.xml");
        String x = Files.readString(xml);
        assertThat(x).containsSubsequence("<mac address='" + MAC1 + "'/>", "<model type='virtio'/>",
                "<mac address='" + MAC0 + "'/>", "<model type='virtio'/>");
        Tools.require("virt-xml-validate");
        Tools.run("virt-xml-validate", xml.toString(), "domain");

        Path qemuOut = Files.createDirectories(dir.resolve("qemu"));
        Jv2vRun.ok("-i", "vmx", g.build().toString(), "-o", "qemu", "-os", qemuOut.toString());
        String sh = Files.readString(qemuOut.resolve("two-nics.sh"));
        assertThat(sh).containsSubsequence("virtio-net-pci,netdev=net0,mac=" + MAC1,
                "virtio-net-pci,netdev=net1,mac=" + MAC0);
    }
}
