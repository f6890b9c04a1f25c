package org.jv2v.testing;

import org.jv2v.source.DatastoreMap;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The libvirt vmx2xml corpus set up as libvirt's harness sees it: each .vmx copied into
 * {@code WORK/CASE/datastore/directory/}, every file its expected XML names created under a
 * folder mapped (as with {@code --datastore}) to its datastore; "ds" mapped to an empty folder and
 * "missing" left unmapped.
 */
public final class LibvirtCorpusGuests {
    private static final Pattern BRACKET = Pattern.compile("^\\[([^\\]]+)\\] (.*)$");

    /**
     * One case.
     *
     * @param name     the case name
     * @param mustFail listed with FAIL: in TESTS.txt
     * @param vmx      the copied .vmx
     * @param dir      the case's folder
     * @param expected libvirt's expected XML (null for must-fail cases)
     * @param map      datastore name (or absolute folder) to local folder
     */
    public record Guest(String name, boolean mustFail, Path vmx, Path dir, Document expected, Map<String, Path> map) {
        public DatastoreMap datastores() {
            return DatastoreMap.of(map);
        }

        /** Where the test put a file libvirt names as "[ds] rel" or "/abs/path". */
        public Path localPath(String libvirt) {
            return LibvirtCorpusGuests.localPath(libvirt, dir, map);
        }
    }

    private LibvirtCorpusGuests() {}

    /** Sets up every case under {@code work}; disks are copies of {@code templateVmdk}. */
    public static List<Guest> prepare(Path corpus, Path work, Path templateVmdk) throws Exception {
        List<Guest> out = new ArrayList<>();
        for (String line : Files.readAllLines(corpus.resolve("TESTS.txt"))) {
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            boolean mustFail = line.startsWith("FAIL:");
            String name = mustFail ? line.substring(5) : line;
            Path caseDir = work.resolve(name);
            Path dsRoot = caseDir.resolve("datastore");
            Path vmxDir = dsRoot.resolve("directory");
            Files.createDirectories(vmxDir);
            Path vmx = vmxDir.resolve(name + ".vmx");
            Files.copy(corpus.resolve(name + ".vmx"), vmx);
            Map<String, Path> map = new TreeMap<>();
            map.put("datastore", dsRoot);
            Files.createDirectories(caseDir.resolve("ds-ds"));
            map.put("ds", caseDir.resolve("ds-ds"));
            Document xml = null;
            if (!mustFail) {
                xml = parse(corpus.resolve(name + ".xml"));
                NodeList disks = xml.getDocumentElement().getElementsByTagName("disk");
                for (int i = 0; i < disks.getLength(); i++) {
                    Element disk = (Element) disks.item(i);
                    NodeList srcs = disk.getElementsByTagName("source");
                    if (srcs.getLength() == 0 || !((Element) srcs.item(0)).hasAttribute("file")) {
                        continue;
                    }
                    Path local = localPath(((Element) srcs.item(0)).getAttribute("file"), caseDir, map);
                    Files.createDirectories(local.getParent());
                    if (Files.exists(local)) {
                        continue; // named twice
                    }
                    if (disk.getAttribute("device").equals("disk")) {
                        Files.copy(templateVmdk, local);
                    } else {
                        Files.writeString(local, "placeholder media\n");
                    }
                }
            }
            out.add(new Guest(name, mustFail, vmx, caseDir, xml, map));
        }
        return out;
    }

    static Path localPath(String libvirt, Path caseDir, Map<String, Path> map) {
        Matcher m = BRACKET.matcher(libvirt);
        if (m.matches()) {
            Path root = map.computeIfAbsent(m.group(1), ds -> caseDir.resolve("ds-" + ds));
            return root.resolve(m.group(2)).normalize();
        }
        if (!libvirt.startsWith("/")) {
            throw new IllegalArgumentException("not a datastore or absolute path: " + libvirt);
        }
        Path parent = Path.of(libvirt).getParent();
        Path local = map.computeIfAbsent(parent.toString(), p -> caseDir.resolve("abs" + p));
        return local.resolve(Path.of(libvirt).getFileName()).normalize();
    }

    private static Document parse(Path file) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(file.toFile());
    }

    /** Creates a tiny VMDK with qemu-img, the template the guests' disks are copied from. */
    public static Path templateVmdk(Path dir) throws IOException, InterruptedException {
        Path t = dir.resolve("template.vmdk");
        Tools.run("qemu-img", "create", "-q", "-f", "vmdk", t.toString(), "1M");
        return t;
    }
}
