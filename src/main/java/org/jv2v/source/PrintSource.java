package org.jv2v.source;

import org.jv2v.model.Controller;
import org.jv2v.model.DeviceSlot;
import org.jv2v.model.DiskLocation;
import org.jv2v.model.RemovableMedia;
import org.jv2v.model.SourceDisk;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceVm;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import java.util.stream.Collectors;

/**
 * {@code --print-source}: the text virt-v2v prints (same layout, so scripts and eyes used to
 * virt-v2v read it unchanged), and with {@code --machine-readable} a JSON document carrying every
 * fact of {@link SourceVm}.
 */
public final class PrintSource {
    public static final String HEADER = "Source guest information (--print-source option):";

    private PrintSource() {}

    /** The block virt-v2v's {@code string_of_source} prints (ends with a newline). */
    public static String text(SourceVm vm) {
        StringBuilder s = new StringBuilder();
        s.append("    source name: ").append(vm.name()).append('\n');
        s.append("hypervisor type: ").append(vm.hypervisor()).append('\n');
        s.append("       VM genid: ").append(vm.genid().map(Object::toString).orElse("")).append('\n');
        s.append("         memory: ").append(vm.memoryBytes()).append(" (bytes)\n");
        s.append("       nr vCPUs: ").append(vm.cpu().vcpus()).append('\n');
        s.append("     CPU vendor: ").append(vm.cpu().vendor().orElse("")).append('\n');
        s.append("      CPU model: ").append(vm.cpu().model().orElse("")).append('\n');
        s.append("   CPU topology: ").append(vm.cpu().topology().map(t -> "sockets: " + t.sockets()
                + " cores/socket: " + t.coresPerSocket() + " threads/core: " + t.threadsPerCore()).orElse(""))
                .append('\n');
        s.append("   CPU features: ").append(String.join(",", vm.cpu().features())).append('\n');
        s.append("       firmware: ").append(vm.firmware().label()).append('\n');
        s.append("UEFI secureboot: ").append(vm.secureBoot()).append('\n');
        s.append("        display: ").append(vm.display().map(d -> d.describe()).orElse("")).append('\n');
        s.append("          sound: ").append(vm.sound().map(x -> x.qemuModel()).orElse("")).append('\n');
        s.append("disks:\n");
        s.append(vm.disks().stream().map(PrintSource::disk).collect(Collectors.joining("\n"))).append('\n');
        s.append("removable media:\n");
        s.append(vm.removables().stream().map(PrintSource::removable).collect(Collectors.joining("\n")))
                .append('\n');
        s.append("NICs:\n");
        s.append(vm.nics().stream().map(PrintSource::nic).collect(Collectors.joining("\n"))).append('\n');
        return s.toString();
    }

    static String disk(SourceDisk d) {
        return "\t" + d.id() + d.bus().map(b -> " [" + b.label() + "]").orElse("");
    }

    static String removable(RemovableMedia r) {
        return "\t" + r.type().label() + r.bus().map(b -> " [" + b.label() + "]").orElse("")
                + r.slotIndex().map(i -> " in slot " + i).orElse("");
    }

    static String nic(SourceNic n) {
        return "\t" + n.vnetType().label() + " \"" + n.vnet() + "\"" + n.mac().map(m -> " mac: " + m).orElse("")
                + n.model().map(m -> " [" + m + "]").orElse("");
    }

    // ---------------------------------------------------------------- JSON

    /** Built on first use: Jackson takes a noticeable part of a short run's start-up. */
    private static final class Mapper {
        static final JsonMapper INSTANCE = JsonMapper.builder().build();
    }

    public static String json(SourceVm vm) {
        return Mapper.INSTANCE.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(vm)) + "\n";
    }

    /** The source as JSON: the "source" object of {@code -o json} (schema in doc/json-output.md). */
    public static ObjectNode toJson(SourceVm vm) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("name", vm.name());
        o.put("hypervisor", vm.hypervisor());
        vm.sourceFile().ifPresent(f -> o.put("file", f.toString()));
        o.put("memory_bytes", vm.memoryBytes());
        ObjectNode cpu = o.putObject("cpu");
        cpu.put("vcpus", vm.cpu().vcpus());
        vm.cpu().topology().ifPresent(t -> {
            ObjectNode top = cpu.putObject("topology");
            top.put("sockets", t.sockets());
            top.put("cores_per_socket", t.coresPerSocket());
            top.put("threads_per_core", t.threadsPerCore());
        });
        vm.cpu().vendor().ifPresent(v -> cpu.put("vendor", v));
        vm.cpu().model().ifPresent(v -> cpu.put("model", v));
        ArrayNode feats = cpu.putArray("features");
        vm.cpu().features().forEach(feats::add);
        o.put("firmware", vm.firmware().label());
        o.put("secure_boot", vm.secureBoot());
        vm.biosUuid().ifPresent(u -> o.put("bios_uuid", u.toString()));
        vm.vcUuid().ifPresent(u -> o.put("vc_uuid", u.toString()));
        vm.genid().ifPresent(g -> o.put("genid", g.toString()));
        ObjectNode os = o.putObject("guest_os_hint");
        vm.guestOs().id().ifPresent(i -> os.put("id", i));
        os.put("family", vm.guestOs().family().name().toLowerCase());
        os.put("arch", vm.guestOs().arch().label());
        ArrayNode ctrls = o.putArray("controllers");
        for (Controller c : vm.controllers()) {
            ObjectNode n = ctrls.addObject();
            n.put("bus", c.bus().label());
            n.put("index", c.index());
            c.model().ifPresent(m -> n.put("model", m));
        }
        ArrayNode disks = o.putArray("disks");
        for (SourceDisk d : vm.disks()) {
            ObjectNode n = disks.addObject();
            n.put("id", d.id());
            d.slot().ifPresent(s -> slot(n, s));
            d.controllerModel().ifPresent(m -> n.put("controller_model", m));
            n.put("mode", d.mode().vmxName());
            n.put("file_name", d.fileName());
            location(n.putObject("location"), d.location());
            d.format().ifPresent(f -> n.put("format", f));
            d.virtualSize().ifPresent(v -> n.put("virtual_size", v));
        }
        ArrayNode rem = o.putArray("removable_media");
        for (RemovableMedia r : vm.removables()) {
            ObjectNode n = rem.addObject();
            n.put("type", r.type() == RemovableMedia.MediaType.CDROM ? "cdrom" : "floppy");
            r.slot().ifPresent(s -> slot(n, s));
            if (r.type() == RemovableMedia.MediaType.FLOPPY) {
                n.put("unit", r.floppyUnit());
            }
            n.put("backing", r.backing().name().toLowerCase().replace('_', '-'));
            r.fileName().ifPresent(f -> n.put("file_name", f));
            r.image().ifPresent(p -> n.put("image", p.toString()));
            n.put("start_connected", r.startConnected());
        }
        ArrayNode nics = o.putArray("nics");
        for (SourceNic nic : vm.nics()) {
            ObjectNode n = nics.addObject();
            n.put("index", nic.index());
            nic.model().ifPresent(m -> n.put("model", m));
            nic.mac().ifPresent(m -> n.put("mac", m));
            n.put("mac_type", nic.macType().name().toLowerCase());
            nic.networkName().ifPresent(v -> n.put("network_name", v));
            n.put("vnet", nic.vnet());
            n.put("vnet_type", nic.vnetType().libvirtName());
            n.put("connection", nic.connection().name().toLowerCase().replace('_', '-'));
            nic.portgroup().ifPresent(p -> n.put("portgroup", p));
            n.put("start_connected", nic.startConnected());
        }
        vm.display().ifPresent(d -> o.put("display", d.describe()));
        vm.video().ifPresent(v -> {
            ObjectNode n = o.putObject("video");
            n.put("model", v.model());
            v.vramBytes().ifPresent(b -> n.put("vram_bytes", b));
        });
        vm.sound().ifPresent(s -> {
            ObjectNode n = o.putObject("sound");
            n.put("model", s.model());
            if (!s.qemuModel().isEmpty()) {
                n.put("qemu_model", s.qemuModel());
            }
        });
        o.put("vtpm", vm.vtpm());
        vm.annotation().ifPresent(a -> o.put("annotation", a));
        return o;
    }

    private static void slot(ObjectNode n, DeviceSlot s) {
        n.put("bus", s.bus().label());
        n.put("controller", s.controller());
        n.put("unit", s.unit());
        n.put("slot", s.index());
    }

    private static void location(ObjectNode n, DiskLocation loc) {
        switch (loc) {
            case DiskLocation.LocalFile f -> {
                n.put("kind", "file");
                n.put("path", f.path().toString());
            }
            case DiskLocation.ArchiveMember m -> {
                n.put("kind", "archive-member");
                n.put("archive", m.archive().toString());
                n.put("member", m.member());
                n.put("offset", m.offset());
                n.put("size", m.size());
                n.put("compression", m.compression());
            }
        }
    }
}
