package org.jv2v.source.vmx;

import org.jv2v.BadInputException;
import org.jv2v.image.PathGuard;
import org.jv2v.model.Bus;
import org.jv2v.model.Controller;
import org.jv2v.model.Cpu;
import org.jv2v.model.CpuTopology;
import org.jv2v.model.DeviceSlot;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.DiskMode;
import org.jv2v.model.Firmware;
import org.jv2v.model.GuestOsHint;
import org.jv2v.model.RemovableMedia;
import org.jv2v.model.RemovableMedia.Backing;
import org.jv2v.model.RemovableMedia.MediaType;
import org.jv2v.model.Sound;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceVm;
import org.jv2v.model.Video;
import org.jv2v.model.VmGenId;
import org.jv2v.source.DatastoreMap;
import org.jv2v.source.SourceOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code -i vmx}: reads a VMware {@code .vmx} into a {@link SourceVm}.
 *
 * <p>Device rules (VMware's own defaults): a device exists when its {@code present} key is TRUE; a
 * {@code present = "FALSE"} namespace is ignored whole. Disks are listed SCSI, NVMe, SATA, IDE (then
 * by controller and unit), the order virt-v2v uses, so target disk names match virt-v2v's.
 */
public final class VmxSource {
    /** VMware allows 4 SCSI, 4 SATA and 4 NVMe controllers and 2 IDE channels. */
    static final int MAX_CONTROLLERS = 4;
    /** The highest unit any VMware controller has: pvscsi's 64 targets (0..64, 7 reserved). */
    static final int MAX_UNIT = 64;
    /** ESXi allows ethernet0 to ethernet9. */
    static final int MAX_NICS = 10;
    /** vSphere 8's maxima: 768 vCPUs, 24 TiB of memory. */
    static final int MAX_VCPUS = 768;
    static final long MAX_MEMORY_MB = 24L * 1024 * 1024;

    private static final Pattern DEVICE = Pattern.compile("(scsi|sata|ide|nvme)(\\d{1,3}):(\\d{1,3})");
    private static final Pattern CONTROLLER = Pattern.compile("(scsi|sata|nvme)(\\d{1,3})");
    private static final Pattern FLOPPY = Pattern.compile("floppy(\\d{1,3})");
    private static final Pattern ETHERNET = Pattern.compile("ethernet(\\d{1,3})");
    private static final Pattern BRACKET = Pattern.compile("^\\[([^\\]]+)\\]\\s*(.*)$");
    private static final Pattern MAC = Pattern.compile("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");
    private static final Set<String> HARD_DISK_TYPES = Set.of("disk", "plaindisk", "rawdisk", "scsi-harddisk",
            "ata-harddisk", "sata-harddisk");
    private static final Set<String> CDROM_TYPES = Set.of("cdrom-image", "cdrom-raw", "atapi-cdrom");
    /** What VMware writes for a drive with nothing in it. */
    private static final String EMPTY_BACKING = "emptyBackingString";

    private final VmxFile vmx;
    private final Path dir;
    private final DatastoreMap datastores;
    private final PathGuard guard;
    private final Consumer<String> warn;

    private VmxSource(VmxFile vmx, SourceOptions options, Consumer<String> warn) {
        this.vmx = vmx;
        this.dir = vmx.file().toAbsolutePath().getParent();
        this.datastores = options.datastores();
        this.guard = guardFor(vmx.file(), options);
        this.warn = warn;
    }

    /** The folders a .vmx's files may be in: its own folder, the mapped datastores, --allow-dir. */
    public static PathGuard guardFor(Path vmxFile, SourceOptions options) {
        List<Path> allowed = new ArrayList<>();
        allowed.add(vmxFile.toAbsolutePath().getParent());
        allowed.addAll(options.datastores().folders());
        allowed.addAll(options.allowDirs());
        return new PathGuard(allowed);
    }

    /** Reads {@code vmxFile}; warnings (tolerated oddities, dropped media) go to {@code warn}. */
    public static SourceVm read(Path vmxFile, SourceOptions options, Consumer<String> warn) throws IOException {
        VmxFile vmx = VmxFile.read(vmxFile, warn);
        return new VmxSource(vmx, options, warn).build();
    }

    public static SourceVm read(Path vmxFile, DatastoreMap datastores, Consumer<String> warn) throws IOException {
        return read(vmxFile, new SourceOptions(datastores, List.of()), warn);
    }

    private BadInputException error(String key, String problem) {
        return BadInputException.atLine(vmx.file(), vmx.line(key), key + ": " + problem);
    }

    private void warnAt(String key, String problem) {
        warn.accept(vmx.file() + ":" + vmx.line(key) + ": " + problem);
    }

    private SourceVm build() {
        String name = vmx.get("displayName").filter(s -> !s.isBlank()).orElseGet(() -> {
            String base = vmx.file().getFileName().toString();
            String n = base.toLowerCase(Locale.ROOT).endsWith(".vmx") ? base.substring(0, base.length() - 4) : base;
            warn.accept(vmx.file() + ": no displayName key: naming the guest '" + n + "' after the file");
            return n;
        });
        SourceVm.Builder b = SourceVm.builder(name, "vmware");
        b.sourceFile = Optional.of(vmx.file().toAbsolutePath());

        long memMb = vmx.getLong("memSize").orElse(32); // VMware's default really is 32 MB
        if (memMb < 1 || memMb > MAX_MEMORY_MB) {
            throw error("memSize", memMb + " MB is outside 1.." + MAX_MEMORY_MB);
        }
        b.memoryBytes = memMb * 1024 * 1024;

        long vcpus = vmx.getLong("numvcpus").orElse(1);
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw error("numvcpus", vcpus + " is outside 1.." + MAX_VCPUS);
        }
        Optional<CpuTopology> topology = Optional.empty();
        OptionalLong cores = vmx.getLong("cpuid.coresPerSocket");
        if (cores.isPresent()) {
            long c = cores.getAsLong();
            if (c < 1 || c > vcpus || vcpus % c != 0) {
                warnAt("cpuid.coresPerSocket", "cpuid.coresPerSocket = " + c + " does not divide numvcpus = "
                        + vcpus + ": topology ignored");
            } else {
                topology = Optional.of(new CpuTopology((int) (vcpus / c), (int) c, 1));
            }
        }
        b.cpu = Cpu.of((int) vcpus, topology);

        b.firmware = vmx.get("firmware").map(fw -> switch (fw.strip().toLowerCase(Locale.ROOT)) {
            case "efi" -> Firmware.UEFI;
            case "bios" -> Firmware.BIOS;
            default -> {
                warnAt("firmware", "unknown firmware '" + fw + "': assuming BIOS");
                yield Firmware.BIOS;
            }
        }).orElse(Firmware.BIOS);
        b.secureBoot = vmx.isTrue("uefi.secureBoot.enabled", false);
        b.biosUuid = uuid("uuid.bios");
        b.vcUuid = uuid("vc.uuid");
        b.genid = genid();
        b.guestOs = vmx.get("guestOS").map(GuestOsHint::ofVmware).orElse(GuestOsHint.NONE);
        b.annotation = vmx.get("annotation").filter(s -> !s.isEmpty());
        b.vtpm = vmx.isTrue("vtpm.present", false);
        b.video = Optional.of(new Video("vmvga", vramSize()));
        b.sound = sound();

        readControllers(b.controllers);
        readDevices(b);
        readFloppies(b.removables);
        readNics(b.nics);
        return b.build();
    }

    private Optional<UUID> uuid(String key) {
        Optional<String> v = vmx.get(key);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        String hex = v.get().replace(" ", "").replace("-", "");
        if (!hex.matches("[0-9a-fA-F]{32}")) {
            warnAt(key, key + " = '" + v.get() + "' is not a UUID: ignored");
            return Optional.empty();
        }
        byte[] bytes = HexFormat.of().parseHex(hex);
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = (msb << 8) | (bytes[i] & 0xff);
            lsb = (lsb << 8) | (bytes[i + 8] & 0xff);
        }
        return Optional.of(new UUID(msb, lsb));
    }

    private Optional<VmGenId> genid() {
        if (!vmx.has("vm.genid") || !vmx.has("vm.genidX")) {
            return Optional.empty();
        }
        return Optional.of(VmGenId.fromVmware(vmx.getLong("vm.genid").getAsLong(),
                vmx.getLong("vm.genidX").getAsLong()));
    }

    private OptionalLong vramSize() {
        OptionalLong v = vmx.getLong("svga.vramSize");
        if (v.isPresent() && (v.getAsLong() < 0 || v.getAsLong() > (4L << 30))) {
            warnAt("svga.vramSize", "svga.vramSize " + v.getAsLong() + " is not plausible: ignored");
            return OptionalLong.empty();
        }
        return v;
    }

    private Optional<Sound> sound() {
        if (!vmx.isTrue("sound.present", false)) {
            return Optional.empty();
        }
        return vmx.get("sound.virtualDev").map(dev -> {
            String m = dev.toLowerCase(Locale.ROOT);
            String qemu = switch (m) {
                case "sb16" -> "sb16";
                case "es1371" -> "es1370"; // the closest QEMU has
                case "hdaudio" -> "ich6";  // Intel HDA
                default -> {
                    warnAt("sound.virtualDev", "unknown sound device '" + dev + "': no sound card on the target");
                    yield "";
                }
            };
            return new Sound(m, qemu);
        });
    }

    // ---------------------------------------------------------------- controllers and drives

    private static Bus busOf(String s) {
        return switch (s) {
            case "scsi" -> Bus.SCSI;
            case "sata" -> Bus.SATA;
            case "ide" -> Bus.IDE;
            case "nvme" -> Bus.NVME;
            default -> throw new IllegalArgumentException(s);
        };
    }

    private void readControllers(List<Controller> out) {
        for (String ns : vmx.namespaces()) {
            Matcher m = CONTROLLER.matcher(ns);
            if (!m.matches() || !vmx.isTrue(ns + ".present", false)) {
                continue;
            }
            int index = Integer.parseInt(m.group(2));
            if (index >= MAX_CONTROLLERS) {
                throw error(ns + ".present", "controller number " + index + " is out of range 0.."
                        + (MAX_CONTROLLERS - 1));
            }
            Bus bus = busOf(m.group(1));
            Optional<String> model = bus == Bus.SCSI
                    ? vmx.get(ns + ".virtualDev").map(s -> s.strip().toLowerCase(Locale.ROOT))
                    : bus == Bus.SATA ? Optional.of("ahci") : Optional.empty();
            out.add(new Controller(bus, index, model));
        }
        out.sort(Comparator.comparing(Controller::bus).thenComparingInt(Controller::index));
    }

    /** Whether the controller {@code bus}{@code n} exists for the devices on it. */
    private boolean controllerUsable(Bus bus, int n, String deviceNs) {
        if (bus == Bus.IDE) {
            if (n > 1) {
                throw error(deviceNs + ".present", "IDE channel " + n + " is out of range 0..1");
            }
            return true; // the IDE controller is built in
        }
        if (n >= MAX_CONTROLLERS) {
            throw error(deviceNs + ".present", "controller number " + n + " is out of range 0.."
                    + (MAX_CONTROLLERS - 1));
        }
        String ns = bus.label() + n;
        Optional<Boolean> present = vmx.getBool(ns + ".present");
        if (present.isPresent() && !present.get()) {
            warnAt(ns + ".present", deviceNs + " is ignored: its controller " + ns + " is not present");
            return false;
        }
        if (present.isEmpty()) {
            warnAt(deviceNs + ".present", "controller " + ns + " has no present key: assuming it exists for "
                    + deviceNs);
        }
        return true;
    }

    private Optional<String> controllerModel(Bus bus, int n) {
        return switch (bus) {
            case SCSI -> vmx.get("scsi" + n + ".virtualDev").map(s -> s.strip().toLowerCase(Locale.ROOT));
            case SATA -> Optional.of("ahci");
            case NVME -> Optional.of("nvme");
            case IDE -> Optional.of("piix4");
            default -> Optional.empty();
        };
    }

    private void readDevices(SourceVm.Builder b) {
        List<SourceDisk> disks = new ArrayList<>();
        List<RemovableMedia> cdroms = new ArrayList<>();
        for (String ns : vmx.namespaces()) {
            Matcher m = DEVICE.matcher(ns);
            if (!m.matches()) {
                continue;
            }
            Bus bus = busOf(m.group(1));
            int controller = Integer.parseInt(m.group(2));
            int unit = Integer.parseInt(m.group(3));
            if (!vmx.isTrue(ns + ".present", false)) {
                if (!vmx.has(ns + ".present") && vmx.has(ns + ".fileName")) {
                    warnAt(ns + ".fileName", ns + " has a fileName but no present = \"TRUE\": ignored, as VMware does");
                }
                continue;
            }
            if (unit > MAX_UNIT || (bus == Bus.IDE && unit > 1) || (bus == Bus.SATA && unit >= 30)) {
                throw error(ns + ".present", "unit " + unit + " is out of range for " + bus.label());
            }
            if (!controllerUsable(bus, controller, ns)) {
                continue;
            }
            DeviceSlot slot = new DeviceSlot(bus, controller, unit);
            String type = vmx.get(ns + ".deviceType").map(s -> s.strip().toLowerCase(Locale.ROOT)).orElse("");
            if (type.isEmpty() || HARD_DISK_TYPES.contains(type)) {
                disks.add(hardDisk(ns, slot));
            } else if (CDROM_TYPES.contains(type)) {
                if (bus == Bus.NVME) {
                    warnAt(ns + ".deviceType", ns + ": a CD-ROM on NVMe is not possible: ignored");
                    continue;
                }
                cdroms.add(cdrom(ns, slot, type));
            } else if (type.equals("scsi-passthru")) {
                String fn = vmx.get(ns + ".fileName").orElse("");
                if (fn.contains("/cdrom/") || fn.contains("cdrom")) {
                    cdroms.add(new RemovableMedia(MediaType.CDROM, Optional.of(slot), -1, Backing.PASSTHROUGH,
                            Optional.of(fn), Optional.empty(), vmx.isTrue(ns + ".startConnected", true)));
                } else {
                    warnAt(ns + ".deviceType", ns + ": SCSI pass-through of host device '" + fn
                            + "' cannot move to another host: ignored");
                }
            } else {
                warnAt(ns + ".deviceType", ns + ": unknown deviceType '" + type + "': ignored");
            }
        }
        disks.sort(Comparator.comparing((SourceDisk d) -> d.slot().get().bus().diskOrder())
                .thenComparingInt(d -> d.slot().get().controller()).thenComparingInt(d -> d.slot().get().unit()));
        for (int i = 0; i < disks.size(); i++) {
            b.disks.add(disks.get(i).withId(i));
        }
        cdroms.sort(Comparator.comparing((RemovableMedia r) -> mediaBusOrder(r.slot().get().bus()))
                .thenComparing(r -> r.slot().get()));
        b.removables.addAll(cdroms);
    }

    /** CD-ROMs: IDE first (virt-v2v lists those), then SATA, then SCSI. */
    static int mediaBusOrder(Bus bus) {
        return switch (bus) {
            case IDE -> 0;
            case SATA -> 1;
            case SCSI -> 2;
            default -> 3;
        };
    }

    private SourceDisk hardDisk(String ns, DeviceSlot slot) {
        String key = ns + ".fileName";
        String fn = vmx.get(key).orElseThrow(() -> error(ns + ".present", ns + " is a hard disk without a fileName"));
        if (fn.isBlank()) {
            throw error(key, "empty disk file name");
        }
        Path path = switch (resolve(fn)) {
            case Resolved r -> r.path();
            case Unresolved u -> throw error(key, "disk '" + fn + "': " + u.reason());
        };
        guard.check(path, () -> vmx.file() + ":" + vmx.line(key) + ": " + key + ": disk '" + fn
                + "' is outside the allowed folders " + guard.allowedDirs() + " (map its datastore with --datastore or allow the folder with --allow-dir)");
        if (!Files.exists(path)) {
            throw error(key, "disk '" + fn + "' not found (looked for " + path + ")");
        }
        if (!Files.isRegularFile(path)) {
            throw error(key, "disk '" + fn + "' is not a regular file (" + path + ")");
        }
        DiskMode mode = vmx.get(ns + ".mode").map(s -> DiskMode.ofVmx(s.strip()).orElseGet(() -> {
            warnAt(ns + ".mode", "unknown disk mode '" + s + "': treated as persistent");
            return DiskMode.PERSISTENT;
        })).orElse(DiskMode.PERSISTENT);
        Optional<String> format = fn.toLowerCase(Locale.ROOT).endsWith(".vmdk") ? Optional.of("vmdk") : Optional.empty();
        return new SourceDisk(0, Optional.of(slot), controllerModel(slot.bus(), slot.controller()), mode, fn,
                new DiskLocation.LocalFile(path), format, OptionalLong.empty());
    }

    private RemovableMedia cdrom(String ns, DeviceSlot slot, String type) {
        String key = ns + ".fileName";
        Optional<String> fn = vmx.get(key);
        boolean start = vmx.isTrue(ns + ".startConnected", true);
        Backing backing;
        Optional<Path> image = Optional.empty();
        if (vmx.isTrue(ns + ".clientDevice", false)) {
            backing = Backing.CLIENT_DEVICE;
        } else if (fn.isEmpty() || fn.get().isBlank() || fn.get().equals(EMPTY_BACKING)) {
            backing = Backing.EMPTY;
        } else if (type.equals("cdrom-image")) {
            backing = Backing.IMAGE;
            image = media(key, fn.get(), "CD-ROM image");
        } else if (fn.get().equalsIgnoreCase("auto detect")) {
            backing = Backing.AUTO_DETECT;
        } else {
            backing = Backing.HOST_DEVICE;
        }
        return new RemovableMedia(MediaType.CDROM, Optional.of(slot), -1, backing,
                fn.filter(s -> !s.isEmpty()), image, start);
    }

    /**
     * An ISO or floppy image: resolved and checked like a disk, but a problem only empties the
     * drive (with a warning), since a missing install ISO must not stop a conversion.
     */
    private Optional<Path> media(String key, String fn, String what) {
        Path path;
        switch (resolve(fn)) {
            case Resolved r -> path = r.path();
            case Unresolved u -> {
                warnAt(key, what + " '" + fn + "': " + u.reason() + ": the drive is left empty");
                return Optional.empty();
            }
        }
        try {
            guard.check(path, () -> "outside");
        } catch (BadInputException e) {
            warnAt(key, what + " '" + fn + "' is outside the allowed folders: the drive is left empty");
            return Optional.empty();
        }
        if (!Files.isRegularFile(path)) {
            warnAt(key, what + " '" + fn + "' not found (looked for " + path + "): the drive is left empty");
            return Optional.empty();
        }
        return Optional.of(path);
    }

    private void readFloppies(List<RemovableMedia> out) {
        for (String ns : vmx.namespaces()) {
            Matcher m = FLOPPY.matcher(ns);
            // Unlike other devices, VMware leaves floppy0.present out for a floppy-less VM (and
            // writes a client-side placeholder); libvirt and virt-v2v both need present = TRUE.
            if (!m.matches() || !vmx.isTrue(ns + ".present", false)) {
                continue;
            }
            int unit = Integer.parseInt(m.group(1));
            if (unit > 1) {
                throw error(ns + ".present", "floppy number " + unit + " is out of range 0..1");
            }
            String key = ns + ".fileName";
            Optional<String> fn = vmx.get(key).filter(s -> !s.isEmpty());
            String fileType = vmx.get(ns + ".fileType").map(s -> s.toLowerCase(Locale.ROOT)).orElse("");
            Backing backing;
            Optional<Path> image = Optional.empty();
            if (vmx.isTrue(ns + ".clientDevice", false)) {
                backing = Backing.CLIENT_DEVICE;
            } else if (fn.isEmpty() || fn.get().equals(EMPTY_BACKING) || fn.get().equals("vmware-null-remote-floppy")) {
                backing = Backing.EMPTY;
            } else if (fileType.equals("device") || (fileType.isEmpty() && fn.get().startsWith("/dev/"))) {
                backing = Backing.HOST_DEVICE;
            } else if (fn.get().equalsIgnoreCase("auto detect")) {
                backing = Backing.AUTO_DETECT;
            } else {
                backing = Backing.IMAGE;
                image = media(key, fn.get(), "floppy image");
            }
            out.add(new RemovableMedia(MediaType.FLOPPY, Optional.empty(), unit, backing, fn, image,
                    vmx.isTrue(ns + ".startConnected", true)));
        }
    }

    // ---------------------------------------------------------------- NICs

    private void readNics(List<SourceNic> out) {
        List<SourceNic> nics = new ArrayList<>();
        for (String ns : vmx.namespaces()) {
            Matcher m = ETHERNET.matcher(ns);
            if (!m.matches() || !vmx.isTrue(ns + ".present", false)) {
                continue;
            }
            int index = Integer.parseInt(m.group(1));
            if (index >= MAX_NICS) {
                throw error(ns + ".present", "NIC number " + index + " is out of range 0.." + (MAX_NICS - 1));
            }
            Optional<String> model = vmx.get(ns + ".virtualDev").map(s -> s.strip().toLowerCase(Locale.ROOT));
            if (model.isPresent() && model.get().equals("vmxnet") && vmx.getLong(ns + ".features").orElse(0) == 15) {
                model = Optional.of("vmxnet2"); // "enhanced vmxnet", as libvirt names it
            }
            String addressType = vmx.get(ns + ".addressType").map(s -> s.strip().toLowerCase(Locale.ROOT)).orElse("");
            SourceNic.MacType macType;
            String macKey;
            switch (addressType) {
                case "static" -> { macType = SourceNic.MacType.STATIC; macKey = ns + ".address"; }
                case "vpx" -> { macType = SourceNic.MacType.VPX; macKey = ns + ".generatedAddress"; }
                case "generated" -> { macType = SourceNic.MacType.GENERATED; macKey = ns + ".generatedAddress"; }
                default -> {
                    if (vmx.has(ns + ".address")) {
                        macType = SourceNic.MacType.STATIC;
                        macKey = ns + ".address";
                    } else {
                        macType = vmx.has(ns + ".generatedAddress") ? SourceNic.MacType.GENERATED
                                : SourceNic.MacType.UNKNOWN;
                        macKey = ns + ".generatedAddress";
                    }
                }
            }
            Optional<String> mac = vmx.get(macKey).map(String::strip);
            if (mac.isPresent() && !MAC.matcher(mac.get()).matches()) {
                warnAt(macKey, ns + ": '" + mac.get() + "' is not a MAC address: ignored");
                mac = Optional.empty();
            }
            // an all-zero MAC is VMware's placeholder (NSX opaque networks write it): no MAC at all
            mac = mac.map(s -> s.toLowerCase(Locale.ROOT)).filter(s -> !s.equals("00:00:00:00:00:00"));
            Optional<String> networkName = vmx.get(ns + ".networkName");
            String conn = vmx.get(ns + ".connectionType").map(s -> s.strip().toLowerCase(Locale.ROOT)).orElse("");
            SourceNic.Connection connection;
            if (vmx.has(ns + ".dvs.switchId")) {
                connection = SourceNic.Connection.DISTRIBUTED_SWITCH;
            } else {
                connection = switch (conn) {
                    case "bridged" -> SourceNic.Connection.BRIDGED;
                    case "nat" -> SourceNic.Connection.NAT;
                    case "hostonly" -> SourceNic.Connection.HOSTONLY;
                    case "custom" -> SourceNic.Connection.CUSTOM;
                    default -> SourceNic.Connection.UNSPECIFIED;
                };
            }
            // virt-v2v's reading: a "bridged" connection names a bridge, anything else a network;
            // a NIC without a networkName is called after itself.
            SourceNic.VnetType vnetType = connection == SourceNic.Connection.BRIDGED
                    ? SourceNic.VnetType.BRIDGE : SourceNic.VnetType.NETWORK;
            String vnet = networkName.orElse(ns);
            OptionalInt pciSlot = OptionalInt.empty();
            Optional<String> slot = vmx.get(ns + ".pciSlotNumber").map(String::strip);
            if (slot.isPresent() && slot.get().matches("\\d{1,5}")) {
                pciSlot = OptionalInt.of(Integer.parseInt(slot.get()));
            } else if (slot.isPresent() && !slot.get().equals("-1")) {
                warnAt(ns + ".pciSlotNumber", ns + ": '" + slot.get() + "' is not a PCI slot number: ignored");
            }
            nics.add(new SourceNic(index, model, mac, macType, networkName, vnet, vnetType, connection,
                    vmx.get(ns + ".dvs.portgroupId"), vmx.isTrue(ns + ".startConnected", true), pciSlot));
        }
        nics.sort(Comparator.comparingInt(SourceNic::index));
        out.addAll(nics);
    }

    // ---------------------------------------------------------------- file names

    sealed interface Resolution permits Resolved, Unresolved {}

    record Resolved(Path path) implements Resolution {}

    record Unresolved(String reason) implements Resolution {}

    /** Maps a file name as written in the .vmx to a local path (not yet checked against the guard). */
    Resolution resolve(String name) {
        Matcher br = BRACKET.matcher(name);
        if (br.matches()) {
            return inDatastore(br.group(1), br.group(2));
        }
        if (name.startsWith("/vmfs/volumes/")) {
            String rest = name.substring("/vmfs/volumes/".length());
            int slash = rest.indexOf('/');
            if (slash <= 0) {
                return new Unresolved("not a file in a datastore");
            }
            return inDatastore(rest.substring(0, slash), rest.substring(slash + 1));
        }
        boolean windowsAbsolute = name.matches("^[A-Za-z]:[\\\\/].*") || name.startsWith("\\\\");
        if (name.startsWith("/") || windowsAbsolute) {
            Optional<Path> mapped = datastores.mapAbsolute(name);
            if (mapped.isPresent()) {
                return new Resolved(mapped.get());
            }
            if (windowsAbsolute) {
                return new Unresolved("a Windows path; map its folder with --datastore 'FOLDER=LOCALFOLDER'");
            }
            return new Resolved(Path.of(name).normalize());
        }
        return new Resolved(dir.resolve(name.replace('\\', '/')).normalize());
    }

    private Resolution inDatastore(String ds, String rel) {
        Optional<Path> root = datastores.datastore(ds);
        if (root.isEmpty()) {
            return new Unresolved("datastore '" + ds + "' is not mapped (use --datastore '" + ds + "=FOLDER')");
        }
        return new Resolved(root.get().resolve(rel).normalize());
    }
}
