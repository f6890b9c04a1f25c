package org.jv2v.source.libvirtxml;

import org.jv2v.BadInputException;
import org.jv2v.source.SourceOptions;
import org.jv2v.testing.Corpus;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code -i libvirtxml} against virt-v2v's libvirt-input tests: the print-source text, the disk
 * and CD-ROM/floppy placement on the target, and the network/bridge/MAC mapping.
 */
class LibvirtXmlSourceTest {
    @TempDir
    Path dir;
    Path corpus;
    Path image;

    @BeforeEach
    void setUp() throws Exception {
        Tools.require("qemu-img");
        corpus = Corpus.require("virt-v2v");
        Path pg = Files.createDirectories(dir.resolve("test-data/phony-guests"));
        image = pg.resolve("windows.img");
        Tools.run("qemu-img", "create", "-q", "-f", "raw", image.toString(), "1M");
        Tools.run("qemu-img", "create", "-q", "-f", "raw", pg.resolve("blank-disk.img").toString(), "1M");
    }

    private Path input(String name) throws Exception {
        Path in = dir.resolve(name.replace(".xml.in", ".xml"));
        Files.writeString(in, Files.readString(corpus.resolve(name)).replace("@abs_top_builddir@", dir.toString()));
        return in;
    }

    @Test
    void printSourceMatchesVirtV2v() throws Exception {
        Path in = input("test-print-source.xml.in");
        Jv2vRun.Result r = Jv2vRun.ok("-i", "libvirtxml", in.toString(), "--print-source");
        // upstream's normalisation: drop the stage and header lines and the empty lines
        String actual = r.stdout().lines()
                .filter(l -> !l.contains("Opening the source") && !l.contains("Source guest information") && !l.isEmpty())
                .collect(Collectors.joining("\n", "", "\n"));
        assertThat(actual).isEqualTo(Files.readString(corpus.resolve("test-print-source.expected")));
    }

    /** (device, driver type, target dev, target bus, boot order) of every disk in a domain XML. */
    private static List<String> disks(String xml) throws Exception {
        var f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        var doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        NodeList nl = doc.getElementsByTagName("disk");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < nl.getLength(); i++) {
            Element d = (Element) nl.item(i);
            Element t = (Element) d.getElementsByTagName("target").item(0);
            Element drv = (Element) d.getElementsByTagName("driver").item(0);
            NodeList boot = d.getElementsByTagName("boot");
            String device = d.getAttribute("device");
            out.add(device + " " + drv.getAttribute("type") + " " + t.getAttribute("dev") + " "
                    // virt-v2v leaves a floppy's bus implicit; it can only be fdc
                    + (device.equals("floppy") ? "" : t.getAttribute("bus")) + " "
                    + (boot.getLength() > 0 ? ((Element) boot.item(0)).getAttribute("order") : "-"));
        }
        return out;
    }

    private String convert(Path in, String... extra) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        List<String> args = new ArrayList<>(List.of("-i", "libvirtxml", in.toString(), "-o", "local", "-os",
                out.toString(), "--no-copy", "--virtio", "yes"));
        args.addAll(List.of(extra));
        Jv2vRun.ok(args.toArray(String[]::new));
        return Files.readString(out.resolve("windows.xml"));
    }

    @Test
    void cdromKeepsItsSlotOnSata() throws Exception {
        String xml = convert(input("test-cdrom.xml.in"));
        assertThat(disks(xml)).isEqualTo(disks("<x>" + Files.readString(corpus.resolve("test-cdrom.expected")) + "</x>"));
    }

    @Test
    void floppyIsCarriedOver() throws Exception {
        String xml = convert(input("test-floppy.xml.in"));
        assertThat(disks(xml)).isEqualTo(disks("<x>" + Files.readString(corpus.resolve("test-floppy.expected")) + "</x>"));
    }

    /** The interfaces as upstream's test extracts them: the interface blocks without the model line. */
    private static String interfaces(String xml) {
        StringBuilder s = new StringBuilder();
        boolean in = false;
        for (String l : xml.split("\n")) {
            if (l.contains("<interface")) {
                in = true;
            }
            if (in && !l.contains("model type=")) {
                s.append(l).append('\n');
            }
            if (l.contains("</interface")) {
                in = false;
            }
        }
        return s.toString();
    }

    @Test
    void macMappingWinsOverNetworkMapping() throws Exception {
        String xml = convert(input("test-mac.xml.in"), "--mac", "52:54:00:01:02:03:network:nancy",
                "--mac", "52:54:00:01:02:04:bridge:bob", "--network", "default_network");
        assertThat(interfaces(xml)).isEqualTo(Files.readString(corpus.resolve("test-mac-expected.xml")));
    }

    @Test
    void networksAndBridgesAreMapped() throws Exception {
        String xml = convert(input("test-networks-and-bridges.xml.in"), "--bridge", "VM Network:bridge1",
                "-b", "bridge2", "--network", "default:network1", "--network", "john:network2", "-n", "paul:network3",
                "--network", "network4");
        assertThat(interfaces(xml)).isEqualTo(Files.readString(corpus.resolve("test-networks-and-bridges-expected.xml")));
    }

    @Test
    void diskOutsideTheAllowedFoldersIsRefused() throws Exception {
        Path in = dir.resolve("sub/evil.xml");
        Files.createDirectories(in.getParent());
        Files.writeString(in, "<domain type='kvm'><name>e</name><devices><disk type='file' device='disk'>"
                + "<source file='/etc/passwd'/><target dev='vda' bus='virtio'/></disk></devices></domain>");
        assertThatThrownBy(() -> LibvirtXmlSource.read(in, SourceOptions.defaults(), w -> { }))
                .isInstanceOf(BadInputException.class).hasMessageContaining("outside the allowed folders");
        var vm = LibvirtXmlSource.read(in, new SourceOptions(org.jv2v.source.DatastoreMap.empty(),
                List.of(Path.of("/etc"))), w -> { });
        assertThat(vm.disks()).hasSize(1);
    }
}
