package org.jv2v.inspect;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the converter needs to know about an installed Linux system, read from its whole tree
 * (every fstab filesystem mounted): kernels and their virtio drivers, the boot loader, the init
 * system, and how the network is configured.
 */
final class LinuxSystem {
    /** Walking a kernel's modules folder stops here: a real one has about 6000 files. */
    static final int MAX_MODULE_ENTRIES = 100_000;
    /** kernel/drivers/net/ethernet/intel/ice is 6 deep; 16 leaves room without allowing abuse. */
    static final int MAX_MODULE_DEPTH = 16;
    /** More kernels than this in /boot is not a real /boot. */
    static final int MAX_KERNELS = 256;

    private static final Pattern MODULE = Pattern.compile("^(.+)\\.k?o(?:\\.(?:xz|zst|gz))?$");
    private static final Pattern INITRD = Pattern.compile("^initr(?:d|amfs)[-.].*$");

    /** Drivers the converter cares about: module name and the kernel config symbol that builds it. */
    static final Map<String, String> DRIVERS = orderedMap(
            "virtio_blk", "VIRTIO_BLK", "virtio_net", "VIRTIO_NET", "virtio_scsi", "SCSI_VIRTIO",
            "virtio_pci", "VIRTIO_PCI", "virtio_console", "VIRTIO_CONSOLE", "virtio_rng", "HW_RANDOM_VIRTIO",
            "virtio_balloon", "VIRTIO_BALLOON", "vmw_vsock_virtio_transport", "VIRTIO_VSOCKETS",
            "pvpanic", "PVPANIC");

    private LinuxSystem() {}

    private static Map<String, String> orderedMap(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    // ---- kernels ----

    static List<Kernel> kernels(GuestFiles g, List<String> notes) throws IOException {
        List<DirEntry> boot = g.list("/boot");
        List<String> names = boot.stream().map(DirEntry::name).filter(n -> n.startsWith("vmlinuz-")).sorted().toList();
        if (names.size() > MAX_KERNELS) {
            notes.add("/boot: " + names.size() + " kernels, only the first " + MAX_KERNELS + " looked at");
            names = names.subList(0, MAX_KERNELS);
        }
        List<Kernel> out = new ArrayList<>();
        for (String name : names) {
            String vmlinuz = "/boot/" + name;
            if (!g.isFileFollowing(vmlinuz)) {
                continue;
            }
            String version = name.substring("vmlinuz-".length());
            Optional<String> initrd = boot.stream().map(DirEntry::name)
                    .filter(n -> INITRD.matcher(n).matches() && n.contains(version) && !n.contains("kdump"))
                    .min(Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder()))
                    .map(n -> "/boot/" + n);
            String configPath = "/boot/config-" + version;
            Optional<String> config = g.isFileFollowing(configPath) ? Optional.of(configPath) : Optional.empty();
            String modPath = "/lib/modules/" + version;
            boolean hasModules = g.isDirFollowing(modPath);
            Set<String> modules = hasModules ? moduleNames(g, modPath, notes) : Set.of();
            Set<String> builtin = hasModules ? builtinNames(g, modPath + "/modules.builtin") : Set.of();
            Map<String, String> kconfig = config.isPresent() ? kernelConfig(g, configPath) : Map.of();
            Map<String, String> drivers = new LinkedHashMap<>();
            for (Map.Entry<String, String> d : DRIVERS.entrySet()) {
                String how = builtin.contains(d.getKey()) ? "builtin"
                        : modules.contains(d.getKey()) ? "module"
                        : switch (kconfig.getOrDefault(d.getValue(), "")) {
                            case "y" -> "builtin";
                            case "m" -> "module";
                            default -> null;
                        };
                if (how != null) {
                    drivers.put(d.getKey(), how);
                }
            }
            out.add(new Kernel(version, vmlinuz, initrd, config, hasModules ? Optional.of(modPath) : Optional.empty(),
                    modules.size(), drivers));
        }
        return out;
    }

    /** Module names (dashes as underscores, as the kernel names them) of every module file under {@code dir}. */
    static Set<String> moduleNames(GuestFiles g, String dir, List<String> notes) throws IOException {
        Set<String> names = new HashSet<>();
        Deque<String[]> todo = new ArrayDeque<>(); // {path, depth}
        todo.push(new String[] {dir, "0"});
        int entries = 0;
        while (!todo.isEmpty()) {
            String[] cur = todo.pop();
            int depth = Integer.parseInt(cur[1]);
            for (DirEntry e : g.list(cur[0])) {
                if (++entries > MAX_MODULE_ENTRIES) {
                    notes.add(dir + ": more than " + MAX_MODULE_ENTRIES + " entries: module list incomplete");
                    return names;
                }
                if (e.kind() == FileKind.DIRECTORY) {
                    if (depth < MAX_MODULE_DEPTH) {
                        todo.push(new String[] {cur[0] + "/" + e.name(), Integer.toString(depth + 1)});
                    }
                } else if (e.kind() == FileKind.REGULAR || e.kind() == FileKind.SYMLINK) {
                    var m = MODULE.matcher(e.name());
                    if (m.matches()) {
                        names.add(m.group(1).replace('-', '_'));
                    }
                }
            }
        }
        return names;
    }

    static Set<String> builtinNames(GuestFiles g, String file) throws IOException {
        Set<String> names = new HashSet<>();
        Optional<String> text = g.readText(file);
        for (String line : text.orElse("").split("\n")) {
            String base = line.substring(line.lastIndexOf('/') + 1).strip();
            var m = MODULE.matcher(base);
            if (m.matches()) {
                names.add(m.group(1).replace('-', '_'));
            }
        }
        return names;
    }

    /** CONFIG_X=y|m lines of a kernel config, keyed without the CONFIG_ prefix. */
    static Map<String, String> kernelConfig(GuestFiles g, String file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : g.readText(file).orElse("").split("\n")) {
            if (line.startsWith("CONFIG_")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    out.put(line.substring(7, eq), line.substring(eq + 1).strip());
                }
            }
        }
        return out;
    }

    // ---- boot loader ----

    /** The boot loader's configuration: looked for where the firmware would start it, as virt-v2v does. */
    static Optional<Bootloader> bootloader(GuestFiles g, FirmwareInfo.Kind firmware) throws IOException {
        List<String> efiConfigs = new ArrayList<>();
        for (String esp : List.of("/boot/efi", "/efi", "/boot")) {
            for (DirEntry vendor : g.list(esp + "/EFI")) {
                if (vendor.kind() == FileKind.DIRECTORY) {
                    String cfg = esp + "/EFI/" + vendor.name() + "/grub.cfg";
                    if (g.isFileFollowing(cfg)) {
                        efiConfigs.add(cfg);
                    }
                }
            }
        }
        Optional<String> sdboot = first(g, "/boot/efi/loader/loader.conf", "/efi/loader/loader.conf",
                "/boot/loader/loader.conf");
        Optional<String> grub2 = first(g, "/boot/grub2/grub.cfg", "/boot/grub/grub.cfg");
        Optional<String> legacy = first(g, "/boot/grub/menu.lst", "/boot/grub/grub.conf", "/boot/grub2/menu.lst");
        if (firmware == FirmwareInfo.Kind.UEFI) {
            if (!efiConfigs.isEmpty()) {
                return Optional.of(new Bootloader("grub2", "efi", efiConfigs.getFirst()));
            }
            if (sdboot.isPresent()) {
                return Optional.of(new Bootloader("systemd-boot", "efi", sdboot.get()));
            }
        }
        if (grub2.isPresent()) {
            String dir = grub2.get().substring(0, grub2.get().lastIndexOf('/'));
            boolean bios = g.isDirFollowing(dir + "/i386-pc");
            boolean efi = g.isDirFollowing(dir + "/x86_64-efi") || g.isDirFollowing(dir + "/arm64-efi");
            String flavour = bios ? "bios" : efi ? "efi" : firmware == FirmwareInfo.Kind.UEFI ? "efi" : "bios";
            return Optional.of(new Bootloader("grub2", flavour, grub2.get()));
        }
        if (legacy.isPresent()) {
            return Optional.of(new Bootloader("grub-legacy", "bios", legacy.get()));
        }
        if (!efiConfigs.isEmpty()) {
            return Optional.of(new Bootloader("grub2", "efi", efiConfigs.getFirst()));
        }
        return sdboot.map(s -> new Bootloader("systemd-boot", "efi", s));
    }

    private static Optional<String> first(GuestFiles g, String... paths) throws IOException {
        for (String p : paths) {
            if (g.isFileFollowing(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    // ---- init ----

    static String initSystem(GuestFiles g) throws IOException {
        Optional<String> init = g.realPath("/sbin/init").filter(p -> existsFile(g, p));
        if (init.isPresent() && init.get().contains("systemd")) {
            return "systemd";
        }
        if (g.isFileFollowing("/sbin/openrc") || g.isFileFollowing("/usr/sbin/openrc")) {
            return "openrc";
        }
        if (g.isFileFollowing("/sbin/initctl") && g.isDirFollowing("/etc/init")) {
            return "upstart";
        }
        if (init.isPresent() && init.get().endsWith("/busybox")) {
            return "busybox";
        }
        if (init.isPresent() && g.isFileFollowing("/etc/inittab")) {
            return "sysvinit";
        }
        if (init.isEmpty() && (g.isFileFollowing("/usr/lib/systemd/systemd") || g.isFileFollowing("/lib/systemd/systemd"))) {
            return "systemd";
        }
        return "unknown";
    }

    private static boolean existsFile(GuestFiles g, String p) {
        try {
            return g.isFileFollowing(p);
        } catch (IOException e) {
            return false;
        }
    }

    // ---- network ----

    static List<NetworkConfig> network(GuestFiles g) throws IOException {
        List<NetworkConfig> out = new ArrayList<>();
        if (g.isFileFollowing("/etc/network/interfaces")) {
            out.add(new NetworkConfig("ifupdown", "/etc/network/interfaces"));
        }
        filesIn(g, "/etc/netplan", n -> n.endsWith(".yaml") || n.endsWith(".yml"))
                .ifPresent(f -> out.add(new NetworkConfig("netplan", f)));
        Optional<String> nm = filesIn(g, "/etc/NetworkManager/system-connections", n -> true);
        if (nm.isPresent()) {
            out.add(new NetworkConfig("networkmanager", nm.get()));
        } else {
            Optional<String> bin = first(g, "/usr/sbin/NetworkManager", "/usr/bin/NetworkManager");
            bin.ifPresent(b -> out.add(new NetworkConfig("networkmanager", b)));
        }
        filesIn(g, "/etc/sysconfig/network-scripts", n -> n.startsWith("ifcfg-") && !n.equals("ifcfg-lo"))
                .ifPresent(f -> out.add(new NetworkConfig("ifcfg", f)));
        filesIn(g, "/etc/sysconfig/network", n -> n.startsWith("ifcfg-") && !n.equals("ifcfg-lo"))
                .ifPresent(f -> out.add(new NetworkConfig("wicked", f)));
        filesIn(g, "/etc/systemd/network", n -> n.endsWith(".network"))
                .ifPresent(f -> out.add(new NetworkConfig("systemd-networkd", f)));
        return out;
    }

    /** The first (by name) regular file in {@code dir} whose name passes {@code keep}. */
    private static Optional<String> filesIn(GuestFiles g, String dir, java.util.function.Predicate<String> keep)
            throws IOException {
        List<String> names = g.list(dir).stream().filter(e -> e.kind() == FileKind.REGULAR || e.kind() == FileKind.SYMLINK)
                .map(DirEntry::name).filter(keep).sorted().toList();
        return names.isEmpty() ? Optional.empty() : Optional.of(dir + "/" + names.getFirst());
    }
}
