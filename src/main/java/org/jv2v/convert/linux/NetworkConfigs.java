package org.jv2v.convert.linux;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the guest's network configuration names its NICs, in each of the styles Linux
 * distributions use: ifupdown (Debian), NetworkManager keyfiles and ifcfg files (RHEL, SUSE),
 * netplan (Ubuntu), systemd-networkd. Read only: the converter keeps these files as they are and
 * pins the names they use instead (see {@link NicPins}); the one edit made here is a match on a
 * VMware NIC driver, which no NIC on KVM has.
 */
final class NetworkConfigs {

    /**
     * One place that names a NIC.
     *
     * @param name    the interface name used (for a VLAN or alias, its base NIC: "ens192" for "ens192.10")
     * @param file    the file
     * @param line    1-based line
     * @param style   "ifupdown", "NetworkManager", "ifcfg", "netplan", "systemd-networkd"
     * @param mac     a MAC the configuration also requires, if it states one
     * @param method  "static", "dhcp" or what the file says, for the plan
     * @param renamedByConfig the configuration itself gives the NIC this name by MAC (netplan set-name)
     */
    record IfaceRef(String name, String file, int line, String style, Optional<String> mac, String method,
                    boolean renamedByConfig) {
        String describe() {
            return file + " line " + line + " (" + style + (method.isEmpty() ? "" : ", " + method) + ")";
        }
    }

    /** Drivers of the NICs VMware presents (vmxnet3, e1000, e1000e, vlance). */
    static final Set<String> VMWARE_NIC_DRIVERS = Set.of("vmxnet3", "vmxnet", "e1000", "e1000e", "pcnet32");
    private static final Pattern MAC = Pattern.compile("(?i)[0-9a-f]{2}(?::[0-9a-f]{2}){5}");
    private static final Pattern SOURCE_NAME = Pattern.compile("[A-Za-z0-9_-]+");

    private NetworkConfigs() {}

    /** Every NIC name the guest's network configuration uses. */
    static List<IfaceRef> find(GuestFiles files, List<String> warnings) throws IOException {
        List<IfaceRef> out = new ArrayList<>();
        for (String f : ifupdownFiles(files)) {
            files.readText(f).ifPresent(t -> out.addAll(ifupdown(f, t)));
        }
        for (String dir : List.of("/etc/NetworkManager/system-connections")) {
            for (String n : files.list(dir)) {
                String p = dir + "/" + n;
                if (files.isFile(p)) {
                    files.readText(p).ifPresent(t -> out.addAll(nmKeyfile(p, t)));
                }
            }
        }
        for (String dir : List.of("/etc/sysconfig/network-scripts", "/etc/sysconfig/network")) {
            for (String n : files.list(dir)) {
                if (n.startsWith("ifcfg-") && !n.equals("ifcfg-lo") && !Kernels.isSaveFile(n)) {
                    String p = dir + "/" + n;
                    files.readText(p).ifPresent(t -> out.addAll(ifcfg(p, t)));
                }
            }
        }
        for (String dir : List.of("/etc/netplan", "/lib/netplan", "/run/netplan")) {
            for (String n : files.list(dir)) {
                if (n.endsWith(".yaml")) {
                    String p = dir + "/" + n;
                    files.readText(p).ifPresent(t -> out.addAll(netplan(p, t)));
                }
            }
        }
        for (String n : files.list("/etc/systemd/network")) {
            if (n.endsWith(".network")) {
                String p = "/etc/systemd/network/" + n;
                files.readText(p).ifPresent(t -> out.addAll(networkd(p, t)));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- ifupdown

    /** /etc/network/interfaces and the files its source / source-directory lines bring in. */
    static List<String> ifupdownFiles(GuestFiles files) throws IOException {
        Set<String> out = new LinkedHashSet<>();
        List<String> todo = new ArrayList<>(List.of("/etc/network/interfaces"));
        while (!todo.isEmpty() && out.size() < 256) {
            String f = todo.removeFirst();
            if (!out.add(f)) {
                continue;
            }
            Optional<String> text = files.readText(f);
            if (text.isEmpty()) {
                continue;
            }
            for (String line : TextFile.parse(text.get()).lines()) {
                String[] w = line.strip().split("\\s+");
                if (w.length < 2 || TextFile.isComment(line)) {
                    continue;
                }
                String arg = w[1].startsWith("/") ? w[1] : "/etc/network/" + w[1];
                if (w[0].equals("source")) {
                    String dir = GuestFiles.parent(arg);
                    String glob = GuestFiles.name(arg);
                    Pattern g = Pattern.compile(Pattern.quote(glob).replace("*", "\\E.*\\Q").replace("?", "\\E.\\Q"));
                    for (String n : files.list(dir)) {
                        if (g.matcher(n).matches() && files.isFile(dir + "/" + n)) {
                            todo.add(dir + "/" + n);
                        }
                    }
                } else if (w[0].equals("source-directory")) {
                    for (String n : files.list(arg)) {
                        if (SOURCE_NAME.matcher(n).matches()) {
                            todo.add(arg + "/" + n);
                        }
                    }
                }
            }
        }
        List<String> existing = new ArrayList<>();
        for (String f : out) {
            if (files.isFile(f)) {
                existing.add(f);
            }
        }
        return existing;
    }

    static List<IfaceRef> ifupdown(String path, String text) {
        List<IfaceRef> out = new ArrayList<>();
        List<String> lines = TextFile.parse(text).lines();
        // method of each iface stanza, to describe the allow-/auto lines too
        java.util.Map<String, String> methods = new java.util.HashMap<>();
        for (String line : lines) {
            String[] w = line.strip().split("\\s+");
            if (w.length >= 4 && w[0].equals("iface")) {
                methods.merge(base(w[1]), w[3], (a, b) -> a.equals(b) ? a : a + "+" + b);
            }
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (TextFile.isComment(line)) {
                continue;
            }
            String[] w = line.strip().split("\\s+");
            List<String> names = new ArrayList<>();
            switch (w[0]) {
                case "iface", "mapping" -> {
                    if (w.length >= 2) {
                        names.add(w[1]);
                    }
                }
                case "auto" -> names.addAll(List.of(w).subList(1, w.length));
                case "bridge_ports", "bridge-ports", "bond-slaves", "bond_slaves", "vlan-raw-device",
                     "vlan_raw_device" -> {
                    for (String n : List.of(w).subList(1, w.length)) {
                        if (!n.equals("none") && !n.equals("all") && !n.contains("regex")) {
                            names.add(n);
                        }
                    }
                }
                default -> {
                    if (w[0].startsWith("allow-")) {
                        names.addAll(List.of(w).subList(1, w.length));
                    }
                }
            }
            for (String n : names) {
                String b = base(n);
                out.add(new IfaceRef(b, path, i + 1, "ifupdown", Optional.empty(), methods.getOrDefault(b, ""),
                        false));
            }
        }
        return out;
    }

    /** "ens192.10" and "ens192:1" are VLANs and aliases of ens192. */
    static String base(String name) {
        int cut = name.length();
        for (char c : new char[] {'.', ':'}) {
            int i = name.indexOf(c);
            if (i > 0) {
                cut = Math.min(cut, i);
            }
        }
        return name.substring(0, cut);
    }

    // ---------------------------------------------------------------- NetworkManager

    static List<IfaceRef> nmKeyfile(String path, String text) {
        IniFile ini = IniFile.parse(text);
        String type = ini.get("connection", "type").orElse("ethernet");
        if (!type.equals("ethernet") && !type.equals("802-3-ethernet")) {
            return List.of();
        }
        Optional<IniFile.Item> name = ini.last("connection", "interface-name");
        Optional<String> mac = ini.get("ethernet", "mac-address").or(() -> ini.get("802-3-ethernet", "mac-address"))
                .map(NetworkConfigs::keyfileMac).filter(m -> MAC.matcher(m).matches()).map(m -> m.toLowerCase(Locale.ROOT));
        if (name.isEmpty() || name.get().value().isEmpty()) {
            return List.of();
        }
        String method = ini.get("ipv4", "method").orElse("");
        return List.of(new IfaceRef(base(name.get().value()), path, name.get().line(), "NetworkManager", mac,
                method.equals("manual") ? "static" : method, false));
    }

    /** A keyfile MAC: "00:50:56:8A:01:92", or the bytes in decimal ("0;80;86;138;1;146;") as older NetworkManager wrote it. */
    static String keyfileMac(String value) {
        String v = value.strip();
        if (!v.matches("(?:\\d{1,3};){5}\\d{1,3};?")) {
            return v;
        }
        StringBuilder s = new StringBuilder();
        for (String b : v.split(";")) {
            int n = Integer.parseInt(b);
            if (n > 255) {
                return v;
            }
            s.append(s.isEmpty() ? "" : ":").append(String.format(Locale.ROOT, "%02x", n));
        }
        return s.toString();
    }

    // ---------------------------------------------------------------- ifcfg

    static List<IfaceRef> ifcfg(String path, String text) {
        String type = ShellVars.get(text, "TYPE").orElse("Ethernet");
        if (!type.equalsIgnoreCase("Ethernet")) {
            return List.of();
        }
        Optional<String> device = ShellVars.get(text, "DEVICE");
        String name = device.orElse(GuestFiles.name(path).substring("ifcfg-".length()));
        int line = 1;
        List<String> lines = TextFile.parse(text).lines();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).strip().startsWith("DEVICE=")) {
                line = i + 1;
            }
        }
        Optional<String> mac = ShellVars.get(text, "HWADDR").filter(m -> MAC.matcher(m).matches())
                .map(m -> m.toLowerCase(Locale.ROOT));
        String proto = ShellVars.get(text, "BOOTPROTO").orElse("none").toLowerCase(Locale.ROOT);
        String method = proto.equals("dhcp") ? "dhcp" : ShellVars.get(text, "IPADDR").isPresent()
                || ShellVars.get(text, "IPADDR0").isPresent() ? "static" : proto;
        return List.of(new IfaceRef(base(name), path, line, "ifcfg", mac, method, false));
    }

    // ---------------------------------------------------------------- netplan

    static List<IfaceRef> netplan(String path, String text) {
        SimpleYaml y = SimpleYaml.parse(text);
        List<IfaceRef> out = new ArrayList<>();
        for (SimpleYaml.Key k : y.keys()) {
            List<String> p = k.path();
            if (p.size() != 3 || !p.get(0).equals("network") || !p.get(1).equals("ethernets")) {
                continue;
            }
            String id = p.get(2);
            Optional<String> mac = Optional.empty();
            Optional<String> matchName = Optional.empty();
            boolean match = false;
            Optional<String> setName = Optional.empty();
            boolean dhcp = false;
            boolean addresses = false;
            for (SimpleYaml.Key sub : y.keys()) {
                if (sub.path().size() >= 4 && sub.path().subList(0, 3).equals(p)) {
                    match |= sub.path().get(3).equals("match");
                    addresses |= sub.path().get(3).equals("addresses");
                }
            }
            for (SimpleYaml.Scalar s : y.scalars()) {
                if (s.path().size() < 4 || !s.path().subList(0, 3).equals(p)) {
                    continue;
                }
                List<String> rest = s.path().subList(3, s.path().size());
                if (rest.equals(List.of("match", "macaddress"))) {
                    mac = Optional.of(s.value().toLowerCase(Locale.ROOT));
                } else if (rest.equals(List.of("match", "name"))) {
                    matchName = Optional.of(s.value());
                } else if (rest.equals(List.of("set-name"))) {
                    setName = Optional.of(s.value());
                } else if (rest.equals(List.of("dhcp4")) && s.value().matches("(?i)true|yes|on")) {
                    dhcp = true;
                }
            }
            String method = dhcp ? "dhcp" : addresses ? "static" : "";
            if (setName.isPresent() && mac.isPresent()) {
                // netplan writes its own .link file: the name follows the MAC already
                out.add(new IfaceRef(setName.get(), path, k.line(), "netplan", mac, method, true));
            } else if (matchName.isPresent()) {
                out.add(new IfaceRef(matchName.get(), path, k.line(), "netplan", mac, method, false));
            } else if (!match) {
                out.add(new IfaceRef(base(id), path, k.line(), "netplan", Optional.empty(), method, false));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- systemd-networkd

    static List<IfaceRef> networkd(String path, String text) {
        IniFile ini = IniFile.parse(text);
        Optional<String> mac = ini.get("Match", "MACAddress").filter(m -> MAC.matcher(m).matches())
                .map(m -> m.toLowerCase(Locale.ROOT));
        String dhcp = ini.get("Network", "DHCP").orElse("no");
        String method = !dhcp.equals("no") && !dhcp.equals("false") ? "dhcp"
                : ini.get("Network", "Address").isPresent() || ini.get("Address", "Address").isPresent() ? "static" : "";
        List<IfaceRef> out = new ArrayList<>();
        for (IniFile.Item it : ini.all("Match", "Name")) {
            for (String n : it.value().split("\\s+")) {
                if (!n.isEmpty()) {
                    out.add(new IfaceRef(base(n), path, it.line(), "systemd-networkd", mac, method, false));
                }
            }
        }
        return out;
    }

    /**
     * A systemd .network/.link {@code [Match] Driver=} or a netplan {@code match: driver:} naming a
     * VMware NIC driver: rewritten to virtio_net, the driver of the NIC on KVM.
     */
    static EditResult replaceVmwareDrivers(String text, String path, boolean yaml) {
        TextFile f = TextFile.parse(text);
        EditResult.Builder b = new EditResult.Builder();
        String section = "";
        for (int i = 0; i < f.size(); i++) {
            String line = f.line(i);
            String t = line.strip();
            if (!yaml && t.startsWith("[") && t.endsWith("]")) {
                section = t;
                continue;
            }
            if (TextFile.isComment(line)) {
                continue;
            }
            boolean driverLine = yaml ? t.matches("(?:\\{.*)?driver\\s*:.*") || t.contains("driver:")
                    : section.equalsIgnoreCase("[Match]") && t.startsWith("Driver=");
            if (!driverLine) {
                continue;
            }
            String replaced = line;
            for (String d : VMWARE_NIC_DRIVERS) {
                replaced = replaced.replaceAll("(?<![\\w-])" + d + "(?![\\w-])", "virtio_net");
            }
            if (!yaml && !replaced.equals(line)) {
                // "Driver=vmxnet3 e1000e" is a list: virtio_net once
                Matcher m = Pattern.compile("^(\\s*Driver\\s*=\\s*)(.*)$").matcher(replaced);
                if (m.matches()) {
                    replaced = m.group(1) + String.join(" ", new LinkedHashSet<>(List.of(m.group(2).strip().split("\\s+"))));
                }
            }
            if (!replaced.equals(line)) {
                f.set(i, replaced);
                b.reasons.add("line " + (i + 1) + ": " + t + " -> " + replaced.strip()
                        + " (on KVM the NIC is virtio-net, driven by virtio_net)");
            }
        }
        return b.build(f.toString());
    }
}
