package org.jv2v.convert.linux;

import org.jv2v.Jv2vException;
import org.jv2v.model.Firmware;
import org.jv2v.target.GuestCapabilities;
import org.jv2v.target.TargetBus;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Plans the conversion of a Linux guest to KVM, reading its files and changing nothing: choose the
 * kernel (the newest non-debug one with virtio drivers, made the default boot entry), decide what
 * the guest can drive, carry disk names to the target bus, add the virtio disk drivers to the
 * initramfs, give UEFI guests the fallback boot path, keep the NICs' names, and disable VMware's
 * tools. The result, a {@link ConversionPlan}, is printed by {@code --plan} and applied by
 * {@link PlanApplier}.
 *
 * <p>Guests it refuses, before anything is copied, with what to do: no kernel with virtio drivers;
 * an unknown layout (no release file, no boot loader it knows). {@link NothingToConvertException}
 * when the disks hold no bootable Linux at all.
 */
public final class LinuxConverter {
    private final InitramfsUpdater initramfs;

    public LinuxConverter(InitramfsUpdater initramfs) {
        this.initramfs = initramfs;
    }

    /** The guest's name for itself ("Debian GNU/Linux 12 (bookworm)"), from its release files. */
    public static Optional<String> product(GuestFiles files) throws IOException {
        return Distro.detect(files).map(Distro::product);
    }

    public ConversionPlan plan(GuestFiles files, ConversionInput input) throws IOException {
        return new Planning(files, input).run();
    }

    /** The boot loader found, and its files. */
    private record Boot(String description, List<String> grubCfgs, Optional<String> mainCfg, boolean bls,
                        List<String> blsEntries, Optional<String> legacyCfg) {}

    private final class Planning {
        final GuestFiles files;
        final ConversionInput input;
        final Changes changes;
        final List<String> summary = new ArrayList<>();

        Planning(GuestFiles files, ConversionInput input) {
            this.files = files;
            this.input = input;
            this.changes = new Changes(files);
        }

        ConversionPlan run() throws IOException {
            Distro distro = Distro.detect(files).orElseThrow(() -> new NothingToConvertException(
                    "no Linux release file (/etc/os-release, /etc/redhat-release, /etc/debian_version) on the root "
                            + "filesystem"));
            List<Kernel> kernels = Kernels.find(files, distro, changes.notes);
            Boot boot = detectBoot();
            if (kernels.isEmpty()) {
                if (boot.grubCfgs().isEmpty() && boot.legacyCfg().isEmpty()) {
                    throw new NothingToConvertException(distro.product() + " has no kernel in /boot and no boot loader: "
                            + "not a bootable installation");
                }
                throw new Jv2vException("cannot convert " + distro.product() + ": its boot loader is there but no "
                        + "kernel in /boot has its modules in /lib/modules. If /boot or /usr is a separate filesystem, "
                        + "check that fstab names it so that jv2v can find it");
            }
            if (boot.mainCfg().isEmpty() && boot.legacyCfg().isEmpty() && !boot.bls()) {
                throw new Jv2vException("cannot convert " + distro.product() + ": no boot loader configuration jv2v "
                        + "knows (looked for /boot/grub/grub.cfg, /boot/grub2/grub.cfg, /boot/efi/EFI/*/grub.cfg, "
                        + "/boot/loader/entries and legacy GRUB's menu.lst/grub.conf). Only GRUB is supported");
            }

            // ---- kernel
            TargetBus wanted = input.blockDriver().equals("virtio-scsi") ? TargetBus.VIRTIO_SCSI : TargetBus.VIRTIO_BLK;
            Set<String> offered = offeredKernels(boot);
            Optional<Kernel> chosen = Kernels.choose(kernels, wanted, offered);
            if (chosen.isEmpty()) {
                StringBuilder which = new StringBuilder();
                for (Kernel k : kernels) {
                    which.append(which.isEmpty() ? "" : "; ").append(k.version()).append(": ")
                            .append(k.xenOnly() ? "Xen-only" : k.describeVirtio());
                }
                throw new Jv2vException("cannot convert " + distro.product() + ": no kernel in the guest has a virtio "
                        + "disk driver (" + which + "), so it could not find its disks on KVM. Install a kernel with "
                        + "virtio drivers (virtio_pci, virtio_blk; the distribution's standard kernel has them) while "
                        + "the guest still runs on VMware, shut it down cleanly, and convert again");
            }
            Kernel kernel = chosen.get();
            if (!offered.isEmpty() && !offered.contains(kernel.version())) {
                throw new Jv2vException("cannot convert " + distro.product() + ": kernel " + kernel.version()
                        + " has virtio drivers but the boot menu (" + boot.description() + ") has no entry for it, "
                        + "and the kernels it offers (" + String.join(", ", offered) + ") have none. Regenerate the "
                        + "boot menu in the guest (update-grub or grub2-mkconfig), shut it down cleanly, and convert "
                        + "again");
            }

            // ---- what the guest can drive after conversion
            boolean blk = diskReady(kernel, TargetBus.VIRTIO_BLK);
            boolean scsi = diskReady(kernel, TargetBus.VIRTIO_SCSI);
            boolean net = kernel.hasVirtioNet();
            boolean extras = kernel.driver("virtio_balloon") != Kernel.Availability.ABSENT
                    || kernel.driver("virtio_rng") != Kernel.Availability.ABSENT;
            GuestCapabilities caps = new GuestCapabilities(blk, scsi, net, extras, true, "conversion");
            boolean virtioDisks = wanted == TargetBus.VIRTIO_SCSI ? scsi : blk;
            Optional<TargetBus> diskBus = virtioDisks ? Optional.of(wanted) : Optional.empty();
            summary.add("kernel: " + kernel.version() + " (" + kernel.describeVirtio() + ")");
            summary.add("boot loader: " + boot.description());
            if (virtioDisks) {
                summary.add("disks: " + wanted.label());
            } else {
                String why = !kernel.canBootOn(wanted) ? "kernel " + kernel.version() + " has no " + wanted.label()
                        + " driver" : kernel.initrd().isEmpty() ? "kernel " + kernel.version() + " has no initramfs to "
                        + "add the " + wanted.label() + " driver to" : initramfs.unavailableReason()
                        + ", so the " + wanted.label() + " driver cannot be added to the initramfs";
                summary.add("disks: stay on the controllers the guest drives now: " + why);
                changes.warnings.add("the disks are not moved to " + wanted.label() + ": " + why);
                if (wanted == TargetBus.VIRTIO_SCSI && blk) {
                    changes.warnings.add("the guest could use virtio-blk: convert with --block-driver virtio-blk");
                }
            }
            summary.add("network: " + (net ? "virtio-net" : "the NIC model the guest drives now (kernel "
                    + kernel.version() + " has no virtio_net)"));

            // ---- edits
            DeviceMap map = virtioDisks ? DeviceMap.of(input.disks(), wanted) : DeviceMap.none();
            renameDisks(map, boot);
            setDefaultKernel(boot, kernel);
            // the NICs' names are decided first: the initramfs may have to carry their .link files
            List<String> netWarnings = new ArrayList<>();
            NicPins.Decision pins = NicPins.decide(NetworkConfigs.find(files, netWarnings), input.nics(),
                    input.nicPciSlots());
            boolean systemdUdev = files.isFile("/lib/systemd/systemd-udevd")
                    || files.isFile("/usr/lib/systemd/systemd-udevd");
            rebuildInitramfs(kernel, virtioDisks, net && systemdUdev ? pins.pins() : List.of());
            efiFallback(distro, boot);
            network(net, netWarnings, pins, systemdUdev);
            vmwareLeftovers();
            staleCaches(map);
            return new ConversionPlan(distro, boot.description(), kernel, diskBus, caps, summary, changes.edits(),
                    changes.notes, changes.warnings);
        }

        /** The drivers for {@code bus} are built in, or can be added to the kernel's initramfs. */
        boolean diskReady(Kernel k, TargetBus bus) {
            if (!k.canBootOn(bus)) {
                return false;
            }
            return k.bootModules(bus).isEmpty() || k.initrd().isPresent() && initramfs.available();
        }

        // ------------------------------------------------------------ boot loader

        Boot detectBoot() throws IOException {
            List<String> cfgs = new ArrayList<>();
            Set<String> seen = new LinkedHashSet<>();
            List<String> candidates = new ArrayList<>(List.of("/boot/grub2/grub.cfg", "/boot/grub/grub.cfg"));
            for (String d : files.list("/boot/efi/EFI")) {
                candidates.add("/boot/efi/EFI/" + d + "/grub.cfg");
            }
            for (String c : candidates) {
                if (files.isFile(c) && seen.add(files.resolve(c))) {
                    cfgs.add(files.resolve(c));
                }
            }
            Optional<String> main = Optional.empty();
            for (String c : cfgs) {
                if (GrubCfg.parse(files.readText(c).orElse("")).isMenu()) {
                    main = Optional.of(c);
                    break;
                }
            }
            List<String> entries = new ArrayList<>();
            for (String n : files.list("/boot/loader/entries")) {
                if (n.endsWith(".conf")) {
                    entries.add("/boot/loader/entries/" + n);
                }
            }
            boolean blsEnabled = files.readText("/etc/default/grub")
                    .flatMap(t -> ShellVars.get(t, "GRUB_ENABLE_BLSCFG")).orElse("false").equals("true");
            boolean bls = !entries.isEmpty() && (main.isPresent()
                    ? GrubCfg.parse(files.readText(main.get()).orElse("")).usesBls() : blsEnabled);
            Optional<String> legacy = Optional.empty();
            if (main.isEmpty()) {
                List<String> legacyCandidates = new ArrayList<>(List.of("/boot/grub/menu.lst", "/boot/grub/grub.conf"));
                for (String d : files.list("/boot/efi/EFI")) {
                    legacyCandidates.add("/boot/efi/EFI/" + d + "/grub.conf");
                }
                for (String c : legacyCandidates) {
                    if (files.isFile(c)) {
                        legacy = Optional.of(files.resolve(c));
                        break;
                    }
                }
            }
            String fw = input.firmware() == Firmware.UEFI ? "UEFI" : "BIOS";
            String description = main.isPresent() ? "GRUB 2 (" + fw + "), " + main.get()
                    + (bls ? " with BLS entries in /boot/loader/entries" : "")
                    : legacy.map(l -> "legacy GRUB (" + fw + "), " + l).orElse("none");
            return new Boot(description, cfgs, main, bls, entries, legacy);
        }

        Set<String> offeredKernels(Boot boot) throws IOException {
            Set<String> out = new LinkedHashSet<>();
            if (boot.bls()) {
                for (String e : boot.blsEntries()) {
                    BlsEntry b = bls(e);
                    if (!b.rescue()) {
                        b.kernelVersion().ifPresent(out::add);
                    }
                }
            }
            if (boot.mainCfg().isPresent()) {
                for (GrubCfg.Entry e : grubCfg(boot.mainCfg().get()).bootEntries()) {
                    e.kernelVersion().ifPresent(out::add);
                }
            }
            if (boot.legacyCfg().isPresent()) {
                for (GrubLegacy.Entry e : GrubLegacy.parse(changes.text(boot.legacyCfg().get()).orElse("")).entries()) {
                    e.kernelVersion().ifPresent(out::add);
                }
            }
            return out;
        }

        GrubCfg grubCfg(String path) throws IOException {
            return GrubCfg.parse(changes.text(path).orElse(""));
        }

        BlsEntry bls(String path) throws IOException {
            String name = GuestFiles.name(path);
            return BlsEntry.parse(name.substring(0, name.length() - ".conf".length()), changes.text(path).orElse(""));
        }

        Optional<String> grubenvPath(Boot boot) throws IOException {
            if (boot.mainCfg().isEmpty()) {
                return Optional.empty();
            }
            String dir = GuestFiles.parent(boot.mainCfg().get());
            for (String d : List.of(dir, "/boot/grub2", "/boot/grub")) {
                if (files.exists(d + "/grubenv")) {
                    return Optional.of(d + "/grubenv");
                }
            }
            return Optional.of(dir + "/grubenv");
        }

        Optional<GrubEnv> grubenv(String path) throws IOException {
            Optional<String> t = changes.text(path);
            return t.map(s -> GrubEnv.parse(TextFile.bytes(s), path));
        }

        void renameDisks(DeviceMap map, Boot boot) throws IOException {
            if (!map.renamesAnything()) {
                return;
            }
            changes.edit("/etc/fstab", t -> DeviceRefs.fstab(t, map, "/etc/fstab"));
            changes.edit("/etc/crypttab", t -> DeviceRefs.crypttab(t, map, "/etc/crypttab"));
            List<String> shellFiles = new ArrayList<>(List.of("/etc/default/grub", "/etc/sysconfig/grub"));
            for (String n : files.list("/etc/default/grub.d")) {
                if (n.endsWith(".cfg")) {
                    shellFiles.add("/etc/default/grub.d/" + n);
                }
            }
            shellFiles.addAll(List.of("/etc/initramfs-tools/conf.d/resume", "/etc/uswsusp.conf",
                    "/boot/grub/device.map", "/boot/grub2/device.map"));
            for (String f : shellFiles) {
                changes.edit(f, t -> DeviceRefs.everyLine(t, map, f));
            }
            for (String c : boot.grubCfgs()) {
                changes.edit(c, t -> GrubCfg.parse(t).remapDevices(map, c));
            }
            for (String e : boot.blsEntries()) {
                changes.edit(e, t -> BlsEntry.remapDevices(t, map, e));
            }
            boot.legacyCfg().ifPresent(l -> uncheck(() -> changes.edit(l, t -> GrubLegacy.parse(t).remapDevices(map, l))));
            Optional<String> env = grubenvPath(boot);
            if (env.isPresent() && files.exists(env.get())) {
                Optional<GrubEnv> g = grubenv(env.get());
                Optional<String> opts = g.flatMap(x -> x.get("kernelopts"));
                if (opts.isPresent()) {
                    DeviceMap.Remapped r = map.remap(opts.get());
                    if (r.changed()) {
                        List<String> reasons = r.changes().stream().map(c -> "kernelopts: " + c.describe()).toList();
                        changes.replace(env.get(), TextFile.text(g.get().with("kernelopts", r.text()).bytes(env.get())),
                                reasons);
                    }
                }
            }
            if (files.exists("/etc/initramfs-tools/conf.d/resume") || files.exists("/etc/uswsusp.conf")) {
                changes.notes.add("the initramfs keeps its own copy of the resume device; the resume= on the kernel "
                        + "command line, rewritten here, takes precedence");
            }
        }

        void setDefaultKernel(Boot boot, Kernel kernel) throws IOException {
            String why = "boot " + kernel.version() + ", the newest kernel with virtio drivers"
                    + (kernel.debug() ? "" : " that is not a debug build");
            if (boot.bls() && boot.mainCfg().map(c -> uncheckedCfg(c).usesBls()).orElse(true)) {
                List<BlsEntry> entries = new ArrayList<>();
                for (String e : boot.blsEntries()) {
                    entries.add(bls(e));
                }
                Optional<String> envPath = grubenvPath(boot);
                Optional<String> saved = envPath.isPresent() && files.exists(envPath.get())
                        ? grubenv(envPath.get()).flatMap(g -> g.get("saved_entry")) : Optional.empty();
                Optional<BlsEntry> current = saved.flatMap(s -> entries.stream().filter(e -> e.id().equals(s)).findFirst())
                        .or(() -> entries.stream().filter(e -> !e.rescue())
                                .max((a, b) -> Kernels.compareVersions(a.version(), b.version())));
                if (current.isPresent() && current.get().version().equals(kernel.version())) {
                    changes.notes.add("kernel " + kernel.version() + " is already the default boot entry");
                    return;
                }
                BlsEntry target = entries.stream().filter(e -> e.version().equals(kernel.version()) && !e.rescue())
                        .findFirst().orElseThrow();
                setSavedEntry(envPath.orElseThrow(), target.id(), why);
                return;
            }
            if (boot.mainCfg().isPresent()) {
                String path = boot.mainCfg().get();
                GrubCfg cfg = grubCfg(path);
                GrubCfg.DefaultRule rule = cfg.defaultRule();
                Optional<String> envPath = grubenvPath(boot);
                Optional<GrubCfg.Entry> current;
                if (rule.saved()) {
                    Optional<String> saved = envPath.isPresent() && files.exists(envPath.get())
                            ? grubenv(envPath.get()).flatMap(g -> g.get("saved_entry")) : Optional.empty();
                    current = saved.flatMap(cfg::select).or(cfg::first);
                } else {
                    current = rule.literal().flatMap(cfg::select).or(cfg::first);
                }
                if (current.flatMap(GrubCfg.Entry::kernelVersion).orElse("").equals(kernel.version())) {
                    changes.notes.add("kernel " + kernel.version() + " is already the default boot entry");
                    return;
                }
                GrubCfg.Entry target = cfg.entryFor(kernel.version()).orElseThrow();
                if (rule.saved()) {
                    setSavedEntry(envPath.orElseThrow(), target.selector(), why);
                } else if (rule.literal().isPresent()) {
                    changes.edit(path, t -> GrubCfg.parse(t).setLiteralDefault(target.selector(), why));
                    Optional<String> def = changes.text("/etc/default/grub").flatMap(t -> ShellVars.get(t, "GRUB_DEFAULT"));
                    if (def.isPresent() && !def.get().equals("saved")) {
                        changes.edit("/etc/default/grub", t -> ShellVars.set(t, "GRUB_DEFAULT", target.selector(),
                                why + "; keeps it when grub-mkconfig runs again"));
                    }
                } else {
                    changes.warnings.add(path + " sets no default entry: the first entry boots, which is not kernel "
                            + kernel.version() + "; choose it in the boot menu");
                }
                return;
            }
            if (boot.legacyCfg().isPresent()) {
                String path = boot.legacyCfg().get();
                GrubLegacy cfg = GrubLegacy.parse(changes.text(path).orElse(""));
                if (cfg.defaultEntry().flatMap(GrubLegacy.Entry::kernelVersion).orElse("").equals(kernel.version())) {
                    changes.notes.add("kernel " + kernel.version() + " is already the default boot entry");
                    return;
                }
                int index = cfg.entryFor(kernel.version()).orElseThrow().index();
                changes.edit(path, t -> GrubLegacy.parse(t).setDefault(index, why));
            }
        }

        GrubCfg uncheckedCfg(String path) {
            try {
                return grubCfg(path);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        void setSavedEntry(String envPath, String value, String why) throws IOException {
            List<String> reasons = List.of("saved_entry=" + value + " (" + why + ")");
            if (files.exists(envPath)) {
                GrubEnv env = grubenv(envPath).orElseThrow();
                changes.replace(envPath, TextFile.text(env.with("saved_entry", value).bytes(envPath)), reasons);
            } else {
                changes.add(new FileEdit.Create(envPath, GrubEnv.empty().with("saved_entry", value).bytes(envPath),
                        0644, reasons));
            }
        }

        // ------------------------------------------------------------ initramfs

        void rebuildInitramfs(Kernel kernel, boolean virtioDisks, List<NicPins.Pin> pins) {
            if (!virtioDisks) {
                return;
            }
            // both disk buses, so that the guest also boots if moved between them later; not
            // virtio_net: udev loads it from the root filesystem, where the NIC name pins are
            List<String> modules = new ArrayList<>();
            for (TargetBus b : List.of(TargetBus.VIRTIO_BLK, TargetBus.VIRTIO_SCSI)) {
                if (kernel.canBootOn(b)) {
                    for (String m : kernel.bootModules(b)) {
                        if (!modules.contains(m)) {
                            modules.add(m);
                        }
                    }
                }
            }
            if (modules.isEmpty()) {
                changes.notes.add("kernel " + kernel.version() + " has its virtio disk drivers built in: its initramfs "
                        + "needs nothing");
                return;
            }
            String initrd = kernel.initrd().orElseThrow();
            List<String> reasons = new ArrayList<>(List.of("add " + String.join(", ", modules) + " and the modules they "
                    + "depend on, from " + kernel.modulesDir() + " (the initramfs must find the root disk on KVM's "
                    + "virtio controller; the guest's own dracut/update-initramfs is not run)"));
            java.util.Map<String, byte[]> links = new java.util.LinkedHashMap<>();
            for (NicPins.Pin p : pins) {
                String path = NicPins.linkPath(p);
                links.put(path.substring(path.lastIndexOf('/') + 1), TextFile.bytes(NicPins.linkFile(p)));
            }
            if (!links.isEmpty()) {
                reasons.add("if the initramfs names NICs itself (its udev runs net_setup_link and it holds virtio_net, "
                        + "as initramfs-tools' MODULES=most images do): add " + String.join(", ", links.keySet())
                        + " to its /etc/systemd/network too, so that the NIC has its VMware name from the start "
                        + "(systemd before 240 does not rename a NIC the initramfs named)");
            }
            changes.add(new FileEdit.RebuildInitramfs(initrd, kernel.version(), kernel.modulesDir(), modules, links,
                    reasons));
        }

        // ------------------------------------------------------------ UEFI

        void efiFallback(Distro distro, Boot boot) throws IOException {
            if (input.firmware() != Firmware.UEFI) {
                return;
            }
            String esp = null;
            for (String mp : List.of("/boot/efi", "/efi")) {
                if (input.unreadable().containsKey(mp)) {
                    changes.warnings.add("cannot check the UEFI fallback boot path \\EFI\\BOOT\\BOOTX64.EFI: the "
                            + "EFI system partition (" + mp + ") " + input.unreadable().get(mp) + ". A new VM has no "
                            + "UEFI boot entries: if the ESP has no \\EFI\\BOOT\\BOOTX64.EFI the guest will not boot; "
                            + "copy the distribution's shimx64.efi or grubx64.efi there");
                    return;
                }
                if (files.isDirectory(mp + "/EFI")) {
                    esp = mp;
                    break;
                }
            }
            if (esp == null) {
                changes.warnings.add("UEFI guest without an EFI system partition mounted at /boot/efi: cannot check "
                        + "its fallback boot path \\EFI\\BOOT\\BOOTX64.EFI");
                return;
            }
            String efi = esp + "/EFI";
            Optional<String> bootDir = findIgnoreCase(efi, "BOOT");
            if (bootDir.isPresent() && findIgnoreCase(efi + "/" + bootDir.get(), "BOOTX64.EFI").isPresent()) {
                changes.notes.add("the ESP has the UEFI fallback boot path \\EFI\\BOOT\\BOOTX64.EFI: a new VM "
                        + "without boot entries boots it");
                return;
            }
            // the distribution's folder: the one named after it first, else any with a loader
            List<String> dirs = new ArrayList<>(files.list(efi).stream()
                    .filter(d -> !d.equalsIgnoreCase("BOOT")).toList());
            List<String> preferred = switch (distro.family()) {
                case RHEL -> List.of("redhat", "centos", "fedora", "rocky", "almalinux", "ol");
                case DEBIAN -> List.of("debian", "ubuntu");
                case SUSE -> List.of("opensuse", "sles", "sle");
                case OTHER -> List.of();
            };
            dirs.sort(java.util.Comparator.comparingInt(d -> {
                int i = preferred.indexOf(d.toLowerCase(Locale.ROOT));
                int j = d.equalsIgnoreCase(distro.id()) ? -1 : i;
                return j < 0 && i < 0 ? 100 : j;
            }));
            for (String d : dirs) {
                String dir = efi + "/" + d;
                Optional<String> shim = findIgnoreCase(dir, "shimx64.efi");
                Optional<String> grub = findIgnoreCase(dir, "grubx64.efi");
                if (shim.isEmpty() && grub.isEmpty()) {
                    continue;
                }
                String fallback = efi + "/" + bootDir.orElse("BOOT");
                String why = "a new VM has no UEFI boot entries, and the guest's entry for \\EFI\\" + d
                        + " lives in VMware's NVRAM: the firmware boots \\EFI\\BOOT\\BOOTX64.EFI";
                if (bootDir.isEmpty()) {
                    changes.add(new FileEdit.Mkdir(fallback, 0755, true, List.of(why)));
                }
                String first = shim.orElse(grub.orElseThrow());
                changes.add(new FileEdit.Copy(dir + "/" + first, fallback + "/BOOTX64.EFI", true, List.of(why)));
                if (shim.isPresent() && grub.isPresent()) {
                    changes.add(new FileEdit.Copy(dir + "/" + grub.get(), fallback + "/grubx64.efi", true,
                            List.of("shim loads grubx64.efi from its own folder")));
                    Optional<String> mm = findIgnoreCase(dir, "mmx64.efi");
                    if (mm.isPresent()) {
                        changes.add(new FileEdit.Copy(dir + "/" + mm.get(), fallback + "/mmx64.efi", true,
                                List.of("shim's MOK manager, for Secure Boot key enrolment")));
                    }
                }
                Optional<String> cfg = findIgnoreCase(dir, "grub.cfg");
                if (cfg.isPresent()) {
                    changes.add(new FileEdit.Copy(dir + "/" + cfg.get(), fallback + "/grub.cfg", true,
                            List.of("a GRUB image without a built-in prefix reads grub.cfg from its own folder")));
                }
                Optional<String> why2 = files.whyReadOnly(efi);
                why2.ifPresent(w -> changes.warnings.add("the UEFI fallback path cannot be written: " + w
                        + ". The guest will not boot on a new VM until \\EFI\\BOOT\\BOOTX64.EFI exists: copy \\EFI\\"
                        + d + "\\" + first + " there (or add a boot entry for it in the firmware's boot manager)"));
                return;
            }
            changes.warnings.add("the ESP has neither \\EFI\\BOOT\\BOOTX64.EFI nor a distribution folder with "
                    + "shimx64.efi or grubx64.efi: the guest may not boot on a new VM");
        }

        Optional<String> findIgnoreCase(String dir, String name) throws IOException {
            return files.list(dir).stream().filter(n -> n.equalsIgnoreCase(name)).findFirst();
        }

        // ------------------------------------------------------------ network

        void network(boolean virtioNet, List<String> netWarnings, NicPins.Decision d, boolean systemdUdev)
                throws IOException {
            changes.warnings.addAll(netWarnings);
            changes.warnings.addAll(d.warnings());
            changes.notes.addAll(d.notes());
            if (!d.pins().isEmpty()) {
                if (systemdUdev) {
                    mkdirs("/etc/systemd/network", "systemd's folder for .link files");
                    for (NicPins.Pin p : d.pins()) {
                        byte[] content = TextFile.bytes(NicPins.linkFile(p));
                        List<String> reasons = new ArrayList<>();
                        reasons.add("NIC ethernet" + p.nicIndex() + " (" + p.mac() + ") keeps the name " + p.name()
                                + " on KVM; it is " + p.name() + " because " + p.why());
                        for (NetworkConfigs.IfaceRef u : p.uses()) {
                            reasons.add("used by " + u.describe());
                        }
                        createOrReplace(NicPins.linkPath(p), content, reasons);
                    }
                } else {
                    List<String> reasons = new ArrayList<>();
                    for (NicPins.Pin p : d.pins()) {
                        reasons.add("NIC ethernet" + p.nicIndex() + " (" + p.mac() + ") keeps the name " + p.name()
                                + " (udev here is not systemd's and reads no .link files)");
                    }
                    mkdirs(GuestFiles.parent(NicPins.UDEV_RULES_PATH), "udev's folder for local rules");
                    createOrReplace(NicPins.UDEV_RULES_PATH, TextFile.bytes(NicPins.udevRules(d.pins())), reasons);
                }
                summary.add("NIC names kept: " + String.join(", ", d.pins().stream()
                        .map(p -> p.name() + " = " + p.mac()).toList()));
            }
            if (virtioNet) {
                for (String n : files.list("/etc/systemd/network")) {
                    if (n.endsWith(".network") || n.endsWith(".link")) {
                        String p = "/etc/systemd/network/" + n;
                        changes.edit(p, t -> NetworkConfigs.replaceVmwareDrivers(t, p, false));
                    }
                }
                for (String n : files.list("/etc/netplan")) {
                    if (n.endsWith(".yaml")) {
                        String p = "/etc/netplan/" + n;
                        changes.edit(p, t -> NetworkConfigs.replaceVmwareDrivers(t, p, true));
                    }
                }
            }
        }

        /** Plans the folder {@code dir} and its missing parents, root's with mode 0755, as mkdir -p. */
        void mkdirs(String dir, String why) throws IOException {
            List<String> missing = new ArrayList<>();
            for (String d = dir; !d.equals("/") && !files.isDirectory(d); d = GuestFiles.parent(d)) {
                missing.addFirst(d);
            }
            for (String d : missing) {
                changes.add(new FileEdit.Mkdir(d, 0755, false, List.of(d.equals(dir) ? why : "holds " + dir)));
            }
        }

        void createOrReplace(String path, byte[] content, List<String> reasons) throws IOException {
            Optional<String> existing = files.readText(path);
            if (existing.isPresent()) {
                if (!existing.get().equals(TextFile.text(content))) {
                    changes.replace(path, TextFile.text(content), reasons);
                }
                return;
            }
            changes.add(new FileEdit.Create(path, content, 0644, reasons));
        }

        // ------------------------------------------------------------ VMware leftovers

        void vmwareLeftovers() throws IOException {
            List<VmwareLeftovers.Link> links = VmwareLeftovers.serviceLinks(files);
            for (VmwareLeftovers.Link l : links) {
                changes.add(new FileEdit.Unlink(files.resolve(GuestFiles.parent(l.path())) + "/"
                        + GuestFiles.name(l.path()), List.of(l.why())));
            }
            if (!links.isEmpty() || files.isFile("/usr/bin/vmtoolsd")) {
                changes.notes.add("VMware Tools stay installed: removing packages needs the guest's package manager, "
                        + "which jv2v does not run; their services are disabled. Remove them after the first boot "
                        + "(open-vm-tools, or /usr/bin/vmware-uninstall-tools.pl), and install qemu-guest-agent");
            }
            List<String> xorg = new ArrayList<>(List.of("/etc/X11/xorg.conf", "/etc/X11/XF86Config"));
            for (String n : files.list("/etc/X11/xorg.conf.d")) {
                if (n.endsWith(".conf")) {
                    xorg.add("/etc/X11/xorg.conf.d/" + n);
                }
            }
            for (String x : xorg) {
                changes.edit(x, t -> VmwareLeftovers.xorg(t, x));
            }
            for (String n : files.list("/etc/yum.repos.d")) {
                if (n.endsWith(".repo")) {
                    String p = "/etc/yum.repos.d/" + n;
                    changes.edit(p, t -> VmwareLeftovers.yumRepo(t, p));
                }
            }
            List<String> apt = new ArrayList<>(List.of("/etc/apt/sources.list"));
            for (String n : files.list("/etc/apt/sources.list.d")) {
                if (n.endsWith(".list")) {
                    apt.add("/etc/apt/sources.list.d/" + n);
                }
            }
            for (String a : apt) {
                changes.edit(a, t -> VmwareLeftovers.aptList(t, a));
            }
        }

        /** Caches that name the old devices: virt-v2v deletes them too, and the tools rebuild them. */
        void staleCaches(DeviceMap map) throws IOException {
            for (String c : List.of("/etc/blkid/blkid.tab", "/etc/blkid.tab", "/etc/lvm/cache/.cache")) {
                if (files.exists(c)) {
                    changes.add(new FileEdit.Unlink(files.resolve(c), List.of("a cache naming the VMware disks; "
                            + "rebuilt on demand")));
                }
            }
            String devices = "/etc/lvm/devices/system.devices";
            if (files.exists(devices)) {
                changes.add(new FileEdit.Unlink(files.resolve(devices), List.of("LVM's devices file names the physical "
                        + "volumes by their VMware disk ids: with it, LVM would ignore them on KVM and the volume "
                        + "groups would not be found")));
            }
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void uncheck(IoAction a) {
        try {
            a.run();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
