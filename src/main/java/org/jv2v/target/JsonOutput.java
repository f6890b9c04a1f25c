package org.jv2v.target;

import org.jv2v.model.RemovableMedia;
import org.jv2v.model.SourceVm;
import org.jv2v.source.PrintSource;
import org.jv2v.target.TargetVm.Decision;
import org.jv2v.target.TargetVm.ScsiController;
import org.jv2v.target.TargetVm.TargetDisk;
import org.jv2v.target.TargetVm.TargetDrive;
import org.jv2v.target.TargetVm.TargetNic;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** {@code -o json}: the source, the target and the decisions, as documented in doc/json-output.md. */
public final class JsonOutput {
    /** Bumped when a field changes meaning or disappears; new fields do not bump it. */
    public static final int FORMAT_VERSION = 1;

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private JsonOutput() {}

    public static String write(SourceVm source, TargetVm t) {
        ObjectNode root = F.objectNode();
        root.put("format", "jv2v");
        root.put("version", FORMAT_VERSION);
        root.put("name", t.name());
        root.set("source", PrintSource.toJson(source));
        root.set("target", target(t));
        ArrayNode ds = root.putArray("decisions");
        for (Decision d : t.decisions()) {
            ObjectNode n = ds.addObject();
            n.put("subject", d.subject());
            n.put("choice", d.choice());
            n.put("reason", d.reason());
            n.put("warning", d.warning());
        }
        return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    }

    static ObjectNode target(TargetVm t) {
        ObjectNode o = F.objectNode();
        o.put("arch", t.arch());
        o.put("machine", t.machine());
        o.put("firmware", t.uefi() ? "uefi" : "bios");
        o.put("secure_boot", t.secureBoot());
        o.put("memory_bytes", t.memoryBytes());
        o.put("vcpus", t.cpu().vcpus());
        t.cpu().topology().ifPresent(top -> {
            ObjectNode n = o.putObject("topology");
            n.put("sockets", top.sockets());
            n.put("cores_per_socket", top.coresPerSocket());
            n.put("threads_per_core", top.threadsPerCore());
        });
        t.uuid().ifPresent(u -> o.put("uuid", u.toString()));
        t.genid().ifPresent(g -> o.put("genid", g.toString()));
        o.put("rtc", t.localtimeRtc() ? "localtime" : "utc");
        t.description().ifPresent(d -> o.put("description", d));
        ArrayNode disks = o.putArray("disks");
        for (TargetDisk d : t.disks()) {
            ObjectNode n = disks.addObject();
            n.put("id", d.id());
            n.put("file", d.file().toString());
            n.put("format", d.format());
            n.put("bus", d.bus().name().toLowerCase().replace('_', '-'));
            n.put("dev", d.dev());
            n.put("controller", d.controller());
            n.put("unit", d.unit());
            n.put("boot_order", d.bootOrder());
            n.put("discard_writes", d.discardWrites());
            n.put("source_file", d.source().fileName());
        }
        ArrayNode drives = o.putArray("drives");
        for (TargetDrive d : t.drives()) {
            ObjectNode n = drives.addObject();
            n.put("type", d.type() == RemovableMedia.MediaType.CDROM ? "cdrom" : "floppy");
            n.put("bus", d.bus().name().toLowerCase().replace('_', '-'));
            n.put("dev", d.dev());
            n.put("controller", d.controller());
            n.put("unit", d.unit());
            d.image().ifPresent(p -> n.put("image", p.toString()));
        }
        ArrayNode ctrls = o.putArray("scsi_controllers");
        for (ScsiController c : t.scsiControllers()) {
            ObjectNode n = ctrls.addObject();
            n.put("index", c.index());
            n.put("model", c.bus().scsiModel());
        }
        ArrayNode nics = o.putArray("nics");
        for (TargetNic nic : t.nics()) {
            ObjectNode n = nics.addObject();
            n.put("index", nic.index());
            n.put("model", nic.model());
            nic.mac().ifPresent(m -> n.put("mac", m));
            n.put("vnet_type", nic.vnetType().libvirtName());
            n.put("vnet", nic.vnet());
        }
        t.sound().ifPresent(s -> o.put("sound", s));
        o.put("tpm", t.tpm());
        o.put("virtio_extras", t.virtioExtras());
        return o;
    }
}
