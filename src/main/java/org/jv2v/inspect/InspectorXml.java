package org.jv2v.inspect;

import java.util.List;

/**
 * virt-inspector's XML: the same elements in the same order, indented the same way, so tools
 * that read virt-inspector's output read jv2v's. Only what virt-inspector reports is written
 * (jv2v's extra facts are in the JSON); XFS's {@code <type version=..>} attribute of newer
 * virt-inspectors is left out, as the libguestfs 1.48 reference prints none.
 */
public final class InspectorXml {
    private InspectorXml() {}

    public static String write(List<GuestInfo> roots, boolean applications) {
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\"?>\n");
        b.append("<operatingsystems>\n");
        for (GuestInfo g : roots) {
            b.append("  <operatingsystem>\n");
            element(b, 4, "root", g.root());
            element(b, 4, "name", g.type());
            g.arch().ifPresent(v -> element(b, 4, "arch", v));
            g.distro().ifPresent(v -> element(b, 4, "distro", v));
            g.productName().ifPresent(v -> element(b, 4, "product_name", v));
            g.productVariant().ifPresent(v -> element(b, 4, "product_variant", v));
            element(b, 4, "major_version", Integer.toString(g.majorVersion()));
            element(b, 4, "minor_version", Integer.toString(g.minorVersion()));
            g.packageFormat().ifPresent(v -> element(b, 4, "package_format", v));
            g.packageManagement().ifPresent(v -> element(b, 4, "package_management", v));
            g.windows().ifPresent(w -> {
                element(b, 4, "windows_systemroot", w.systemRoot());
                w.currentControlSet().ifPresent(v -> element(b, 4, "windows_current_control_set", v));
            });
            g.hostname().ifPresent(v -> element(b, 4, "hostname", v));
            g.osinfo().ifPresent(v -> element(b, 4, "osinfo", v));
            b.append("    <mountpoints>\n");
            for (MountPoint m : g.mountpoints()) {
                b.append("      <mountpoint dev=\"").append(attr(m.device())).append("\">").append(text(m.path()))
                        .append("</mountpoint>\n");
            }
            b.append("    </mountpoints>\n");
            b.append("    <filesystems>\n");
            for (FilesystemInfo f : g.filesystems()) {
                boolean type = !f.type().equals("unknown");
                if (!type && f.label().isEmpty() && f.uuid().isEmpty()) {
                    b.append("      <filesystem dev=\"").append(attr(f.device())).append("\"/>\n");
                    continue;
                }
                b.append("      <filesystem dev=\"").append(attr(f.device())).append("\">\n");
                if (type) {
                    element(b, 8, "type", f.type());
                }
                f.label().ifPresent(v -> element(b, 8, "label", v));
                f.uuid().ifPresent(v -> element(b, 8, "uuid", v));
                b.append("      </filesystem>\n");
            }
            b.append("    </filesystems>\n");
            if (!g.driveMappings().isEmpty()) {
                b.append("    <drive_mappings>\n");
                for (DriveMapping d : g.driveMappings()) {
                    b.append("      <drive_mapping name=\"").append(attr(d.letter())).append("\">")
                            .append(text(d.device())).append("</drive_mapping>\n");
                }
                b.append("    </drive_mappings>\n");
            }
            if (applications) {
                if (g.applications().isEmpty()) {
                    b.append("    <applications/>\n");
                } else {
                    b.append("    <applications>\n");
                    for (Application a : g.applications()) {
                        application(b, a);
                    }
                    b.append("    </applications>\n");
                }
            }
            b.append("  </operatingsystem>\n");
        }
        b.append("</operatingsystems>\n");
        return b.toString();
    }

    private static void application(StringBuilder b, Application a) {
        b.append("      <application>\n");
        element(b, 8, "name", a.name());
        optional(b, "display_name", a.displayName());
        if (a.epoch() != 0) {
            element(b, 8, "epoch", Integer.toString(a.epoch()));
        }
        optional(b, "version", a.version());
        optional(b, "release", a.release());
        optional(b, "arch", a.arch());
        optional(b, "install_path", a.installPath());
        optional(b, "publisher", a.publisher());
        optional(b, "url", a.url());
        optional(b, "source_package", a.sourcePackage());
        optional(b, "summary", a.summary());
        optional(b, "description", a.description());
        b.append("      </application>\n");
    }

    private static void optional(StringBuilder b, String name, String value) {
        if (!value.isEmpty()) {
            element(b, 8, name, value);
        }
    }

    private static void element(StringBuilder b, int indent, String name, String value) {
        b.repeat(' ', indent).append('<').append(name).append('>').append(text(value)).append("</").append(name)
                .append(">\n");
    }

    /** Text content escaped as libxml2's writer escapes it. */
    static String text(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '\r' -> b.append("&#13;");
                default -> b.append(c < 0x20 && c != '\n' && c != '\t' ? '\uFFFD' : c);
            }
        }
        return b.toString();
    }

    /** Attribute values: also quotes and whitespace controls. */
    static String attr(String s) {
        return text(s).replace("\"", "&quot;").replace("\n", "&#10;").replace("\t", "&#9;");
    }
}
