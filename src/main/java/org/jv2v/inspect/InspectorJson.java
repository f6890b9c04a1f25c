package org.jv2v.inspect;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code jv2v inspect --format json}: virt-inspector's fields under the same names, plus what jv2v
 * also finds (kernels, boot loader, init system, network style, firmware, every volume, notes).
 */
public final class InspectorJson {
    /** Bumped when a field changes meaning or disappears; new fields do not bump it. */
    public static final int FORMAT_VERSION = 1;

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private InspectorJson() {}

    public static String write(Inspection in, boolean applications) {
        ObjectNode top = F.objectNode();
        top.put("format", "jv2v-inspect");
        top.put("version", FORMAT_VERSION);
        ArrayNode oses = top.putArray("operatingsystems");
        for (GuestInfo g : in.roots()) {
            oses.add(os(g, applications));
        }
        top.set("firmware", firmware(in.firmware()));
        ArrayNode vols = top.putArray("volumes");
        for (Inspection.ProbedVolume p : in.volumes()) {
            ObjectNode v = filesystem(p.info());
            v.put("kind", p.volume().kind().name().toLowerCase(java.util.Locale.ROOT));
            v.put("size", p.volume().device().size());
            p.usedMapTrust().ifPresent(t -> v.put("used_map_untrusted", t));
            vols.add(v);
        }
        ArrayNode notes = top.putArray("notes");
        in.notes().forEach(notes::add);
        return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(top) + "\n";
    }

    static ObjectNode os(GuestInfo g, boolean applications) {
        ObjectNode o = F.objectNode();
        o.put("root", g.root());
        o.put("name", g.type());
        put(o, "arch", g.arch());
        put(o, "distro", g.distro());
        put(o, "product_name", g.productName());
        put(o, "product_variant", g.productVariant());
        o.put("major_version", g.majorVersion());
        o.put("minor_version", g.minorVersion());
        put(o, "package_format", g.packageFormat());
        put(o, "package_management", g.packageManagement());
        g.windows().ifPresent(w -> {
            o.put("windows_systemroot", w.systemRoot());
            put(o, "windows_current_control_set", w.currentControlSet());
        });
        put(o, "hostname", g.hostname());
        put(o, "osinfo", g.osinfo());
        ArrayNode mps = o.putArray("mountpoints");
        for (MountPoint m : g.mountpoints()) {
            mps.addObject().put("dev", m.device()).put("path", m.path());
        }
        ArrayNode fss = o.putArray("filesystems");
        g.filesystems().forEach(f -> fss.add(filesystem(f)));
        if (!g.driveMappings().isEmpty()) {
            ArrayNode dm = o.putArray("drive_mappings");
            g.driveMappings().forEach(d -> dm.addObject().put("name", d.letter()).put("dev", d.device()));
        }
        if (applications) {
            ArrayNode apps = o.putArray("applications");
            for (Application a : g.applications()) {
                ObjectNode n = apps.addObject();
                n.put("name", a.name());
                nonEmpty(n, "display_name", a.displayName());
                if (a.epoch() != 0) {
                    n.put("epoch", a.epoch());
                }
                nonEmpty(n, "version", a.version());
                nonEmpty(n, "release", a.release());
                nonEmpty(n, "arch", a.arch());
                nonEmpty(n, "install_path", a.installPath());
                nonEmpty(n, "publisher", a.publisher());
                nonEmpty(n, "url", a.url());
                nonEmpty(n, "source_package", a.sourcePackage());
                nonEmpty(n, "summary", a.summary());
                nonEmpty(n, "description", a.description());
            }
        }
        ArrayNode kernels = o.putArray("kernels");
        for (Kernel k : g.kernels()) {
            ObjectNode n = kernels.addObject();
            n.put("version", k.version());
            n.put("vmlinuz", k.vmlinuz());
            put(n, "initrd", k.initrd());
            put(n, "config", k.config());
            put(n, "modules_dir", k.modulesDir());
            n.put("module_count", k.moduleCount());
            ObjectNode d = n.putObject("drivers");
            for (Map.Entry<String, String> e : k.drivers().entrySet()) {
                d.put(e.getKey(), e.getValue());
            }
            n.put("supports_virtio", k.supportsVirtio());
        }
        g.bootloader().ifPresent(b -> o.putObject("bootloader").put("kind", b.kind()).put("firmware", b.firmware())
                .put("config", b.config()));
        o.put("init_system", g.initSystem());
        ArrayNode net = o.putArray("network");
        g.network().forEach(n -> net.addObject().put("style", n.style()).put("evidence", n.evidence()));
        g.windows().ifPresent(w -> {
            ObjectNode n = o.putObject("windows");
            put(n, "edition_id", w.editionId());
            put(n, "installation_type", w.installationType());
            put(n, "current_build", w.currentBuild());
            ArrayNode virtio = n.putArray("virtio_drivers");
            w.virtioDrivers().forEach(virtio::add);
            ArrayNode drivers = n.putArray("drivers");
            w.services().stream().filter(WindowsInfo.WindowsService::isDriver).forEach(s -> drivers.add(s.name()));
        });
        ArrayNode notes = o.putArray("notes");
        g.notes().forEach(notes::add);
        return o;
    }

    static ObjectNode filesystem(FilesystemInfo f) {
        ObjectNode n = F.objectNode();
        n.put("dev", f.device());
        n.put("type", f.type());
        put(n, "label", f.label());
        put(n, "uuid", f.uuid());
        f.version().ifPresent(v -> n.put("type_version", v));
        n.put("opened", f.opened());
        put(n, "problem", f.problem());
        f.totalBytes().ifPresent(v -> n.put("total_bytes", v));
        f.freeBytes().ifPresent(v -> n.put("free_bytes", v));
        return n;
    }

    static ObjectNode firmware(FirmwareInfo fw) {
        ObjectNode n = F.objectNode();
        n.put("kind", fw.kind().name().toLowerCase(java.util.Locale.ROOT));
        array(n, "esp", fw.espDevices());
        array(n, "bios_boot", fw.biosBootDevices());
        array(n, "mbr_boot_code", fw.mbrBootCode());
        array(n, "evidence", fw.evidence());
        return n;
    }

    private static void array(ObjectNode n, String name, List<String> values) {
        ArrayNode a = n.putArray(name);
        values.forEach(a::add);
    }

    private static void put(ObjectNode n, String name, Optional<String> v) {
        v.ifPresent(s -> n.put(name, s));
    }

    private static void nonEmpty(ObjectNode n, String name, String v) {
        if (!v.isEmpty()) {
            n.put(name, v);
        }
    }
}
