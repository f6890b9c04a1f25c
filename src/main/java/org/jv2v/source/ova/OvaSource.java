package org.jv2v.source.ova;

import org.jv2v.BadInputException;
import org.jv2v.model.Bus;
import org.jv2v.model.Controller;
import org.jv2v.model.Cpu;
import org.jv2v.model.CpuTopology;
import org.jv2v.model.DeviceSlot;
import org.jv2v.model.DiskMode;
import org.jv2v.model.Firmware;
import org.jv2v.model.GuestOsHint;
import org.jv2v.model.RemovableMedia;
import org.jv2v.model.Sound;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceVm;
import org.jv2v.model.Video;
import org.jv2v.source.SafeXml;
import org.jv2v.source.SourceNames;
import org.jv2v.source.SourceOptions;
import org.jv2v.source.ova.OvaArchive.Member;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code -i ova}: an OVA (uncompressed tar) or a folder holding an OVF, its manifest and disks.
 * Every checksum in the manifest(s) is verified before anything else happens; a mismatch is an
 * error. The OVF is parsed with DTDs and external entities refused.
 */
public final class OvaSource {
    /** A manifest lists a handful of files; 1 MiB is far above any. */
    static final long MAX_MANIFEST_BYTES = 1L << 20;
    private static final Pattern MANIFEST_LINE = Pattern.compile("^(SHA1|SHA256|SHA512)\\((.+)\\)\\s*=\\s*([0-9a-fA-F]+)\\s*$");
    private static final Pattern SNAPSHOT = Pattern.compile("\\.(\\d+)$");

    private final OvaArchive ova;
    private final Consumer<String> warn;
    private Path ovfName;

    private OvaSource(OvaArchive ova, Consumer<String> warn) {
        this.ova = ova;
        this.warn = warn;
    }

    public static SourceVm read(Path path, SourceOptions options, Consumer<String> warn) throws IOException {
        try (OvaArchive ova = OvaArchive.open(path)) {
            return new OvaSource(ova, warn).build();
        }
    }

    private SourceVm build() throws IOException {
        List<Member> ovfs = ova.membersEndingWith(".ovf");
        if (ovfs.isEmpty()) {
            throw BadInputException.inFile(ova.path(), "no .ovf file in the OVA");
        }
        if (ovfs.size() > 1) {
            throw BadInputException.inFile(ova.path(), "more than one .ovf file in the OVA: "
                    + ovfs.stream().map(Member::name).toList());
        }
        Member ovf = ovfs.get(0);
        ovfName = Path.of(ova.path().toString(), ovf.name());
        verifyManifests();
        byte[] bytes = ova.readSmall(ovf, SafeXml.MAX_XML_BYTES, "OVF");
        Document doc = SafeXml.parse(ovfName, bytes, true);
        return parse(doc, parentOf(ovf.name()));
    }

    private static String parentOf(String name) {
        int slash = name.lastIndexOf('/');
        return slash < 0 ? "" : name.substring(0, slash + 1);
    }

    // ---------------------------------------------------------------- manifest

    private void verifyManifests() throws IOException {
        for (Member mf : ova.membersEndingWith(".mf")) {
            String text = new String(ova.readSmall(mf, MAX_MANIFEST_BYTES, "manifest"), StandardCharsets.UTF_8);
            String dir = parentOf(mf.name());
            String[] lines = text.split("\n");
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i].strip();
                if (line.isEmpty()) {
                    continue;
                }
                Path where = Path.of(ova.path().toString(), mf.name());
                Matcher m = MANIFEST_LINE.matcher(line);
                if (!m.matches()) {
                    warn.accept(where + ":" + (i + 1) + ": unable to parse line '" + line + "' (ignored)");
                    continue;
                }
                String algo = m.group(1);
                String fname = OvaArchive.checkName(where, m.group(2).strip());
                String expected = m.group(3).toLowerCase(Locale.ROOT);
                Optional<Member> target = ova.member(dir + fname);
                if (target.isEmpty()) {
                    // VMware writes checksums of files it leaves out (RHBZ#1570407): warn only
                    warn.accept(where + ":" + (i + 1) + ": manifest has a checksum for '" + fname
                            + "', which is not in the OVA (ignored)");
                    continue;
                }
                String actual = digest(target.get(), algo);
                if (!actual.equals(expected)) {
                    throw BadInputException.atLine(where, i + 1, "corrupt OVA: the " + algo + " of '" + fname
                            + "' does not match the manifest (expected " + expected + ", actual " + actual + ")");
                }
            }
        }
    }

    private String digest(Member m, String algo) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(switch (algo) {
                case "SHA1" -> "SHA-1";
                case "SHA256" -> "SHA-256";
                default -> "SHA-512";
            });
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = ova.open(m)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    // ---------------------------------------------------------------- OVF

    /** One hardware item: its rasd fields by local name, and vmw:Config pairs. */
    private record Item(Map<String, String> fields, Map<String, String> config) {
        Optional<String> get(String name) {
            return Optional.ofNullable(fields.get(name));
        }

        int type() {
            return get("ResourceType").map(s -> {
                try {
                    return Integer.parseInt(s);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }).orElse(-1);
        }
    }

    private SourceVm parse(Document doc, String base) {
        Element env = doc.getDocumentElement();
        if (!SafeXml.localName(env).equals("Envelope")) {
            throw BadInputException.inFile(ovfName, "not an OVF: the root element is <" + env.getTagName() + ">");
        }
        Element vs = SafeXml.child(env, "VirtualSystem").orElseThrow(() ->
                BadInputException.inFile(ovfName, "no <VirtualSystem> (collections of VMs are not supported)"));
        Optional<String> ovfNameText = SafeXml.text(vs, "Name").filter(s -> !s.isEmpty());
        String name = ovfNameText.orElseGet(() -> {
            warn.accept(ovfName + ": no <Name> in the OVF: naming the guest after the file");
            return SourceNames.fromFile(ova.path());
        });
        SourceVm.Builder b = SourceVm.builder(name, "vmware");
        b.sourceFile = Optional.of(ova.path());
        Element hw = SafeXml.child(vs, "VirtualHardwareSection").orElseThrow(() ->
                BadInputException.inFile(ovfName, "no <VirtualHardwareSection>"));
        List<Item> items = new ArrayList<>();
        for (Element e : SafeXml.children(hw)) {
            String ln = SafeXml.localName(e);
            if (ln.equals("Item") || ln.equals("StorageItem") || ln.equals("EthernetPortItem")) {
                Map<String, String> f = new HashMap<>();
                Map<String, String> c = new HashMap<>();
                for (Element x : SafeXml.children(e)) {
                    if (SafeXml.localName(x).equals("Config")) {
                        c.put(SafeXml.attr(x, "key").orElse(""), SafeXml.attr(x, "value").orElse(""));
                    } else {
                        f.putIfAbsent(SafeXml.localName(x), x.getTextContent().strip());
                    }
                }
                items.add(new Item(f, c));
            }
        }
        Map<String, String> config = new HashMap<>();
        for (Element x : SafeXml.children(hw, "Config")) {
            config.put(SafeXml.attr(x, "key").orElse(""), SafeXml.attr(x, "value").orElse(""));
        }

        int vcpus = items.stream().filter(i -> i.type() == 3).findFirst()
                .flatMap(i -> i.get("VirtualQuantity")).map(v -> count(v, "CPU VirtualQuantity")).orElse(1);
        Optional<CpuTopology> topology = items.stream().filter(i -> i.type() == 3).findFirst()
                .flatMap(i -> i.get("CoresPerSocket")).map(v -> count(v, "CoresPerSocket"))
                .flatMap(c -> {
                    if (vcpus % c != 0) {
                        warn.accept(ovfName + ": vmw:CoresPerSocket " + c + " does not divide " + vcpus + " vCPUs: ignored");
                        return Optional.empty();
                    }
                    return Optional.of(new CpuTopology(vcpus / c, c, 1));
                });
        b.cpu = Cpu.of(vcpus, topology);
        b.memoryBytes = items.stream().filter(i -> i.type() == 4).findFirst().map(this::memory)
                .orElse(1024L * 1024 * 1024);

        String fw = config.getOrDefault("firmware", "");
        b.firmware = switch (fw) {
            case "efi" -> Firmware.UEFI;
            case "bios" -> Firmware.BIOS;
            case "" -> Firmware.UNKNOWN;
            default -> throw BadInputException.inFile(ovfName, "unknown Config firmware value '" + fw
                    + "' (expected \"bios\" or \"efi\")");
        };
        b.secureBoot = "true".equalsIgnoreCase(config.get("bootOptions.efiSecureBootEnabled"))
                || "true".equalsIgnoreCase(config.get("uefi.secureBoot.enabled"));
        SafeXml.child(vs, "OperatingSystemSection").flatMap(os -> SafeXml.attr(os, "osType"))
                .ifPresent(t -> b.guestOs = GuestOsHint.ofVmware(t));
        SafeXml.child(vs, "AnnotationSection").flatMap(a -> SafeXml.text(a, "Annotation")).filter(s -> !s.isEmpty())
                .ifPresent(a -> b.annotation = Optional.of(a));

        // controllers, by InstanceID
        Map<String, Controller> controllers = new HashMap<>();
        int[] seen = new int[Bus.values().length];
        for (Item i : items) {
            Optional<Bus> bus = switch (i.type()) {
                case 5 -> Optional.of(Bus.IDE);
                case 6 -> Optional.of(Bus.SCSI);
                case 20 -> Optional.of(i.get("ResourceSubType").orElse("").toLowerCase(Locale.ROOT).contains("nvme")
                        ? Bus.NVME : Bus.SATA);
                default -> Optional.empty();
            };
            if (bus.isEmpty()) {
                continue;
            }
            int index = i.get("Address").map(a -> count0(a, "controller Address")).orElse(seen[bus.get().ordinal()]);
            seen[bus.get().ordinal()]++;
            Optional<String> model = switch (bus.get()) {
                case SCSI -> i.get("ResourceSubType").map(s -> switch (s.toLowerCase(Locale.ROOT)) {
                    case "lsilogicsas" -> "lsisas1068";
                    case "virtualscsi" -> "pvscsi";
                    default -> s.toLowerCase(Locale.ROOT);
                });
                case SATA -> Optional.of("ahci");
                case NVME -> Optional.of("nvme");
                default -> Optional.empty();
            };
            Controller c = new Controller(bus.get(), index, model);
            i.get("InstanceID").ifPresent(id -> controllers.put(id, c));
            if (bus.get() != Bus.IDE) {
                b.controllers.add(c);
            }
        }
        b.controllers.sort(Comparator.comparing(Controller::bus).thenComparingInt(Controller::index));

        disks(env, base, items, controllers, b);
        removables(items, controllers, b);
        nics(items, b);
        items.stream().filter(i -> i.type() == 24).findFirst().ifPresent(i -> b.video = Optional.of(new Video("vmvga",
                Optional.ofNullable(i.config().get("videoRamSizeInKB")).map(v -> {
                    try {
                        return OptionalLong.of(Long.parseLong(v) * 1024);
                    } catch (NumberFormatException e) {
                        return OptionalLong.empty();
                    }
                }).orElse(OptionalLong.empty()))));
        items.stream().filter(i -> i.type() == 35).findFirst().flatMap(i -> i.get("ResourceSubType")).ifPresent(s -> {
            String m = s.toLowerCase(Locale.ROOT);
            String qemu = m.contains("hdaudio") ? "ich6" : m.contains("1371") ? "es1370" : m.contains("sb16") ? "sb16" : "";
            b.sound = Optional.of(new Sound(m, qemu));
        });
        b.vtpm = items.stream().anyMatch(i -> i.get("ResourceSubType").orElse("").toLowerCase(Locale.ROOT).contains("vtpm"));
        return b.build();
    }

    private int count(String v, String what) {
        int n = count0(v, what);
        if (n < 1) {
            throw BadInputException.inFile(ovfName, what + " '" + v + "' must be at least 1");
        }
        return n;
    }

    private int count0(String v, String what) {
        try {
            int n = Integer.parseInt(v.strip());
            if (n < 0 || n > 4096) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw BadInputException.inFile(ovfName, what + " '" + v + "' is not a number between 0 and 4096");
        }
    }

    /** "byte * 2^20" and friends (DSP0004 programmatic units); MB when absent, as VMware writes. */
    private long unitBytes(String units) {
        String u = units.replace(" ", "").toLowerCase(Locale.ROOT);
        if (u.isEmpty() || u.equals("megabytes") || u.equals("mb")) return 1L << 20;
        if (u.equals("kilobytes") || u.equals("kb")) return 1L << 10;
        if (u.equals("gigabytes") || u.equals("gb")) return 1L << 30;
        if (u.equals("byte") || u.equals("bytes")) return 1;
        Matcher m = Pattern.compile("byte\\*2\\^(\\d{1,2})").matcher(u);
        if (m.matches() && Integer.parseInt(m.group(1)) <= 50) {
            return 1L << Integer.parseInt(m.group(1));
        }
        throw BadInputException.inFile(ovfName, "unknown allocation units '" + units + "'");
    }

    private long memory(Item i) {
        long q;
        try {
            q = Long.parseLong(i.get("VirtualQuantity").orElse("1024").strip());
        } catch (NumberFormatException e) {
            throw BadInputException.inFile(ovfName, "memory VirtualQuantity is not a number");
        }
        long unit = unitBytes(i.get("AllocationUnits").orElse(""));
        if (q < 1 || q > (24L << 40) / unit) {
            throw BadInputException.inFile(ovfName, "memory " + q + " x " + unit + " bytes is out of range");
        }
        return q * unit;
    }

    private Optional<DeviceSlot> slot(Item i, Map<String, Controller> controllers, String what) {
        Optional<String> parent = i.get("Parent");
        if (parent.isEmpty()) {
            warn.accept(ovfName + ": " + what + " has no parent controller");
            return Optional.empty();
        }
        Controller c = controllers.get(parent.get());
        if (c == null) {
            warn.accept(ovfName + ": " + what + " hangs off an unknown controller (InstanceID " + parent.get() + ")");
            return Optional.empty();
        }
        int unit = i.get("AddressOnParent").map(a -> count0(a, "AddressOnParent")).orElse(0);
        if (unit >= c.bus().unitsPerController()) {
            throw BadInputException.inFile(ovfName, what + ": AddressOnParent " + unit + " is out of range for "
                    + c.bus().label());
        }
        return Optional.of(new DeviceSlot(c.bus(), c.index(), unit));
    }

    private void disks(Element env, String base, List<Item> items, Map<String, Controller> controllers,
                       SourceVm.Builder b) {
        Map<String, Element> diskById = new HashMap<>();
        SafeXml.child(env, "DiskSection").ifPresent(ds -> {
            for (Element d : SafeXml.children(ds, "Disk")) {
                diskById.put(SafeXml.attr(d, "diskId").orElse(""), d);
            }
        });
        Map<String, Element> fileById = new HashMap<>();
        SafeXml.child(env, "References").ifPresent(r -> {
            for (Element f : SafeXml.children(r, "File")) {
                fileById.put(SafeXml.attr(f, "id").orElse(""), f);
            }
        });
        List<SourceDisk> disks = new ArrayList<>();
        for (Item i : items) {
            if (i.type() != 17) {
                continue;
            }
            String what = "disk '" + i.get("ElementName").orElse("?") + "'";
            String host = i.get("HostResource").orElse("");
            Matcher hm = Pattern.compile("^(?:ovf:)?/disk/(.*)$").matcher(host);
            if (!hm.matches()) {
                throw BadInputException.inFile(ovfName, what + ": could not parse HostResource '" + host + "'");
            }
            Element disk = diskById.get(hm.group(1));
            if (disk == null) {
                throw BadInputException.inFile(ovfName, what + ": no <Disk diskId='" + hm.group(1) + "'>");
            }
            String fileRef = SafeXml.attr(disk, "fileRef").orElseThrow(() -> BadInputException.inFile(ovfName,
                    what + ": the disk has no file (blank disks are not supported)"));
            Element file = fileById.get(fileRef);
            if (file == null) {
                throw BadInputException.inFile(ovfName, what + ": no <File id='" + fileRef + "'>");
            }
            String href = SafeXml.attr(file, "href").orElseThrow(() -> BadInputException.inFile(ovfName,
                    what + ": no href in <File id='" + fileRef + "'>"));
            String compression = switch (SafeXml.attr(file, "compression").orElse("identity")) {
                case "identity", "" -> "none";
                case "gzip" -> "gzip";
                default -> throw BadInputException.inFile(ovfName, what + ": unsupported compression '"
                        + SafeXml.attr(file, "compression").get() + "'");
            };
            if (href.contains("://")) {
                throw BadInputException.inFile(ovfName, what + ": '" + href + "' is a URL: only files inside the OVA "
                        + "are read");
            }
            String member = OvaArchive.checkName(ovfName, base + href);
            Member m = findFileOrSnapshot(member);
            OptionalLong capacity = SafeXml.attr(disk, "capacity").map(c -> {
                try {
                    long cap = Long.parseLong(c.strip());
                    long unit = unitBytes(SafeXml.attr(disk, "capacityAllocationUnits").orElse("byte"));
                    if (cap < 0 || cap > Long.MAX_VALUE / unit) {
                        throw new NumberFormatException();
                    }
                    return OptionalLong.of(cap * unit);
                } catch (NumberFormatException e) {
                    warn.accept(ovfName + ": " + what + ": capacity '" + c + "' ignored");
                    return OptionalLong.empty();
                }
            }).orElse(OptionalLong.empty());
            Optional<DeviceSlot> slot = slot(i, controllers, what);
            Optional<String> model = slot.flatMap(s -> controllers.values().stream()
                    .filter(c -> c.bus() == s.bus() && c.index() == s.controller()).findFirst())
                    .flatMap(Controller::model);
            String format = SafeXml.attr(disk, "format").orElse("").toLowerCase(Locale.ROOT).contains("vmdk")
                    || href.toLowerCase(Locale.ROOT).contains(".vmdk") ? "vmdk" : "";
            disks.add(new SourceDisk(0, slot, model, DiskMode.PERSISTENT, href, ova.location(m, compression),
                    format.isEmpty() ? Optional.empty() : Optional.of(format), capacity));
        }
        // jv2v's disk order (SCSI, NVMe, SATA, IDE, then controller and unit); ties keep the OVF's order
        disks.sort(Comparator.comparingInt((SourceDisk d) -> d.slot().map(s -> s.bus().diskOrder()).orElse(9))
                .thenComparingInt(d -> d.slot().map(DeviceSlot::controller).orElse(0))
                .thenComparingInt(d -> d.slot().map(DeviceSlot::unit).orElse(0)));
        for (int k = 0; k < disks.size(); k++) {
            b.disks.add(disks.get(k).withId(k));
        }
    }

    /**
     * The member an href names, or, as some VMware exports do, the highest-numbered snapshot
     * {@code href.NNNNNNNNN} when the href itself is missing.
     */
    private Member findFileOrSnapshot(String member) {
        Optional<Member> m = ova.member(member);
        if (m.isPresent()) {
            return m.get();
        }
        Member best = null;
        long bestN = -1;
        for (Member x : ova.members().values()) {
            if (x.name().startsWith(member + ".")) {
                Matcher sm = SNAPSHOT.matcher(x.name().substring(member.length()));
                if (sm.matches() && sm.group(1).length() <= 18 && Long.parseLong(sm.group(1)) > bestN) {
                    bestN = Long.parseLong(sm.group(1));
                    best = x;
                }
            }
        }
        if (best == null) {
            throw BadInputException.inFile(ova.path(), "the OVF references '" + member + "', which is not in the OVA");
        }
        warn.accept(ova.path() + ": '" + member + "' is missing: using its latest snapshot '" + best.name() + "'");
        return best;
    }

    private void removables(List<Item> items, Map<String, Controller> controllers, SourceVm.Builder b) {
        List<RemovableMedia> cds = new ArrayList<>();
        int floppies = 0;
        for (Item i : items) {
            int t = i.type();
            if (t != 14 && t != 15 && t != 16) {
                continue;
            }
            String sub = i.get("ResourceSubType").orElse("").toLowerCase(Locale.ROOT);
            RemovableMedia.Backing backing = sub.contains("remote") ? RemovableMedia.Backing.CLIENT_DEVICE
                    : RemovableMedia.Backing.EMPTY;
            boolean start = !"false".equalsIgnoreCase(i.get("AutomaticAllocation").orElse("true"));
            if (t == 14) {
                int unit = i.get("AddressOnParent").map(a -> count0(a, "AddressOnParent")).orElse(floppies);
                floppies++;
                if (unit > 1) {
                    throw BadInputException.inFile(ovfName, "floppy unit " + unit + " is out of range 0..1");
                }
                b.removables.add(new RemovableMedia(RemovableMedia.MediaType.FLOPPY, Optional.empty(), unit, backing,
                        Optional.empty(), Optional.empty(), start));
            } else {
                Optional<DeviceSlot> slot = slot(i, controllers, "CD-ROM '" + i.get("ElementName").orElse("?") + "'");
                cds.add(new RemovableMedia(RemovableMedia.MediaType.CDROM, slot, -1, backing, Optional.empty(),
                        Optional.empty(), start));
            }
        }
        cds.sort(Comparator.comparingInt((RemovableMedia r) -> r.slot().map(s -> switch (s.bus()) {
            case IDE -> 0;
            case SATA -> 1;
            default -> 2;
        }).orElse(3)).thenComparingInt(r -> r.slot().map(DeviceSlot::index).orElse(0)));
        b.removables.addAll(0, cds);
    }

    private void nics(List<Item> items, SourceVm.Builder b) {
        int n = 0;
        for (Item i : items) {
            if (i.type() != 10) {
                continue;
            }
            int index = n++;
            Optional<String> connection = i.get("Connection").filter(s -> !s.isEmpty());
            Optional<String> mac = i.get("Address").map(s -> s.strip().toLowerCase(Locale.ROOT))
                    .filter(s -> s.matches("[0-9a-f]{2}(:[0-9a-f]{2}){5}"));
            Optional<String> model = i.get("ResourceSubType").map(s -> s.toLowerCase(Locale.ROOT))
                    .map(s -> s.equals("pcnet32") ? "vlance" : s);
            // as virt-v2v reads OVFs: a named connection is a bridge, else a network named after the NIC
            String vnet = connection.orElse("eth" + index);
            SourceNic.VnetType vt = connection.isPresent() ? SourceNic.VnetType.BRIDGE : SourceNic.VnetType.NETWORK;
            // VMware's exports keep the NIC's PCI slot, which its predictable name in the guest comes from
            String slot = i.config().getOrDefault("slotInfo.pciSlotNumber", "").strip();
            java.util.OptionalInt pciSlot = slot.matches("\\d{1,5}") ? java.util.OptionalInt.of(Integer.parseInt(slot))
                    : java.util.OptionalInt.empty();
            b.nics.add(new SourceNic(index, model, mac, SourceNic.MacType.UNKNOWN, connection, vnet, vt, connection.isPresent() ? SourceNic.Connection.BRIDGED
                    : SourceNic.Connection.UNSPECIFIED, Optional.empty(),
                    !"false".equalsIgnoreCase(i.get("AutomaticAllocation").orElse("true")), pciSlot));
        }
    }
}
