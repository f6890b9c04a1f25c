package org.jv2v.convert.linux;

import org.jv2v.convert.linux.Kernel.Availability;
import org.jv2v.target.TargetBus;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the guest's kernels (/boot/vmlinuz-VERSION with /lib/modules/VERSION), what virtio
 * drivers each has (modules.dep and modules.builtin, or the kernel's config), and chooses the one
 * to boot on KVM as virt-v2v does.
 */
final class Kernels {
    /** modules.dep of a distribution kernel is under 1 MiB; 32 MiB is far beyond any. */
    static final int MAX_MODULES_DEP = 32 << 20;
    /** /boot/config-* is ~300 KiB. */
    static final int MAX_CONFIG = 8 << 20;

    private static final Pattern MODULE_FILE = Pattern.compile("(?:^|/)([^/]+)\\.ko(?:\\.(?:xz|zst|gz))?$");
    private static final Map<String, String> CONFIG_OF = Map.of("virtio_pci", "VIRTIO_PCI", "virtio_blk",
            "VIRTIO_BLK", "virtio_scsi", "SCSI_VIRTIO", "sd_mod", "BLK_DEV_SD", "virtio_net", "VIRTIO_NET",
            "virtio_balloon", "VIRTIO_BALLOON", "virtio_rng", "HW_RANDOM_VIRTIO", "virtio_console", "VIRTIO_CONSOLE");

    private Kernels() {}

    /** Kernels in /boot whose module folder exists; {@code notes} gets the ones skipped and why. */
    static List<Kernel> find(GuestFiles files, Distro distro, List<String> notes) throws IOException {
        List<Kernel> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String name : files.list("/boot")) {
            String version = GrubCfg.versionOf(name);
            if (version.isEmpty() || name.startsWith("kernel-") && !files.isFile("/boot/" + name)
                    || isSaveFile(name) || name.endsWith(".hmac") || name.endsWith(".sig") || !seen.add(version)) {
                continue;
            }
            String vmlinuz = "/boot/" + name;
            if (!files.isFile(vmlinuz)) {
                continue;
            }
            String modules = "/lib/modules/" + version;
            if (!files.isDirectory(modules)) {
                if (!version.contains("rescue")) {
                    notes.add(vmlinuz + " has no " + modules + ": not a candidate");
                }
                continue;
            }
            Optional<String> config = files.readText("/boot/config-" + version)
                    .or(() -> readUnchecked(files, modules + "/config"));
            Map<String, Availability> drivers = drivers(files, modules, config);
            boolean xen = version.endsWith("xen") || config.map(c -> configValue(c, "X86_XEN").equals("y")
                    || configValue(c, "X86_64_XEN").equals("y")).orElse(false);
            out.add(new Kernel(version, vmlinuz, initrd(files, distro, version), modules, drivers, isDebug(version),
                    xen));
        }
        return out;
    }

    private static Optional<String> readUnchecked(GuestFiles files, String path) {
        try {
            return files.readText(path);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static boolean isSaveFile(String name) {
        return name.endsWith(".rpmsave") || name.endsWith(".rpmnew") || name.endsWith(".rpmorig")
                || name.endsWith(".dpkg-old") || name.endsWith(".dpkg-new") || name.endsWith(".dpkg-dist")
                || name.endsWith(".dpkg-bak") || name.endsWith("~") || name.endsWith(".old") || name.endsWith(".bak");
    }

    static boolean isDebug(String version) {
        return version.endsWith("+debug") || version.endsWith(".debug") || version.endsWith("debug")
                || version.contains("-debug") || version.endsWith("-dbg");
    }

    static Optional<String> initrd(GuestFiles files, Distro distro, String version) throws IOException {
        List<String> names = distro.family() == Distro.Family.DEBIAN
                ? List.of("initrd.img-" + version, "initramfs-" + version + ".img")
                : List.of("initramfs-" + version + ".img", "initrd-" + version + ".img", "initrd-" + version,
                        "initrd.img-" + version, "initramfs-" + version);
        for (String n : names) {
            if (files.isFile("/boot/" + n)) {
                return Optional.of("/boot/" + n);
            }
        }
        return Optional.empty();
    }

    static Map<String, Availability> drivers(GuestFiles files, String modulesDir, Optional<String> config)
            throws IOException {
        Map<String, Availability> out = new HashMap<>();
        Optional<String> dep = files.read(modulesDir + "/modules.dep", MAX_MODULES_DEP).map(TextFile::text);
        Optional<String> builtin = files.read(modulesDir + "/modules.builtin", MAX_MODULES_DEP).map(TextFile::text);
        Set<String> modules = dep.map(Kernels::moduleNames).orElse(Set.of());
        Set<String> builtins = builtin.map(Kernels::moduleNames).orElse(Set.of());
        for (String d : Kernel.DRIVERS) {
            Availability a = Availability.ABSENT;
            if (builtins.contains(d)) {
                a = Availability.BUILTIN;
            } else if (modules.contains(d)) {
                a = Availability.MODULE;
            } else if (dep.isEmpty() && config.isPresent()) {
                // no modules.dep (depmod never ran): the kernel's config says what was built
                String v = configValue(config.get(), CONFIG_OF.get(d));
                a = v.equals("y") ? Availability.BUILTIN : v.equals("m") ? Availability.MODULE : Availability.ABSENT;
            } else if (config.isPresent() && configValue(config.get(), CONFIG_OF.get(d)).equals("y")) {
                a = Availability.BUILTIN;
            }
            out.put(d, a);
        }
        return out;
    }

    /** Module names (dashes as underscores) of the paths at the start of each line of modules.dep/builtin. */
    static Set<String> moduleNames(String text) {
        Set<String> out = new HashSet<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            String path = (colon >= 0 ? line.substring(0, colon) : line).strip();
            Matcher m = MODULE_FILE.matcher(path);
            if (m.find()) {
                out.add(m.group(1).replace('-', '_'));
            }
        }
        return out;
    }

    static String configValue(String config, String key) {
        Matcher m = Pattern.compile("(?m)^CONFIG_" + key + "=(\\S+)").matcher(config);
        return m.find() ? m.group(1) : "";
    }

    /** rpmvercmp-like: digits compare as numbers, letters as text, segment by segment. */
    static int compareVersions(String a, String b) {
        Matcher ma = Pattern.compile("\\d+|[A-Za-z]+").matcher(a);
        Matcher mb = Pattern.compile("\\d+|[A-Za-z]+").matcher(b);
        while (true) {
            boolean fa = ma.find();
            boolean fb = mb.find();
            if (!fa || !fb) {
                return Boolean.compare(fa, fb);
            }
            String sa = ma.group();
            String sb = mb.group();
            boolean da = Character.isDigit(sa.charAt(0));
            boolean db = Character.isDigit(sb.charAt(0));
            int c;
            if (da && db) {
                String ta = sa.replaceFirst("^0+(?=.)", "");
                String tb = sb.replaceFirst("^0+(?=.)", "");
                c = ta.length() != tb.length() ? Integer.compare(ta.length(), tb.length()) : ta.compareTo(tb);
            } else if (da != db) {
                c = da ? 1 : -1; // numbers are newer than letters, as rpm has it
            } else {
                c = sa.compareTo(sb);
            }
            if (c != 0) {
                return c;
            }
        }
    }

    /**
     * The kernel to boot on KVM: one that can reach its disk on {@code bus} (or at least on some
     * virtio bus), not Xen-only, preferring non-debug builds, then the newest; among those offered
     * by the boot loader when it lists any. Empty when no kernel has a virtio disk driver.
     */
    static Optional<Kernel> choose(List<Kernel> kernels, TargetBus bus, Set<String> offered) {
        Comparator<Kernel> best = Comparator
                .comparing((Kernel k) -> offered.isEmpty() || offered.contains(k.version()))
                .thenComparing(k -> k.canBootOn(bus))
                .thenComparing(k -> !k.debug())
                .thenComparing(Kernel::version, Kernels::compareVersions);
        return kernels.stream().filter(k -> !k.xenOnly() && k.hasVirtioDisk()).max(best);
    }
}
