package org.jv2v.inspect;

import org.jv2v.registry.Hive;
import org.jv2v.registry.RegistryKey;
import org.jv2v.registry.RegistryValue;
import org.jv2v.registry.ValueType;
import org.jv2v.volume.DeviceReads;
import org.jv2v.volume.Disk;
import org.jv2v.volume.Partition;
import org.jv2v.volume.PartitionTable;
import org.jv2v.volume.VolumeScan;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What the SOFTWARE and SYSTEM hives say, read as libguestfs reads them: the product name, version
 * and installation type; the current control set, the host name and the drive letters
 * (MountedDevices); the installed programs (the Uninstall keys); and, for the converter, the
 * services and drivers, with the virtio ones named.
 */
final class WindowsRegistry {
    /** Drivers from the virtio-win package, by service name. */
    static final List<String> VIRTIO_SERVICES = List.of("viostor", "vioscsi", "netkvm", "balloon", "vioser",
            "viorng", "pvpanic", "vioinput", "viofs", "fwcfg", "qemufwcfg", "viogpudo", "viomem", "qemupciserial");
    /** More services than a real Windows has (a few hundred to a thousand): the rest are not listed. */
    static final int MAX_SERVICES = 20_000;
    private static final String CURRENT_VERSION = "\\Microsoft\\Windows NT\\CurrentVersion";

    private WindowsRegistry() {}

    /** Fills product, version, variant, control set, host name and drive letters into {@code d}. */
    static void read(GuestFiles g, OsData d, VolumeScan scan) throws IOException {
        Hive software = hive(g, d.windowsSoftwareHive);
        Hive system = hive(g, d.windowsSystemHive);
        Optional<RegistryKey> cv = software.key(CURRENT_VERSION);
        if (cv.isPresent()) {
            string(cv.get(), "ProductName").ifPresent(v -> d.productName = v);
            Optional<Long> major = number(cv.get(), "CurrentMajorVersionNumber");
            Optional<Long> minor = number(cv.get(), "CurrentMinorVersionNumber");
            if (major.isPresent() && minor.isPresent()) {
                d.version(major.get().intValue(), minor.get().intValue());
            } else {
                string(cv.get(), "CurrentVersion").ifPresent(v -> LinuxRelease.parseVersion(v, d));
            }
            string(cv.get(), "InstallationType").ifPresent(v -> d.productVariant = v);
        } else {
            d.notes.add("SOFTWARE hive: no " + CURRENT_VERSION + " key: product and version unknown");
        }
        d.driveMappings = driveMappings(system, scan, d.notes);
        Optional<RegistryValue> current = system.key("\\Select").flatMap(k -> k.value("Current"));
        if (current.isPresent() && isNumber(current.get())) {
            d.windowsCurrentControlSet = String.format("ControlSet%03d", current.get().asNumber());
            d.hostname = system.key("\\" + d.windowsCurrentControlSet + "\\Services\\Tcpip\\Parameters")
                    .flatMap(k -> string(k, "Hostname")).orElse(null);
        } else {
            d.notes.add("SYSTEM hive: no \\Select\\Current: control set and host name unknown");
        }
    }

    /** Programs in the Uninstall keys (64-bit, then 32-bit under WOW6432Node) that have a DisplayName. */
    static List<Application> applications(GuestFiles g, OsData d, List<String> notes) throws IOException {
        if (d.windowsSoftwareHive == null) {
            notes.add("applications: no SOFTWARE hive");
            return List.of();
        }
        Hive software = hive(g, d.windowsSoftwareHive);
        List<Application> out = new ArrayList<>();
        for (String path : List.of("\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
                "\\WOW6432node\\Microsoft\\Windows\\CurrentVersion\\Uninstall")) {
            Optional<RegistryKey> uninstall = software.key(path);
            if (uninstall.isEmpty()) {
                continue;
            }
            for (RegistryKey k : uninstall.get().subkeys()) {
                Optional<String> display = string(k, "DisplayName");
                if (display.isEmpty()) {
                    continue;
                }
                out.add(new Application(k.name(), display.get(), 0, string(k, "DisplayVersion").orElse(""), "", "",
                        string(k, "InstallLocation").orElse(""), string(k, "Publisher").orElse(""),
                        string(k, "URLInfoAbout").orElse(""), "", "", string(k, "Comments").orElse("")));
            }
        }
        out.sort(java.util.Comparator.comparing(Application::name));
        return out;
    }

    /** The edition, build, and the services and drivers of the current control set. */
    static Optional<WindowsInfo> info(GuestFiles g, OsData d, List<String> notes) throws IOException {
        Optional<String> edition = Optional.empty();
        Optional<String> build = Optional.empty();
        if (d.windowsSoftwareHive != null) {
            Optional<RegistryKey> cv = hive(g, d.windowsSoftwareHive).key(CURRENT_VERSION);
            edition = cv.flatMap(k -> string(k, "EditionID"));
            build = cv.flatMap(k -> string(k, "CurrentBuildNumber").or(() -> string(k, "CurrentBuild")));
        }
        List<WindowsInfo.WindowsService> services = new ArrayList<>();
        List<String> virtio = new ArrayList<>();
        if (d.windowsSystemHive != null && d.windowsCurrentControlSet != null) {
            Optional<RegistryKey> svc = hive(g, d.windowsSystemHive).key("\\" + d.windowsCurrentControlSet + "\\Services");
            List<RegistryKey> keys = svc.map(RegistryKey::subkeys).orElse(List.of());
            if (keys.size() > MAX_SERVICES) {
                notes.add("services: " + keys.size() + " keys, only the first " + MAX_SERVICES + " read");
                keys = keys.subList(0, MAX_SERVICES);
            }
            for (RegistryKey k : keys) {
                int type = number(k, "Type").map(Long::intValue).orElse(-1);
                int start = number(k, "Start").map(Long::intValue).orElse(-1);
                services.add(new WindowsInfo.WindowsService(k.name(), type, start, string(k, "ImagePath")));
                for (String v : VIRTIO_SERVICES) {
                    if (k.name().equalsIgnoreCase(v)) {
                        virtio.add(v);
                    }
                }
            }
        }
        return Optional.of(new WindowsInfo(d.windowsSystemRoot, Optional.ofNullable(d.windowsCurrentControlSet),
                edition, Optional.ofNullable(d.productVariant), build, services, virtio));
    }

    /**
     * HKLM\SYSTEM\MountedDevices: "\DosDevices\C:" holds either 12 bytes (an MBR disk's signature,
     * then the partition's byte offset) or "DMIO:ID:" and a GPT partition's GUID.
     */
    static List<org.jv2v.inspect.DriveMapping> driveMappings(Hive system, VolumeScan scan, List<String> notes)
            throws IOException {
        List<org.jv2v.inspect.DriveMapping> out = new ArrayList<>();
        Optional<RegistryKey> md = system.key("\\MountedDevices");
        if (md.isEmpty()) {
            return out;
        }
        for (RegistryValue v : md.get().values()) {
            String key = v.name();
            if (key.length() < 14 || !key.substring(0, 12).toLowerCase(Locale.ROOT).equals("\\dosdevices\\")
                    || !Character.isLetter(key.charAt(12)) || key.charAt(13) != ':' || v.type() != ValueType.BINARY) {
                continue;
            }
            byte[] blob = v.data();
            Optional<String> device = Optional.empty();
            if (blob.length >= 24 && new String(blob, 0, 8, StandardCharsets.ISO_8859_1).equals("DMIO:ID:")) {
                device = gptPartition(scan, guid(blob, 8));
            } else if (blob.length == 12) {
                device = mbrPartition(scan, Arrays.copyOfRange(blob, 0, 4),
                        ByteBuffer.wrap(blob, 4, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
            }
            device.ifPresent(dev -> out.add(new org.jv2v.inspect.DriveMapping(key.substring(12, 13), dev)));
        }
        return out;
    }

    private static Optional<String> mbrPartition(VolumeScan scan, byte[] signature, long offset) throws IOException {
        for (Disk d : scan.disks()) {
            if (d.table().isEmpty() || !d.table().get().scheme().equals("mbr") || d.device().size() < 512) {
                continue;
            }
            ByteBuffer sig = DeviceReads.read(d.device(), 0x1b8, 4, "MBR disk signature");
            byte[] s = new byte[4];
            sig.get(0, s);
            if (!Arrays.equals(s, signature)) {
                continue;
            }
            for (Partition p : d.table().get().partitions()) {
                if (p.start() == offset) {
                    return Optional.of(d.name() + p.number());
                }
            }
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static Optional<String> gptPartition(VolumeScan scan, String guid) {
        for (Disk d : scan.disks()) {
            PartitionTable t = d.table().orElse(null);
            if (t == null || !t.scheme().equals("gpt")) {
                continue;
            }
            for (Partition p : t.partitions()) {
                if (p.uniqueGuid().map(u -> u.equalsIgnoreCase(guid)).orElse(false)) {
                    return Optional.of(d.name() + p.number());
                }
            }
        }
        return Optional.empty();
    }

    /** A GUID stored as Windows stores them: three little-endian fields, then eight bytes as they are. */
    static String guid(byte[] b, int at) {
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder s = new StringBuilder(String.format("%08x-%04x-%04x-", le.getInt(at), le.getShort(at + 4) & 0xffff,
                le.getShort(at + 6) & 0xffff));
        for (int i = 8; i < 16; i++) {
            if (i == 10) {
                s.append('-');
            }
            s.append(String.format("%02x", b[at + i] & 0xff));
        }
        return s.toString();
    }

    private static Hive hive(GuestFiles g, String path) throws IOException {
        Optional<byte[]> bytes = g.readSmall(path, Hive.MAX_IN_MEMORY_BYTES);
        if (bytes.isEmpty()) {
            throw new IOException(path + ": not a regular file of at most " + Hive.MAX_IN_MEMORY_BYTES + " bytes");
        }
        return Hive.open(bytes.get(), path);
    }

    /** A string value (REG_SZ, REG_EXPAND_SZ); empty when absent or of another type. */
    static Optional<String> string(RegistryKey k, String name) {
        return k.value(name).filter(v -> v.type() == ValueType.SZ || v.type() == ValueType.EXPAND_SZ)
                .map(RegistryValue::asString);
    }

    static Optional<Long> number(RegistryKey k, String name) {
        return k.value(name).filter(WindowsRegistry::isNumber).map(RegistryValue::asNumber);
    }

    private static boolean isNumber(RegistryValue v) {
        return (v.type() == ValueType.DWORD || v.type() == ValueType.DWORD_BIG_ENDIAN) && v.data().length >= 4
                || v.type() == ValueType.QWORD && v.data().length >= 8;
    }
}
