package org.jv2v.convert.linux;

import org.jv2v.model.SourceNic;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps each NIC's VMware name on KVM, so that the network configuration written for that name
 * (a static IP on ens192) still applies.
 *
 * <p>Why pin the name rather than edit the configuration to the new one: with predictable naming
 * the name follows the PCI slot ({@code ens192} is slot 192 on ESXi), and on KVM the slot is the
 * target's choice (libvirt puts the NIC behind a root port: enp1s0; a QEMU command line: ens3 or
 * enp0s3), so no name can be predicted at conversion time. The name also appears beyond the network
 * configuration (firewall zones, daemons' listen settings, scripts), and a pin keeps all of them
 * right with one new file that touches nothing the user wrote. The pin is a systemd .link file
 * matching the NIC's MAC, which the conversion keeps; udev applies it when the NIC appears, before
 * ifupdown, NetworkManager or networkd look for it.
 *
 * <p>Conditions, checked by the converter: udev must be systemd's (it reads .link files; older
 * udev gets an equivalent rule in /etc/udev/rules.d), and the NIC must not have been named
 * already in the initramfs: the converter leaves virtio_net out of the initramfs (the root disk
 * does not need it), so the NIC first appears under the real root, where the .link file is.
 *
 * <p>Names pinned: predictable names of Ethernet NICs ({@code ens192}, {@code enp11s0},
 * {@code eno1}, biosdevname's {@code em1} and {@code p1p1}) used by the configuration. Not pinned:
 * kernel names ({@code eth0}, with net.ifnames=0, which follow the MACs' order), MAC-based
 * names ({@code enx005056...}, which stay), names a configuration already binds to a MAC by itself
 * (netplan set-name), and virtual interfaces (bridges, bonds, VLANs are matched through their ports).
 */
final class NicPins {
    private static final Pattern PREDICTABLE = Pattern.compile("en(?:o\\d+|s\\d+(?:f\\d+)?(?:d\\d+)?"
            + "|p\\d+s\\d+(?:f\\d+)?(?:d\\d+)?|P\\d+p\\d+s\\d+(?:f\\d+)?)|em\\d+|p\\d+p\\d+(?:_\\d+)?");
    private static final Pattern SLOT_NAME = Pattern.compile("ens(\\d+)(?:f\\d+)?(?:d\\d+)?");

    /** A name to keep: the NIC with {@code mac} is called {@code name}, for these reasons. */
    record Pin(String name, String mac, int nicIndex, String why, List<NetworkConfigs.IfaceRef> uses) {}

    /** The decision: pins, and what could not be decided. */
    record Decision(List<Pin> pins, List<String> warnings, List<String> notes) {}

    private NicPins() {}

    static boolean pinnable(String name) {
        return PREDICTABLE.matcher(name).matches();
    }

    /**
     * Which names to pin to which MACs.
     *
     * @param uses  where the configuration names NICs
     * @param nics  the VM's NICs (their MACs are kept on KVM)
     * @param slots {@code ethernetN.pciSlotNumber} by NIC index, where the source states it
     */
    static Decision decide(List<NetworkConfigs.IfaceRef> uses, List<SourceNic> nics, Map<Integer, Integer> slots) {
        List<String> warnings = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Map<String, List<NetworkConfigs.IfaceRef>> byName = new LinkedHashMap<>();
        List<NetworkConfigs.IfaceRef> globs = new ArrayList<>();
        for (NetworkConfigs.IfaceRef u : uses) {
            if (u.renamedByConfig()) {
                boolean known = u.mac().isEmpty() || nics.stream().anyMatch(n -> n.mac().isPresent()
                        && n.mac().get().equalsIgnoreCase(u.mac().get()));
                if (known) {
                    notes.add(u.name() + ": " + u.describe() + " names it by its MAC itself; nothing to do");
                } else {
                    warnings.add(u.name() + ": " + u.describe() + " names the NIC with MAC " + u.mac().get()
                            + ", which no NIC of this VM has: that configuration will not apply");
                }
                continue;
            }
            if (isGlob(u.name())) {
                globs.add(u);
            } else if (pinnable(u.name())) {
                byName.computeIfAbsent(u.name(), k -> new ArrayList<>()).add(u);
            } else if (u.name().matches("eth\\d+")) {
                notes.add(u.name() + ": a kernel name (" + u.describe() + "): NICs keep their order and MACs on KVM, "
                        + "so it stays");
            }
        }
        List<SourceNic> withMac = nics.stream().filter(n -> n.mac().isPresent()).toList();
        List<Pin> pins = new ArrayList<>();
        List<String> unresolved = new ArrayList<>();
        for (Map.Entry<String, List<NetworkConfigs.IfaceRef>> e : byName.entrySet()) {
            String name = e.getKey();
            List<NetworkConfigs.IfaceRef> refs = e.getValue();
            Optional<String> configMac = refs.stream().map(NetworkConfigs.IfaceRef::mac).flatMap(Optional::stream)
                    .findFirst();
            Optional<SourceNic> nic = Optional.empty();
            String why = null;
            if (configMac.isPresent()) {
                nic = withMac.stream().filter(n -> n.mac().get().equalsIgnoreCase(configMac.get())).findFirst();
                if (nic.isEmpty()) {
                    warnings.add(name + ": the configuration (" + refs.getFirst().describe() + ") names MAC "
                            + configMac.get() + ", which no NIC of this VM has: not pinned");
                    continue;
                }
                why = "the configuration names it with its MAC";
            }
            Matcher slot = SLOT_NAME.matcher(name);
            if (nic.isEmpty() && slot.matches()) {
                int s = Integer.parseInt(slot.group(1));
                List<SourceNic> bySlot = withMac.stream().filter(n -> slots.get(n.index()) != null
                        && slots.get(n.index()) == s).toList();
                if (bySlot.size() == 1) {
                    nic = Optional.of(bySlot.getFirst());
                    why = "its VMware PCI slot number is " + s;
                }
            }
            if (nic.isEmpty()) {
                unresolved.add(name);
                continue;
            }
            SourceNic n = nic.get();
            if (pins.stream().anyMatch(p -> p.mac().equalsIgnoreCase(n.mac().get()))) {
                warnings.add(name + ": NIC ethernet" + n.index() + " is already kept as "
                        + pins.stream().filter(p -> p.mac().equalsIgnoreCase(n.mac().get())).findFirst().get().name()
                        + ": not pinned twice");
                continue;
            }
            pins.add(new Pin(name, n.mac().get().toLowerCase(java.util.Locale.ROOT), n.index(), why, refs));
        }
        // what no evidence decided: one NIC left for one name, else the names' order against the NICs'
        List<SourceNic> free = new ArrayList<>(withMac.stream()
                .filter(n -> pins.stream().noneMatch(p -> p.mac().equalsIgnoreCase(n.mac().get()))).toList());
        if (unresolved.size() == 1 && free.size() == 1) {
            SourceNic n = free.getFirst();
            String name = unresolved.getFirst();
            pins.add(new Pin(name, n.mac().get().toLowerCase(java.util.Locale.ROOT), n.index(),
                    "it is the only name the configuration uses for a NIC, and the VM has one NIC left", byName.get(name)));
        } else if (!unresolved.isEmpty()) {
            List<String> sorted = new ArrayList<>(unresolved);
            sorted.sort(NicPins::byNumbers);
            if (sorted.size() == free.size()) {
                for (int i = 0; i < sorted.size(); i++) {
                    SourceNic n = free.get(i);
                    String name = sorted.get(i);
                    pins.add(new Pin(name, n.mac().get().toLowerCase(java.util.Locale.ROOT), n.index(),
                            "a guess: names in slot order matched to the VM's NICs in order", byName.get(name)));
                    warnings.add(name + " kept on NIC ethernet" + n.index() + " (" + n.mac().get() + ") by order: the "
                            + "source does not say which NIC it is; check it after conversion");
                }
            } else {
                for (String name : sorted) {
                    warnings.add(name + ": cannot tell which of the VM's NICs it is (" + free.size()
                            + " without a name, " + sorted.size() + " names): not pinned; on KVM it will have another "
                            + "name and " + byName.get(name).getFirst().describe() + " will not apply");
                }
            }
        }
        globPins(globs, withMac, slots, pins, warnings);
        pins.sort(java.util.Comparator.comparingInt(Pin::nicIndex));
        return new Decision(pins, warnings, notes);
    }

    /** Names NICs get on KVM without a pin: libvirt's q35 root port, QEMU's i440FX slot 3 with and without slot numbers. */
    private static final List<String> KVM_NAMES = List.of("enp1s0", "ens3", "enp0s3");

    static boolean isGlob(String name) {
        return name.contains("*") || name.contains("?") || name.contains("[");
    }

    /** A shell glob (fnmatch, as networkd's Name= and netplan's match: name: take them) as a regex. */
    static Pattern globRegex(String glob) {
        StringBuilder r = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            int close = c == '[' ? glob.indexOf(']', i + 2) : -1;
            if (c == '*') {
                r.append(".*");
            } else if (c == '?') {
                r.append('.');
            } else if (close > 0) {
                String set = glob.substring(i + 1, close);
                boolean negated = set.startsWith("!");
                r.append('[').append(negated ? "^" : "").append(set.substring(negated ? 1 : 0).replace("\\", "\\\\")
                        .replace("[", "\\[")).append(']');
                i = close;
            } else {
                r.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(r.toString());
    }

    /**
     * A pattern ({@code Name=ens*}) that matched the NIC's VMware name but not every name it may
     * get on KVM: the NIC keeps its VMware name ({@code ens} and its PCI slot number), so the
     * configuration still applies. NICs already kept under a name are left alone.
     */
    private static void globPins(List<NetworkConfigs.IfaceRef> globs, List<SourceNic> withMac,
                                 Map<Integer, Integer> slots, List<Pin> pins, List<String> warnings) {
        for (NetworkConfigs.IfaceRef g : globs) {
            Pattern p = globRegex(g.name());
            if (KVM_NAMES.stream().allMatch(n -> p.matcher(n).matches())) {
                continue; // matches the NIC on KVM whatever its name
            }
            for (SourceNic n : withMac) {
                Integer slot = slots.get(n.index());
                if (pins.stream().anyMatch(x -> x.mac().equalsIgnoreCase(n.mac().get()))) {
                    continue;
                }
                if (slot == null) {
                    if (p.matcher("ens192").matches()) {
                        warnings.add(g.name() + " (" + g.describe() + "): the source does not say NIC ethernet" + n.index()
                                + "'s PCI slot, so its VMware name is not known and not kept; on KVM its name may not "
                                + "match " + g.name());
                    }
                    continue;
                }
                String name = "ens" + slot;
                if (p.matcher(name).matches()) {
                    pins.add(new Pin(name, n.mac().get().toLowerCase(java.util.Locale.ROOT), n.index(),
                            "its VMware PCI slot number is " + slot + " and " + g.name() + " matches " + name
                                    + ", but not every name the NIC may have on KVM", List.of(g)));
                }
            }
        }
    }

    private static int byNumbers(String a, String b) {
        return Kernels.compareVersions(a, b);
    }

    /** The systemd .link file for a pin. */
    static String linkFile(Pin p) {
        return "# Written by jv2v when this guest was converted from VMware to KVM.\n"
                + "# Keeps the name " + p.name() + " for the NIC with this MAC: on KVM the NIC sits in another\n"
                + "# PCI slot, where predictable naming would give it another name, and the network\n"
                + "# configuration written for " + p.name() + " would not apply.\n"
                + "[Match]\n"
                + "MACAddress=" + p.mac() + "\n"
                + "\n"
                + "[Link]\n"
                + "Name=" + p.name() + "\n";
    }

    static String linkPath(Pin p) {
        return "/etc/systemd/network/10-jv2v-" + p.name() + ".link";
    }

    /** The same pins as udev rules, for guests whose udev is not systemd's. */
    static String udevRules(List<Pin> pins) {
        StringBuilder s = new StringBuilder("# Written by jv2v when this guest was converted from VMware to KVM:\n"
                + "# keeps each NIC's VMware name, found by its MAC (see the network configuration).\n");
        for (Pin p : pins) {
            s.append("SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"").append(p.mac())
                    .append("\", ATTR{type}==\"1\", NAME=\"").append(p.name()).append("\"\n");
        }
        return s.toString();
    }

    static final String UDEV_RULES_PATH = "/etc/udev/rules.d/70-jv2v-net-names.rules";
}
