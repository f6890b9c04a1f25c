package org.jv2v.inspect;

import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * virt-inspector's XML against jv2v's, field by field: every scalar of each operating system, each
 * mount point, each filesystem's type, label and UUID, each drive letter, each application's
 * fields. A row is a disagreement unless both sides say the same, or the difference is one of
 * the documented deliberate ones.
 */
final class XmlComparison {
    /** A field that differs on purpose, and why. {@code key} is the row's key ("/dev/sda4 mountpoint /srv"). */
    record Deliberate(String key, String reason) {}

    record Row(String key, Optional<String> theirs, Optional<String> ours, String verdict) {
        boolean bad() {
            return verdict.equals("DIFFERENT");
        }
    }

    private XmlComparison() {}

    static List<Row> compare(String virtInspector, String jv2v, List<Deliberate> deliberate) throws Exception {
        Map<String, String> theirs = flatten(virtInspector);
        Map<String, String> ours = flatten(jv2v);
        TreeSet<String> keys = new TreeSet<>(theirs.keySet());
        keys.addAll(ours.keySet());
        List<Row> rows = new ArrayList<>();
        for (String k : keys) {
            Optional<String> t = Optional.ofNullable(theirs.get(k));
            Optional<String> o = Optional.ofNullable(ours.get(k));
            String verdict;
            if (t.equals(o)) {
                verdict = "same";
            } else {
                verdict = deliberate.stream().filter(d -> k.startsWith(d.key())).findFirst()
                        .map(d -> "deliberate: " + d.reason()).orElse("DIFFERENT");
            }
            rows.add(new Row(k, t, o, verdict));
        }
        return rows;
    }

    static String table(List<Row> rows) {
        int kw = 5;
        int tw = 14;
        int ow = 5;
        for (Row r : rows) {
            kw = Math.max(kw, r.key().length());
            tw = Math.max(tw, shown(r.theirs()).length());
            ow = Math.max(ow, shown(r.ours()).length());
        }
        tw = Math.min(tw, 48);
        ow = Math.min(ow, 48);
        StringBuilder b = new StringBuilder();
        String fmt = "%-" + kw + "s | %-" + tw + "s | %-" + ow + "s | %s%n";
        b.append(String.format(fmt, "field", "virt-inspector", "jv2v", "verdict"));
        b.append("-".repeat(kw + tw + ow + 20)).append('\n');
        for (Row r : rows) {
            b.append(String.format(fmt, r.key(), cut(shown(r.theirs()), tw), cut(shown(r.ours()), ow), r.verdict()));
        }
        return b.toString();
    }

    private static String shown(Optional<String> v) {
        return v.map(s -> s.replace("\n", "\\n")).orElse("(absent)");
    }

    private static String cut(String s, int w) {
        return s.length() <= w ? s : s.substring(0, w - 3) + "...";
    }

    /** "ROOT field" -> value for every fact in the document. */
    static Map<String, String> flatten(String xml) throws Exception {
        var f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Element top = f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)))
                .getDocumentElement();
        Map<String, String> out = new LinkedHashMap<>();
        for (Element os : children(top, "operatingsystem")) {
            String root = text(children(os, "root").getFirst());
            for (Element e : children(os, null)) {
                String name = e.getTagName();
                switch (name) {
                    case "mountpoints" -> children(e, "mountpoint").forEach(m ->
                            out.put(root + " mountpoint " + text(m), m.getAttribute("dev")));
                    case "filesystems" -> children(e, "filesystem").forEach(fs -> {
                        String dev = fs.getAttribute("dev");
                        out.put(root + " filesystem " + dev, "listed");
                        children(fs, null).forEach(c -> out.put(root + " filesystem " + dev + " " + c.getTagName(),
                                text(c)));
                    });
                    case "drive_mappings" -> children(e, "drive_mapping").forEach(d ->
                            out.put(root + " drive " + d.getAttribute("name"), text(d)));
                    case "applications" -> children(e, "application").forEach(a -> {
                        String app = text(children(a, "name").getFirst());
                        out.put(root + " application " + app, "listed");
                        children(a, null).forEach(c -> {
                            if (!c.getTagName().equals("name")) {
                                out.put(root + " application " + app + " " + c.getTagName(), text(c));
                            }
                        });
                    });
                    default -> out.put(root + " " + name, text(e));
                }
            }
        }
        return out;
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        NodeList nl = parent.getChildNodes();
        for (int i = 0; i < nl.getLength(); i++) {
            Node n = nl.item(i);
            if (n instanceof Element e && (name == null || e.getTagName().equals(name))) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(Element e) {
        return e.getTextContent();
    }
}
