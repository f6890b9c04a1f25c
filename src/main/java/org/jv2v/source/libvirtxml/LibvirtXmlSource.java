package org.jv2v.source.libvirtxml;

import org.jv2v.BadInputException;
import org.jv2v.image.PathGuard;
import org.jv2v.model.Bus;
import org.jv2v.model.Cpu;
import org.jv2v.model.CpuTopology;
import org.jv2v.model.DeviceSlot;
import org.jv2v.model.Display;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.DiskMode;
import org.jv2v.model.Firmware;
import org.jv2v.model.RemovableMedia;
import org.jv2v.model.Sound;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceVm;
import org.jv2v.model.Video;
import org.jv2v.model.VmGenId;
import org.jv2v.source.SafeXml;
import org.jv2v.source.SourceOptions;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * {@code -i libvirtxml FILE}: a libvirt domain XML, read with virt-v2v's rules (which disks and
 * NICs count, how drive names give slots). File names are checked against the XML's folder, the
 * mapped datastores and {@code --allow-dir}.
 */
public final class LibvirtXmlSource {
    private static final Set<String> SOUND_MODELS = Set.of("ac97", "es1370", "ich6", "ich9", "pcspk", "sb16", "usb");

    private final Path file;
    private final PathGuard guard;
    private final Consumer<String> warn;

    private LibvirtXmlSource(Path file, PathGuard guard, Consumer<String> warn) {
        this.file = file;
        this.guard = guard;
        this.warn = warn;
    }

    public static SourceVm read(Path file, SourceOptions options, Consumer<String> warn) throws IOException {
        byte[] bytes;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() > SafeXml.MAX_XML_BYTES) {
                throw BadInputException.inFile(file, "larger than " + SafeXml.MAX_XML_BYTES + " bytes: not a domain XML");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) ch.size());
            while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // read all
            }
            bytes = buf.array();
        } catch (NoSuchFileException e) {
            throw BadInputException.inFile(file, "no such file");
        }
        List<Path> allowed = new ArrayList<>();
        allowed.add(file.toAbsolutePath().getParent());
        allowed.addAll(options.datastores().folders());
        allowed.addAll(options.allowDirs());
        return new LibvirtXmlSource(file, new PathGuard(allowed), warn).parse(SafeXml.parse(file, bytes, false));
    }

    private SourceVm parse(Document doc) {
        Element root = doc.getDocumentElement();
        Element domain;
        if (root.getTagName().equals("domain")) {
            domain = root;
        } else if (root.getTagName().equals("node")) {
            // libvirt's test driver wraps domains in <node>; accept its first domain
            domain = SafeXml.child(root, "domain").orElseThrow(() -> BadInputException.inFile(file,
                    "<node> holds no <domain>"));
        } else {
            throw BadInputException.inFile(file, "not a libvirt domain XML: the root element is <" + root.getTagName() + ">");
        }
        String hypervisor = SafeXml.attr(domain, "type").filter(s -> !s.isEmpty()).orElseThrow(() ->
                BadInputException.inFile(file, "<domain type='...'> is missing or empty"));
        String name = SafeXml.text(domain, "name").filter(s -> !s.isEmpty()).orElseThrow(() ->
                BadInputException.inFile(file, "<name> is missing or empty"));
        SourceVm.Builder b = SourceVm.builder(name, hypervisor);
        b.sourceFile = Optional.of(file.toAbsolutePath());
        SafeXml.text(domain, "genid").filter(s -> !s.isEmpty()).ifPresent(g -> b.genid = Optional.of(new VmGenId(uuid(g, "genid"))));
        SafeXml.text(domain, "uuid").filter(s -> !s.isEmpty()).ifPresent(u -> b.biosUuid = Optional.of(uuid(u, "uuid")));
        b.memoryBytes = SafeXml.path(domain, "memory").map(this::memory).orElse(1024L * 1024 * 1024);

        Optional<Element> cpu = SafeXml.child(domain, "cpu");
        Optional<String> vendor = cpu.flatMap(c -> SafeXml.text(c, "vendor"));
        Optional<String> model = cpu.flatMap(c -> SafeXml.text(c, "model"));
        Optional<Element> topo = cpu.flatMap(c -> SafeXml.child(c, "topology"));
        Optional<Integer> sockets = topo.flatMap(t -> intAttr(t, "sockets"));
        Optional<Integer> cores = topo.flatMap(t -> intAttr(t, "cores"));
        Optional<Integer> threads = topo.flatMap(t -> intAttr(t, "threads"));
        Optional<Integer> vcpu = SafeXml.text(domain, "vcpu").map(v -> parseInt(v, "vcpu"));
        int vcpus = vcpu.orElseGet(() -> sockets.isEmpty() && cores.isEmpty() && threads.isEmpty() ? 1
                : sockets.orElse(1) * cores.orElse(1) * threads.orElse(1));
        Optional<CpuTopology> topology = sockets.isPresent() && cores.isPresent() && threads.isPresent()
                ? Optional.of(new CpuTopology(sockets.get(), cores.get(), threads.get())) : Optional.empty();
        List<String> features = SafeXml.child(domain, "features").map(f -> SafeXml.children(f).stream()
                .map(SafeXml::localName).toList()).orElse(List.of());
        b.cpu = new Cpu(vcpus, topology, vendor, model, features);

        Optional<Element> os = SafeXml.child(domain, "os");
        String fw = os.flatMap(o -> SafeXml.attr(o, "firmware")).orElse("");
        b.firmware = switch (fw) {
            case "bios" -> Firmware.BIOS;
            case "efi" -> Firmware.UEFI;
            case "" -> os.flatMap(o -> SafeXml.child(o, "loader")).flatMap(l -> SafeXml.attr(l, "type"))
                    .filter("pflash"::equals).map(x -> Firmware.UEFI).orElse(Firmware.UNKNOWN);
            default -> Firmware.UNKNOWN;
        };
        b.secureBoot = os.flatMap(o -> SafeXml.child(o, "firmware")).map(f -> SafeXml.children(f, "feature").stream()
                .anyMatch(e -> e.getAttribute("name").equals("secure-boot") && e.getAttribute("enabled").equals("yes")))
                .orElse(false);
        SafeXml.text(domain, "description").filter(s -> !s.isEmpty()).ifPresent(d -> b.annotation = Optional.of(d));

        Element devices = SafeXml.child(domain, "devices").orElseThrow(() ->
                BadInputException.inFile(file, "this guest has no <devices>"));
        b.display = display(devices);
        b.sound = SafeXml.child(devices, "sound").flatMap(s -> SafeXml.attr(s, "model")).flatMap(m -> {
            if (SOUND_MODELS.contains(m)) {
                return Optional.of(new Sound(m, m.equals("pcspk") || m.equals("usb") || m.equals("ich9") ? "" : m));
            }
            warn.accept(file + ": unknown sound model " + m + " ignored");
            return Optional.empty();
        });
        b.video = SafeXml.path(devices, "video", "model").map(m -> new Video(m.getAttribute("type"),
                SafeXml.attr(m, "vram").map(v -> OptionalLong.of(Long.parseLong(v) * 1024)).orElse(OptionalLong.empty())));
        b.vtpm = !SafeXml.children(devices, "tpm").isEmpty();

        boolean virtioScsi = SafeXml.children(devices, "controller").stream()
                .anyMatch(c -> c.getAttribute("model").equals("virtio-scsi"));
        int diskId = 0;
        int seq = 0;
        for (Element disk : SafeXml.children(devices, "disk")) {
            String device = SafeXml.attr(disk, "device").orElse("disk");
            Optional<String> targetBus = SafeXml.child(disk, "target").flatMap(t -> SafeXml.attr(t, "bus"));
            Optional<String> dev = SafeXml.child(disk, "target").flatMap(t -> SafeXml.attr(t, "dev"));
            Optional<Bus> bus = targetBus.flatMap(tb -> switch (tb) {
                case "ide" -> Optional.of(Bus.IDE);
                case "sata" -> Optional.of(Bus.SATA);
                case "scsi" -> Optional.of(virtioScsi ? Bus.VIRTIO_SCSI : Bus.SCSI);
                case "virtio" -> Optional.of(Bus.VIRTIO_BLK);
                default -> Optional.<Bus>empty();
            });
            Optional<Integer> index = dev.flatMap(this::driveIndex);
            if (device.equals("disk")) {
                String type = SafeXml.attr(disk, "type").orElse("");
                Optional<String> path = switch (type) {
                    case "file" -> SafeXml.child(disk, "source").flatMap(s -> SafeXml.attr(s, "file"));
                    case "block" -> SafeXml.child(disk, "source").flatMap(s -> SafeXml.attr(s, "dev"));
                    default -> {
                        warn.accept(file + ": <disk type='" + type + "'> was ignored");
                        yield Optional.empty();
                    }
                };
                if (path.isEmpty()) {
                    continue;
                }
                Path p = resolve(path.get(), "disk");
                if (!Files.exists(p)) {
                    throw BadInputException.inFile(file, "disk '" + path.get() + "' not found");
                }
                int idx = index.orElse(seq);
                Optional<DeviceSlot> slot = bus.map(bu -> new DeviceSlot(bu, idx / bu.unitsPerController(),
                        idx % bu.unitsPerController()));
                Optional<String> format = SafeXml.child(disk, "driver").flatMap(d -> SafeXml.attr(d, "type"))
                        .map(f -> f.equals("aio") ? "raw" : f);
                b.disks.add(new SourceDisk(diskId++, slot, Optional.empty(),
                        SafeXml.child(disk, "transient").isPresent() ? DiskMode.INDEPENDENT_NONPERSISTENT
                                : DiskMode.PERSISTENT, path.get(), new DiskLocation.LocalFile(p), format,
                        OptionalLong.empty()));
                seq++;
            } else if (device.equals("cdrom") || device.equals("floppy")) {
                boolean cd = device.equals("cdrom");
                Optional<String> src = SafeXml.child(disk, "source").flatMap(s -> SafeXml.attr(s, "file")
                        .or(() -> SafeXml.attr(s, "dev")));
                Optional<Path> image = src.flatMap(s -> {
                    Path p = resolve(s, device);
                    if (!Files.isRegularFile(p)) {
                        warn.accept(file + ": " + device + " image '" + s + "' not found: the drive is left empty");
                        return Optional.empty();
                    }
                    return Optional.of(p);
                });
                RemovableMedia.Backing backing = src.isEmpty() ? RemovableMedia.Backing.EMPTY
                        : SafeXml.attr(disk, "type").orElse("").equals("block") ? RemovableMedia.Backing.HOST_DEVICE
                        : RemovableMedia.Backing.IMAGE;
                if (cd) {
                    Optional<DeviceSlot> slot = bus.filter(bu -> bu != Bus.VIRTIO_BLK).flatMap(bu -> index.map(i ->
                            new DeviceSlot(bu, i / bu.unitsPerController(), i % bu.unitsPerController())));
                    b.removables.add(new RemovableMedia(RemovableMedia.MediaType.CDROM, slot, -1, backing, src,
                            backing == RemovableMedia.Backing.IMAGE ? image : Optional.empty(), true));
                } else {
                    b.removables.add(new RemovableMedia(RemovableMedia.MediaType.FLOPPY, Optional.empty(),
                            index.orElse(-1), backing, src,
                            backing == RemovableMedia.Backing.IMAGE ? image : Optional.empty(), true));
                }
            }
        }
        if (b.disks.isEmpty()) {
            throw BadInputException.inFile(file, "this guest has no non-removable disks");
        }
        nics(devices, b.nics);
        if (!SafeXml.children(devices, "hostdev").isEmpty()) {
            warn.accept(file + ": this guest has passthrough host devices, which will be ignored");
        }
        return b.build();
    }

    private UUID uuid(String s, String what) {
        try {
            String hex = s.strip().replace("-", "");
            if (!hex.matches("[0-9a-fA-F]{32}")) {
                throw new IllegalArgumentException();
            }
            return UUID.fromString(hex.replaceFirst("(.{8})(.{4})(.{4})(.{4})(.{12})", "$1-$2-$3-$4-$5"));
        } catch (IllegalArgumentException e) {
            throw BadInputException.inFile(file, "<" + what + "> '" + s + "' is not a UUID");
        }
    }

    private long memory(Element m) {
        long v;
        try {
            v = Long.parseLong(m.getTextContent().strip());
        } catch (NumberFormatException e) {
            throw BadInputException.inFile(file, "<memory> '" + m.getTextContent().strip() + "' is not a number");
        }
        String unit = m.getAttribute("unit");
        long mul = switch (unit.isEmpty() ? "KiB" : unit) {
            case "b", "bytes" -> 1;
            case "KB" -> 1000;
            case "k", "KiB" -> 1024;
            case "MB" -> 1000 * 1000;
            case "M", "MiB" -> 1024 * 1024;
            case "GB" -> 1000L * 1000 * 1000;
            case "G", "GiB" -> 1024L * 1024 * 1024;
            case "TB" -> 1000L * 1000 * 1000 * 1000;
            case "T", "TiB" -> 1024L * 1024 * 1024 * 1024;
            default -> throw BadInputException.inFile(file, "<memory unit='" + unit + "'> is not a unit libvirt knows");
        };
        if (v < 0 || v > Long.MAX_VALUE / mul) {
            throw BadInputException.inFile(file, "<memory> " + v + " " + unit + " is out of range");
        }
        return v * mul;
    }

    private Optional<Integer> intAttr(Element e, String name) {
        return SafeXml.attr(e, name).map(v -> parseInt(v, name));
    }

    private int parseInt(String v, String what) {
        try {
            int i = Integer.parseInt(v.strip());
            if (i < 1 || i > 4096) {
                throw new NumberFormatException();
            }
            return i;
        } catch (NumberFormatException e) {
            throw BadInputException.inFile(file, what + " '" + v + "' is not a count between 1 and 4096");
        }
    }

    /** "sdc" is 2, "hdb" 1, "vdaa" 26, "sr1" 1, as libguestfs numbers drives. */
    private Optional<Integer> driveIndex(String dev) {
        if (dev.startsWith("sr")) {
            try {
                return Optional.of(Integer.parseInt(dev.substring(2)));
            } catch (NumberFormatException e) {
                warn.accept(file + ": could not parse device name '" + dev + "'");
                return Optional.empty();
            }
        }
        for (String prefix : new String[] {"xvd", "hd", "sd", "vd", "fd"}) {
            if (dev.startsWith(prefix)) {
                String letters = dev.substring(prefix.length());
                if (letters.isEmpty() || !letters.matches("[a-z]{1,3}")) {
                    break;
                }
                int n = 0;
                for (char c : letters.toCharArray()) {
                    n = n * 26 + (c - 'a' + 1);
                }
                return Optional.of(n - 1);
            }
        }
        warn.accept(file + ": <target dev='" + dev + "'> was ignored because the device name could not be recognized");
        return Optional.empty();
    }

    private Path resolve(String name, String what) {
        return guard.resolve(file, name, what, "<source>");
    }

    private Optional<Display> display(Element devices) {
        Optional<Element> g = SafeXml.child(devices, "graphics");
        if (g.isEmpty()) {
            return Optional.empty();
        }
        Element e = g.get();
        String type = e.getAttribute("type");
        Optional<String> keymap = SafeXml.attr(e, "keymap");
        boolean password = e.hasAttribute("passwd");
        String listen = "";
        Optional<Element> l = SafeXml.child(e, "listen");
        if (l.isEmpty()) {
            if (e.hasAttribute("listen")) {
                listen = " listening on address " + e.getAttribute("listen");
            }
        } else {
            String lt = l.get().getAttribute("type");
            listen = switch (lt) {
                case "address" -> l.get().hasAttribute("address") ? " listening on address "
                        + l.get().getAttribute("address") : "";
                case "network" -> l.get().hasAttribute("network") ? " listening on network "
                        + l.get().getAttribute("network") : "";
                case "socket" -> l.get().hasAttribute("socket") ? " listening on Unix domain socket "
                        + l.get().getAttribute("socket") : " listening on automatically created Unix domain socket";
                case "none" -> " listening on private fd";
                default -> "";
            };
        }
        Optional<Integer> port = e.getAttribute("autoport").equals("no")
                ? SafeXml.attr(e, "port").flatMap(p -> {
                    try {
                        int v = Integer.parseInt(p);
                        return v > 0 ? Optional.of(v) : Optional.empty();
                    } catch (NumberFormatException x) {
                        return Optional.empty();
                    }
                }) : Optional.empty();
        return switch (type) {
            case "vnc", "spice" -> Optional.of(new Display(type, keymap, password, listen, port));
            default -> {
                warn.accept(file + ": display <graphics type='" + type + "'> was ignored");
                yield Optional.empty();
            }
        };
    }

    private void nics(Element devices, List<SourceNic> out) {
        List<Element> ifs = SafeXml.children(devices, "interface");
        for (int i = 0; i < ifs.size(); i++) {
            Element e = ifs.get(i);
            Optional<String> mac = SafeXml.child(e, "mac").flatMap(m -> SafeXml.attr(m, "address"))
                    .filter(m -> !m.equals("00:00:00:00:00:00")).map(m -> m.toLowerCase(Locale.ROOT));
            Optional<String> model = SafeXml.child(e, "model").flatMap(m -> SafeXml.attr(m, "type"));
            String type = e.getAttribute("type");
            SourceNic.VnetType vt;
            if (type.equals("network")) {
                vt = SourceNic.VnetType.NETWORK;
            } else if (type.equals("bridge")) {
                vt = SourceNic.VnetType.BRIDGE;
            } else {
                if (type.equals("direct")) {
                    warn.accept(file + ": this guest has a direct network interface, which will be ignored");
                }
                continue;
            }
            Optional<String> vnet = SafeXml.child(e, "source").flatMap(s -> SafeXml.attr(s, "network")
                    .or(() -> SafeXml.attr(s, "bridge")));
            if (vnet.isEmpty()) {
                continue;
            }
            String name = vnet.get().isEmpty() ? "eth" + i : vnet.get();
            out.add(new SourceNic(i, model, mac, SourceNic.MacType.UNKNOWN, vnet.filter(v -> !v.isEmpty()), name, vt,
                    vt == SourceNic.VnetType.BRIDGE ? SourceNic.Connection.BRIDGED : SourceNic.Connection.UNSPECIFIED,
                    Optional.empty(), true));
        }
    }
}
