package org.jv2v.target;

import org.jv2v.Jv2vException;
import org.jv2v.model.Bus;
import org.jv2v.model.DeviceSlot;
import org.jv2v.model.Firmware;
import org.jv2v.model.GuestOsHint;
import org.jv2v.model.RemovableMedia;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceVm;
import org.jv2v.target.TargetVm.Decision;
import org.jv2v.target.TargetVm.ScsiController;
import org.jv2v.target.TargetVm.TargetDisk;
import org.jv2v.target.TargetVm.TargetDrive;
import org.jv2v.target.TargetVm.TargetNic;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides the target's devices. Virtio where the guest has (or will get) virtio drivers; otherwise
 * the emulated devices the guest already drives on VMware (pvscsi, LSI SAS, SATA/AHCI, vmxnet3,
 * e1000e, e1000), so that an unconverted guest still boots. Each choice is recorded with its
 * reason in {@link TargetVm#decisions()} and printed.
 */
public final class TargetPlanner {
    private TargetPlanner() {}

    /** The file name of target disk {@code id}: {@code NAME-sda}, {@code NAME-sdb} ... as virt-v2v names them. */
    public static Path diskPath(Path storage, String name, int id) {
        return storage.resolve(fileSafe(name) + "-sd" + TargetBus.driveName(id));
    }

    /** A target name usable as a file name: virt-v2v replaces '/' likewise. */
    public static String fileSafe(String name) {
        return name.replace('/', '_').replace('\0', '_');
    }

    public static TargetVm plan(SourceVm vm, TargetOptions opts, GuestCapabilities caps) {
        return plan(vm, opts, caps, Optional.empty());
    }

    /**
     * As {@link #plan(SourceVm, TargetOptions, GuestCapabilities)}, with the firmware the guest's
     * disks show, which decides where the source does not say (an OVF without it, {@code -i disk}).
     */
    public static TargetVm plan(SourceVm vm, TargetOptions opts, GuestCapabilities caps,
                                Optional<DiskFirmware> fromDisks) {
        return new Planning(vm, opts, caps, fromDisks).run();
    }

    /**
     * How the guest boots as its disks show it: BIOS or UEFI, and the facts that say so
     * (virt-v2v's rule: an EFI system partition on a GPT disk and no BIOS boot partition is UEFI).
     */
    public record DiskFirmware(Firmware firmware, String evidence) {
        public DiskFirmware {
            if (firmware == Firmware.UNKNOWN) {
                throw new IllegalArgumentException("disks show BIOS or UEFI");
            }
        }
    }

    private static final class Planning {
        final SourceVm vm;
        final TargetOptions opts;
        final GuestCapabilities caps;
        final Optional<DiskFirmware> fromDisks;
        final List<Decision> decisions = new ArrayList<>();
        final String name;
        final Path storage;
        String machine;

        Planning(SourceVm vm, TargetOptions opts, GuestCapabilities caps, Optional<DiskFirmware> fromDisks) {
            this.vm = vm;
            this.opts = opts;
            this.caps = caps;
            this.fromDisks = fromDisks;
            this.name = opts.name().orElse(vm.name());
            if (name.isBlank()) {
                throw new Jv2vException("the target name is empty: give one with -on NAME");
            }
            this.storage = opts.storage().orElse(Path.of(".")).toAbsolutePath().normalize();
        }

        void decide(String subject, String choice, String reason, boolean warning) {
            decisions.add(new Decision(subject, choice, reason, warning));
        }

        TargetVm run() {
            GuestOsHint os = vm.guestOs();
            if (os.arch() == GuestOsHint.Arch.AARCH64) {
                throw new Jv2vException("the guest is an ARM guest (guestOS '" + os.id().orElse("")
                        + "'): only x86 targets are supported");
            }
            String why = os.id().map(i -> "guest OS '" + i + "'").orElse("no guest OS hint");
            if (os.isLegacy()) {
                machine = "pc";
                decide("machine", "pc (i440FX)", why + " predates AHCI and PCIe support", false);
            } else {
                machine = "q35";
                decide("machine", "q35", why + "; modern chipset with PCIe and AHCI", false);
            }
            if (os.arch() == GuestOsHint.Arch.I686) {
                decide("arch", "x86_64", "an x86_64 virtual CPU also runs the 32-bit OS the hint names; the hint "
                        + "may be wrong and a 64-bit guest would not boot on an i686 target", false);
            }
            String firmwareWhy = "as on the source";
            Firmware firmware = vm.firmware();
            if (firmware == Firmware.UNKNOWN && fromDisks.isPresent()) {
                firmware = fromDisks.get().firmware();
                firmwareWhy = "the source does not say; its disks show it: " + fromDisks.get().evidence();
            }
            boolean uefi = switch (firmware) {
                case UEFI -> true;
                case BIOS -> false;
                case UNKNOWN -> {
                    decide("firmware", "BIOS", "the source does not say which firmware the guest boots with, and "
                            + "its disks could not be read to tell", true);
                    yield false;
                }
            };
            boolean secureBoot = uefi && vm.secureBoot();
            if (uefi) {
                decide("firmware", secureBoot ? "UEFI with secure boot (Microsoft keys enrolled)" : "UEFI (OVMF)",
                        firmwareWhy, false);
                if (secureBoot && machine.equals("pc")) {
                    machine = "q35";
                    decide("machine", "q35", "secure boot needs SMM, which OVMF supports on q35 only", false);
                }
            } else if (firmware == Firmware.BIOS) {
                decide("firmware", "BIOS (SeaBIOS)", firmwareWhy, false);
            }

            List<TargetDisk> disks = new ArrayList<>();
            List<TargetDrive> drives = new ArrayList<>();
            List<ScsiController> controllers = new ArrayList<>();
            placeStorage(disks, drives, controllers);
            List<TargetNic> nics = nics();

            Optional<String> sound = vm.sound().map(s -> s.qemuModel()).filter(s -> !s.isEmpty());
            sound.ifPresent(s -> decide("sound", s, "emulates the source's " + vm.sound().get().model(), false));
            if (vm.vtpm()) {
                decide("tpm", "TPM 2.0 (tpm-crb, swtpm emulator)", "the source has a vTPM; its sealed secrets "
                        + "(BitLocker keys) do not move: have the recovery key ready", true);
            }
            boolean localtime = os.family() == GuestOsHint.OsFamily.WINDOWS;
            if (localtime) {
                decide("clock", "localtime", "Windows keeps the RTC in local time, as VMware presents it", false);
            }
            return new TargetVm(name, vm.annotation(), "x86_64", machine, vm.memoryBytes(), vm.cpu(), uefi, secureBoot,
                    vm.biosUuid(), vm.genid(), localtime, disks, drives, controllers, nics, sound, vm.vtpm(),
                    caps.known() && caps.virtioExtras(), decisions);
        }

        // ------------------------------------------------------------ storage

        /** The bus for a disk when the guest has no virtio drivers: the one it already drives. */
        TargetBus nativeBus(SourceDisk d, Set<String> notes) {
            Optional<Bus> bus = d.bus();
            if (bus.isEmpty()) {
                notes.add("a bare disk image has no controller: " + (machine.equals("pc") ? "IDE" : "SATA")
                        + ", which every OS drives");
                return machine.equals("pc") ? TargetBus.IDE : TargetBus.SATA;
            }
            String model = d.controllerModel().orElse("");
            return switch (bus.get()) {
                case SCSI -> switch (model) {
                    case "pvscsi" -> {
                        notes.add("pvscsi: QEMU emulates VMware's paravirtual SCSI, which the guest drives");
                        yield TargetBus.PVSCSI;
                    }
                    case "lsisas1068" -> {
                        if (d.slot().get().unit() < TargetBus.LSISAS1068.unitsPerController()) {
                            notes.add("LSI Logic SAS: QEMU emulates it (mptsas1068), which the guest drives");
                            yield TargetBus.LSISAS1068;
                        }
                        notes.add("SATA for LSI SAS unit " + d.slot().get().unit() + ": QEMU's LSI SAS has 8 ports");
                        yield TargetBus.SATA;
                    }
                    default -> {
                        notes.add("SATA for the " + (model.isEmpty() ? "SCSI" : model) + " controller, which QEMU "
                                + "does not emulate: Windows has AHCI drivers built in; a Linux guest needs the "
                                + "ahci module in its initramfs");
                        yield TargetBus.SATA;
                    }
                };
                case SATA -> {
                    notes.add("SATA (AHCI), as on the source");
                    yield TargetBus.SATA;
                }
                case IDE -> {
                    if (machine.equals("pc")) {
                        notes.add("IDE, as on the source");
                        yield TargetBus.IDE;
                    }
                    notes.add("SATA for IDE disks: q35 has no IDE; AHCI drivers are built into the OSes q35 suits");
                    yield TargetBus.SATA;
                }
                case NVME -> {
                    notes.add("SATA for NVMe disks: the libvirt of Debian 12 has no NVMe disks; the guest "
                            + "needs AHCI drivers (built into Windows; the ahci module for Linux)");
                    yield TargetBus.SATA;
                }
                case VIRTIO_BLK -> TargetBus.VIRTIO_BLK;
                case VIRTIO_SCSI -> TargetBus.VIRTIO_SCSI;
            };
        }

        void placeStorage(List<TargetDisk> disks, List<TargetDrive> drives, List<ScsiController> controllers) {
            boolean virtioScsi = opts.blockDriver().equals("virtio-scsi");
            boolean useVirtio = caps.known() && (virtioScsi ? caps.virtioScsi() : caps.virtioBlock());
            TargetBus[] buses = new TargetBus[vm.disks().size()];
            Set<String> notes = new LinkedHashSet<>();
            for (SourceDisk d : vm.disks()) {
                buses[d.id()] = useVirtio ? (virtioScsi ? TargetBus.VIRTIO_SCSI : TargetBus.VIRTIO_BLK)
                        : nativeBus(d, notes);
            }
            if (!vm.disks().isEmpty()) {
                if (useVirtio) {
                    decide("disks", virtioScsi ? "virtio-scsi" : "virtio-blk", "the guest has virtio drivers ("
                            + caps.origin() + ")", false);
                } else {
                    String reason = caps.known() ? "the guest has no virtio drivers (" + caps.origin() + ")"
                            : "the guest is not known to have virtio drivers (" + caps.origin()
                            + "; pass --virtio yes if it has them)";
                    decide("disks", java.util.Arrays.stream(buses).map(TargetBus::label).distinct()
                                    .collect(Collectors.joining(", ")),
                            reason + "; keeping controllers it already drives, slower than virtio: "
                                    + String.join("; ", notes), true);
                }
            }
            // Positions on the shared buses: SATA/AHCI (or IDE on pc) also takes the CD-ROMs.
            TargetBus driveBus = machine.equals("pc") ? TargetBus.IDE : TargetBus.SATA;
            Map<TargetBus, BitSet> used = new LinkedHashMap<>();
            int[] index = new int[vm.disks().size()];
            // pass 1: disks that can keep their source position
            for (SourceDisk d : vm.disks()) {
                index[d.id()] = -1;
                TargetBus b = buses[d.id()];
                Optional<Integer> pref = preferredIndex(d.slot(), b);
                if (pref.isPresent() && !used.computeIfAbsent(b, k -> new BitSet()).get(pref.get())) {
                    used.get(b).set(pref.get());
                    index[d.id()] = pref.get();
                }
            }
            // pass 2: CD-ROMs keep their slot (virt-v2v keeps an IDE CD-ROM's slot: hdc -> sdc)
            List<RemovableMedia> cds = vm.removables().stream()
                    .filter(r -> r.type() == RemovableMedia.MediaType.CDROM).toList();
            int[] cdIndex = new int[cds.size()];
            for (int i = 0; i < cds.size(); i++) {
                cdIndex[i] = -1;
                Optional<Integer> pref = preferredIndex(cds.get(i).slot(), driveBus);
                BitSet u = used.computeIfAbsent(driveBus, k -> new BitSet());
                if (pref.isPresent() && !u.get(pref.get())) {
                    u.set(pref.get());
                    cdIndex[i] = pref.get();
                }
            }
            // pass 3: everything else takes the lowest free position
            for (SourceDisk d : vm.disks()) {
                if (index[d.id()] < 0) {
                    BitSet u = used.computeIfAbsent(buses[d.id()], k -> new BitSet());
                    index[d.id()] = u.nextClearBit(0);
                    u.set(index[d.id()]);
                }
            }
            for (int i = 0; i < cds.size(); i++) {
                if (cdIndex[i] < 0) {
                    BitSet u = used.computeIfAbsent(driveBus, k -> new BitSet());
                    cdIndex[i] = u.nextClearBit(0);
                    u.set(cdIndex[i]);
                }
            }
            if (driveBus == TargetBus.IDE && used.getOrDefault(TargetBus.IDE, new BitSet()).length() > 4) {
                throw new Jv2vException("more than 4 IDE devices on a pc machine");
            }
            // Names: "sd" is shared by SCSI and SATA in libvirt; SCSI first (sda...), SATA after them.
            int scsiCount = 0;
            for (SourceDisk d : vm.disks()) {
                if (buses[d.id()].isScsi()) {
                    scsiCount++;
                }
            }
            int scsiSeq = 0;
            for (SourceDisk d : vm.disks()) {
                TargetBus b = buses[d.id()];
                int idx = index[d.id()];
                int controller;
                int unit;
                String dev;
                if (b == TargetBus.VIRTIO_BLK) {
                    controller = 0;
                    unit = 0;
                    dev = "vd" + TargetBus.driveName(idx);
                } else if (b.isScsi()) {
                    controller = idx / b.unitsPerController();
                    unit = idx % b.unitsPerController();
                    dev = "sd" + TargetBus.driveName(scsiSeq++);
                } else {
                    controller = idx / b.unitsPerController();
                    unit = idx % b.unitsPerController();
                    dev = b.devPrefix() + TargetBus.driveName(b == TargetBus.SATA ? scsiCount + idx : idx);
                }
                if (b.isScsi() && controllers.stream().noneMatch(c -> c.bus() == b && c.index() == controller)) {
                    controllers.add(new ScsiController(b, controller));
                }
                if (d.mode().isTransient()) {
                    decide("disk " + d.id(), "writes discarded at power-off", "the source disk is "
                            + d.mode().vmxName(), true);
                }
                disks.add(new TargetDisk(d.id(), diskPath(storage, name, d.id()), opts.format(), b, dev, controller,
                        unit, d.id() + 1, d.mode().isTransient(), d));
            }
            for (int i = 0; i < cds.size(); i++) {
                RemovableMedia r = cds.get(i);
                int idx = cdIndex[i];
                String dev = driveBus.devPrefix() + TargetBus.driveName(driveBus == TargetBus.SATA ? scsiCount + idx : idx);
                drives.add(new TargetDrive(r.type(), driveBus, dev, idx / driveBus.unitsPerController(),
                        idx % driveBus.unitsPerController(), media(r), r));
            }
            for (RemovableMedia r : vm.removables()) {
                if (r.type() == RemovableMedia.MediaType.FLOPPY) {
                    drives.add(new TargetDrive(r.type(), TargetBus.FDC, "fd" + TargetBus.driveName(r.floppyUnit()), 0,
                            r.floppyUnit(), media(r), r));
                }
            }
            if (!cds.isEmpty()) {
                decide("CD-ROMs", driveBus.label(), machine.equals("q35") ? "q35 has no IDE; AHCI CD-ROMs keep their "
                        + "slot numbers" : "as on a pc machine", false);
            }
        }

        /** The position an item would like on {@code target}: its source position when the bus matches. */
        Optional<Integer> preferredIndex(Optional<DeviceSlot> slot, TargetBus target) {
            if (slot.isEmpty()) {
                return Optional.empty();
            }
            DeviceSlot s = slot.get();
            return switch (target) {
                case SATA -> switch (s.bus()) {
                    case IDE -> Optional.of(s.controller() * 2 + s.unit());
                    case SATA -> s.controller() == 0 && s.unit() < 6 ? Optional.of(s.unit()) : Optional.empty();
                    default -> Optional.empty();
                };
                case IDE -> s.bus() == Bus.IDE ? Optional.of(s.controller() * 2 + s.unit()) : Optional.empty();
                case PVSCSI, LSISAS1068 -> s.bus() == Bus.SCSI
                        ? Optional.of(s.controller() * target.unitsPerController() + s.unit()) : Optional.empty();
                default -> Optional.empty();
            };
        }

        Optional<Path> media(RemovableMedia r) {
            if (r.image().isPresent()) {
                return r.image();
            }
            if (r.backing() != RemovableMedia.Backing.EMPTY && r.backing() != RemovableMedia.Backing.IMAGE) {
                decide(r.type().label() + r.slot().map(s -> " " + s.vmxName()).orElse(" " + r.floppyUnit()),
                        "empty drive", "its source (" + r.backing().name().toLowerCase().replace('_', ' ')
                                + r.fileName().map(f -> " '" + f + "'").orElse("") + ") is on the VMware host", false);
            }
            return Optional.empty();
        }

        // ------------------------------------------------------------ NICs

        List<TargetNic> nics() {
            List<TargetNic> out = new ArrayList<>();
            for (SourceNic src : vm.nics()) {
                SourceNic nic = opts.networks().map(src);
                String model;
                String qemu;
                String subject = "ethernet" + src.index();
                String srcModel = src.model().orElse("");
                if (caps.known() && caps.virtioNet()) {
                    model = "virtio";
                    qemu = "virtio-net-pci";
                    decide(subject, "virtio-net", "the guest has virtio drivers (" + caps.origin() + ")", false);
                } else {
                    String reason = caps.known() ? "no virtio drivers (" + caps.origin() + ")"
                            : "virtio drivers unknown (" + caps.origin() + "; pass --virtio yes if it has them)";
                    switch (srcModel) {
                        case "vmxnet3", "e1000e", "e1000", "rtl8139" -> {
                            model = srcModel;
                            qemu = srcModel;
                            decide(subject, srcModel, reason + "; QEMU emulates the source's " + srcModel, true);
                        }
                        case "virtio" -> {
                            model = "virtio";
                            qemu = "virtio-net-pci";
                            decide(subject, "virtio-net", "as on the source", false);
                        }
                        case "vlance" -> {
                            model = "pcnet";
                            qemu = "pcnet";
                            decide(subject, "pcnet", reason + "; QEMU's AMD PCnet is the source's vlance", true);
                        }
                        default -> {
                            model = "e1000";
                            qemu = "e1000";
                            decide(subject, "e1000", reason + "; " + (srcModel.isEmpty()
                                    ? "the source names no model and e1000 is VMware's default"
                                    : "QEMU does not emulate " + srcModel + "; e1000 drivers are built into Windows "
                                    + "and Linux"), true);
                        }
                    }
                }
                if (nic.equals(src) && vm.hypervisor().equals("vmware")) {
                    decide(subject + " network", nic.vnetType().libvirtName() + " '" + nic.vnet() + "'",
                            "the name the NIC had on VMware; unless the target host has it, map it with "
                                    + (nic.vnetType() == SourceNic.VnetType.BRIDGE ? "-b" : "-n") + " '" + nic.vnet()
                                    + ":NAME'", true);
                } else if (!nic.equals(src)) {
                    decide(subject + " network", nic.vnetType().libvirtName() + " '" + nic.vnet() + "'",
                            "mapped from " + src.vnetType().libvirtName() + " '" + src.vnet() + "'", false);
                }
                out.add(new TargetNic(src.index(), model, qemu, src.mac(), nic.vnetType(), nic.vnet(), src));
            }
            return out;
        }
    }
}
