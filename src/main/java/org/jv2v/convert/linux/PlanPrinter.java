package org.jv2v.convert.linux;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * The plan as {@code --plan} prints it: every file the conversion changes, what and why, with a
 * line diff for rewritten text files and the content of created ones; as text, or as JSON with
 * {@code --machine-readable}.
 */
public final class PlanPrinter {
    private static final int INDENT = 4;

    private PlanPrinter() {}

    public static String text(ConversionPlan plan) {
        StringBuilder s = new StringBuilder();
        s.append("\nConversion plan for ").append(plan.product()).append('\n');
        for (String line : plan.summary()) {
            s.append("  ").append(line).append('\n');
        }
        s.append('\n');
        if (plan.edits().isEmpty()) {
            s.append("No file needs to change.\n");
        }
        for (FileEdit e : plan.edits()) {
            s.append(e.action()).append(' ').append(target(e)).append(e.optional() ? " (optional)" : "").append('\n');
            for (String r : e.reasons()) {
                s.append(" ".repeat(INDENT)).append(r).append('\n');
            }
            switch (e) {
                case FileEdit.Rewrite r -> {
                    for (LineDiff.Line d : diff(r)) {
                        s.append(" ".repeat(INDENT)).append(d).append('\n');
                    }
                }
                case FileEdit.Create c -> {
                    for (String line : TextFile.parse(c.content()).lines()) {
                        s.append(" ".repeat(INDENT)).append("| ").append(line).append('\n');
                    }
                }
                default -> { }
            }
        }
        if (!plan.notes().isEmpty()) {
            s.append("\nNotes:\n");
            for (String n : plan.notes()) {
                s.append("  - ").append(n).append('\n');
            }
        }
        if (!plan.warnings().isEmpty()) {
            s.append("\nWarnings:\n");
            for (String w : plan.warnings()) {
                s.append("  - ").append(w).append('\n');
            }
        }
        return s.toString();
    }

    private static String target(FileEdit e) {
        return switch (e) {
            case FileEdit.Copy c -> c.from() + " -> " + c.path();
            case FileEdit.Create c -> c.path() + " (mode " + String.format("%04o", c.mode()) + ")";
            case FileEdit.Mkdir m -> m.path() + " (mode " + String.format("%04o", m.mode()) + ")";
            default -> e.path();
        };
    }

    /** grubenv's '#' padding is not content: the diff leaves it out. */
    private static List<LineDiff.Line> diff(FileEdit.Rewrite r) {
        String before = TextFile.text(r.before());
        String after = TextFile.text(r.after());
        if (before.startsWith(GrubEnv.HEADER)) {
            before = before.replaceAll("#+$", "");
            after = after.replaceAll("#+$", "");
        }
        return LineDiff.diff(before, after);
    }

    public static ObjectNode json(ConversionPlan plan) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        ObjectNode guest = root.putObject("guest");
        guest.put("product", plan.product());
        guest.put("distro", plan.distro().id());
        guest.put("version", plan.distro().version());
        guest.put("family", plan.distro().family().name().toLowerCase(java.util.Locale.ROOT));
        guest.put("bootloader", plan.bootloader());
        ObjectNode kernel = root.putObject("kernel");
        kernel.put("version", plan.kernel().version());
        kernel.put("vmlinuz", plan.kernel().vmlinuz());
        plan.kernel().initrd().ifPresent(i -> kernel.put("initrd", i));
        ObjectNode drivers = kernel.putObject("drivers");
        for (String d : Kernel.DRIVERS) {
            drivers.put(d, plan.kernel().driver(d).name().toLowerCase(java.util.Locale.ROOT));
        }
        ObjectNode caps = root.putObject("capabilities");
        caps.put("virtio_blk", plan.capabilities().virtioBlock());
        caps.put("virtio_scsi", plan.capabilities().virtioScsi());
        caps.put("virtio_net", plan.capabilities().virtioNet());
        caps.put("virtio_extras", plan.capabilities().virtioExtras());
        if (plan.diskBus().isPresent()) {
            root.put("disk_bus", plan.diskBus().get().label());
        } else {
            root.putNull("disk_bus");
        }
        ArrayNode edits = root.putArray("edits");
        for (FileEdit e : plan.edits()) {
            ObjectNode o = edits.addObject();
            o.put("action", e.action());
            o.put("path", e.path());
            o.put("optional", e.optional());
            ArrayNode reasons = o.putArray("reasons");
            e.reasons().forEach(reasons::add);
            switch (e) {
                case FileEdit.Rewrite r -> {
                    ArrayNode d = o.putArray("diff");
                    for (LineDiff.Line l : diff(r)) {
                        ObjectNode x = d.addObject();
                        x.put("op", String.valueOf(l.op()));
                        x.put("line", l.line());
                        x.put("text", l.text());
                    }
                }
                case FileEdit.Create c -> {
                    o.put("mode", String.format("%04o", c.mode()));
                    o.put("content", TextFile.text(c.content()));
                }
                case FileEdit.Mkdir m -> o.put("mode", String.format("%04o", m.mode()));
                case FileEdit.Copy c -> o.put("from", c.from());
                case FileEdit.RebuildInitramfs i -> {
                    o.put("kernel", i.kernelVersion());
                    o.put("modules_dir", i.modulesDir());
                    ArrayNode mods = o.putArray("modules");
                    i.modules().forEach(mods::add);
                    if (!i.nicLinks().isEmpty()) {
                        ArrayNode links = o.putArray("nic_links");
                        i.nicLinks().keySet().forEach(links::add);
                    }
                }
                case FileEdit.Unlink u -> { }
            }
        }
        ArrayNode notes = root.putArray("notes");
        plan.notes().forEach(notes::add);
        ArrayNode warnings = root.putArray("warnings");
        plan.warnings().forEach(warnings::add);
        return root;
    }

    public static String jsonText(ConversionPlan plan) {
        return JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(json(plan)) + "\n";
    }
}
