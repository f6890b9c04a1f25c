package org.jv2v.convert.linux;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.QemuBoot;
import org.jv2v.testing.QemuBoot.BootResult;
import org.jv2v.testing.QemuBoot.BootSpec;
import org.jv2v.testing.QemuBoot.DiskBus;
import org.jv2v.testing.QemuBoot.Firmware;
import org.jv2v.testing.QemuBoot.NicModel;
import org.jv2v.testing.QemuBoot.Outcome;
import org.jv2v.testing.TestGuest;
import org.jv2v.testing.TestGuests;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 5's proof: each factory guest, converted by jv2v from its .vmx, boots under QEMU on KVM's
 * devices (virtio-blk, or virtio-scsi with {@code --block-driver virtio-scsi}, and virtio-net)
 * and reaches its marker with its static address; the filesystems the conversion edited pass
 * their own checkers; the source files are untouched. That the same guests unconverted do not
 * find their root on virtio is proven by {@link org.jv2v.testing.TestGuestBootTest}, so a boot
 * here means the conversion did it.
 *
 * <p>Five TCG boots in all (about 2 minutes each): both guests on both virtio buses through
 * {@code -o qemu}, and one {@code -o local} result booted as its libvirt XML describes.
 */
@Tag("boot")
class LinuxConversionBootTest {

    @ParameterizedTest
    @EnumSource(TestGuest.class)
    void convertedForQemuBootsOnVirtioBlk(TestGuest guest, @TempDir Path tmp) throws Exception {
        convertAndBootQemu(guest, DiskBus.VIRTIO_BLK, tmp);
    }

    @ParameterizedTest
    @EnumSource(TestGuest.class)
    void convertedForVirtioScsiBootsOnVirtioScsi(TestGuest guest, @TempDir Path tmp) throws Exception {
        convertAndBootQemu(guest, DiskBus.VIRTIO_SCSI, tmp);
    }

    /** -o local: the disk the XML names, on the bus, NIC model, MAC and firmware the XML says. */
    @ParameterizedTest
    @EnumSource(value = TestGuest.class, names = "DEBIAN12_BIOS")
    void convertedForLibvirtBootsAsItsXmlSays(TestGuest guest, @TempDir Path tmp) throws Exception {
        ConverterPresent.require();
        TestGuests.Built built = TestGuests.get(guest);
        Map<String, String> before = Checksums.of(built.dir());
        Path out = Files.createDirectories(tmp.resolve("out"));

        Jv2vRun.Result run = convert(built, out, "-o", "local", "-of", "qcow2");

        Path xml = out.resolve(guest.id() + ".xml");
        assertThat(xml).as(run.all()).isRegularFile();
        if (Tools.has("virt-xml-validate")) {
            Tools.run("virt-xml-validate", xml.toString(), "domain");
        }
        Domain d = Domain.read(xml);
        assertThat(d.disks()).as("one disk in " + xml).hasSize(1);
        Path disk = Path.of(d.disks().getFirst());
        assertThat(disk).isRegularFile();
        assertThat(d.nicModel()).as("NIC model in " + xml).isEqualTo("virtio");
        assertThat(d.mac()).as("the guest keeps its MAC").isEqualToIgnoringCase(guest.mac());

        checkFilesystems(guest, disk, d.diskFormat(), tmp.resolve("fsck"));
        BootSpec spec = new BootSpec(disk, d.diskFormat(), d.firmware(), d.bus(), NicModel.VIRTIO_NET, d.mac(), null,
                QemuBoot.DEFAULT_TIMEOUT, tmp.resolve("boot"));
        assertBootsWithNetwork(guest, spec, "-o local");
        assertThat(Checksums.of(built.dir())).as("the source files are untouched").isEqualTo(before);
    }

    private static void convertAndBootQemu(TestGuest guest, DiskBus bus, Path tmp) throws Exception {
        ConverterPresent.require();
        TestGuests.Built built = TestGuests.get(guest);
        Map<String, String> before = Checksums.of(built.dir());
        Path out = Files.createDirectories(tmp.resolve("out"));

        Jv2vRun.Result run = bus == DiskBus.VIRTIO_SCSI
                ? convert(built, out, "-o", "qemu", "--block-driver", "virtio-scsi")
                : convert(built, out, "-o", "qemu");

        // the script jv2v wrote puts the disk and NIC on the devices booted here
        Path script = out.resolve(guest.id() + ".sh");
        assertThat(script).as(run.all()).isRegularFile();
        String sh = Files.readString(script);
        assertThat(sh).as(script.toString()).contains(bus == DiskBus.VIRTIO_SCSI ? "virtio-scsi-pci" : "virtio-blk-pci")
                .contains("virtio-net-pci");
        Path disk = out.resolve(guest.id() + "-sda");
        assertThat(disk).as(run.all()).isRegularFile();

        checkFilesystems(guest, disk, "raw", tmp.resolve("fsck"));
        BootSpec spec = BootSpec.converted(built, disk, "raw", tmp.resolve("boot")).withBus(bus);
        assertBootsWithNetwork(guest, spec, "-o qemu");
        assertThat(Checksums.of(built.dir())).as("the source files are untouched").isEqualTo(before);
    }

    private static Jv2vRun.Result convert(TestGuests.Built built, Path out, String... output) {
        List<String> args = new ArrayList<>(List.of("-i", "vmx", built.vmx().toString()));
        args.addAll(List.of(output));
        args.addAll(List.of("-os", out.toString()));
        long t0 = System.nanoTime();
        Jv2vRun.Result r = Jv2vRun.ok(args.toArray(String[]::new));
        System.err.printf("jv2v %s: %.1f s%n", String.join(" ", args), (System.nanoTime() - t0) / 1e9);
        return r;
    }

    /** The filesystems a conversion may edit: root and /boot, and the ESP (EFI fallback path). */
    static List<ConvertedFsCheck.Fs> editedFilesystems(TestGuest guest) {
        return switch (guest) {
            case DEBIAN12_BIOS -> List.of(new ConvertedFsCheck.Fs("/dev/sda1", "ext4"));
            case RHEL_LIKE_UEFI -> List.of(new ConvertedFsCheck.Fs("/dev/sda1", "vfat"),
                    new ConvertedFsCheck.Fs("/dev/sda2", "xfs"), new ConvertedFsCheck.Fs("/dev/rhel/root", "xfs"));
        };
    }

    private static void checkFilesystems(TestGuest guest, Path disk, String format, Path work) throws Exception {
        for (ConvertedFsCheck.Report r : ConvertedFsCheck.check(disk, format, editedFilesystems(guest), work)) {
            assertThat(r.clean()).as("checker on the converted disk: " + r).isTrue();
        }
    }

    private static void assertBootsWithNetwork(TestGuest guest, BootSpec spec, String how) throws Exception {
        BootResult r = QemuBoot.boot(spec);
        System.err.printf("%s converted (%s) on %s + %s: %s in %d s: %s%n", guest.id(), how, spec.bus(), spec.nic(),
                r.outcome(), r.elapsed().toSeconds(), r.marker());
        assertThat(r.outcome()).as(r.describe()).isEqualTo(Outcome.MARKER);
        assertThat(r.ip()).as(r.describe()).isEqualTo(TestGuest.STATIC_IP);
        // the root the guest mounted is on the bus booted (the marker names it): a virtio-blk
        // disk is /dev/vdX, a virtio-scsi disk /dev/sdX; LVM names do not tell
        String root = r.marker().getOrDefault("root", "");
        if (guest == TestGuest.DEBIAN12_BIOS) {
            assertThat(root).as(r.describe()).startsWith(spec.bus() == DiskBus.VIRTIO_BLK ? "/dev/vd" : "/dev/sd");
        }
    }

    /** What the test reads from jv2v's libvirt XML. */
    record Domain(List<String> disks, String diskFormat, DiskBus bus, String nicModel, String mac, Firmware firmware) {
        static Domain read(Path xml) throws Exception {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document doc = f.newDocumentBuilder().parse(xml.toFile());
            List<String> disks = new ArrayList<>();
            String format = null;
            String targetBus = null;
            NodeList ds = doc.getElementsByTagName("disk");
            for (int i = 0; i < ds.getLength(); i++) {
                Element disk = (Element) ds.item(i);
                if (!disk.getAttribute("device").equals("disk")) {
                    continue;
                }
                disks.add(child(disk, "source").getAttribute("file"));
                format = child(disk, "driver").getAttribute("type");
                targetBus = child(disk, "target").getAttribute("bus");
            }
            DiskBus bus = switch (String.valueOf(targetBus)) {
                case "virtio" -> DiskBus.VIRTIO_BLK;
                case "scsi" -> scsiModel(doc).equals("virtio-scsi") ? DiskBus.VIRTIO_SCSI : null;
                default -> null;
            };
            if (bus == null) {
                throw new AssertionError(xml + ": the disk is not on virtio (bus " + targetBus + ")");
            }
            Element nic = (Element) doc.getElementsByTagName("interface").item(0);
            Element os = (Element) doc.getElementsByTagName("os").item(0);
            boolean efi = os.getAttribute("firmware").equals("efi")
                    || doc.getElementsByTagName("loader").getLength() > 0;
            return new Domain(disks, format, bus, child(nic, "model").getAttribute("type"),
                    child(nic, "mac").getAttribute("address"), efi ? Firmware.UEFI : Firmware.BIOS);
        }

        private static String scsiModel(Document doc) {
            NodeList cs = doc.getElementsByTagName("controller");
            for (int i = 0; i < cs.getLength(); i++) {
                Element c = (Element) cs.item(i);
                if (c.getAttribute("type").equals("scsi")) {
                    return c.getAttribute("model");
                }
            }
            return "";
        }

        private static Element child(Element parent, String name) {
            NodeList l = parent.getElementsByTagName(name);
            if (l.getLength() == 0) {
                throw new AssertionError("<" + parent.getTagName() + "> has no <" + name + ">");
            }
            return (Element) l.item(0);
        }
    }
}
