package org.jv2v.inspect;

import org.jv2v.image.BlockDevice;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * jv2v against virt-inspector (libguestfs, in its appliance) on the same images: every test guest's
 * disk handed to both as one machine's disks, so one appliance boot inspects them all. Every field
 * either tool reports is a row of the printed table; any difference that is not a documented
 * deliberate one fails the test.
 */
class VirtInspectorComparisonTest {
    /** What jv2v does differently on purpose (the keys are row prefixes). */
    static final List<XmlComparison.Deliberate> DELIBERATE = List.of(
            new XmlComparison.Deliberate("/dev/sda4 mountpoint /srv",
                    "fstab's PARTUUID= lines: libguestfs 1.48 ignores them, jv2v resolves them"),
            new XmlComparison.Deliberate("/dev/sda4 filesystem /dev/sda5",
                    "the filesystem behind that PARTUUID= line"));

    @Test
    void everyFieldAgreesWithVirtInspector() throws Exception {
        List<TestGuests.Guest> guests = List.of(TestGuests.debian(), TestGuests.rocky(), TestGuests.windows(),
                TestGuests.fedora(), BtrfsGuests.opensuse(), BtrfsGuests.fedoraSubvol(), CentosGuest.centos8());
        List<Map<String, String>> before = new ArrayList<>();
        for (TestGuests.Guest g : guests) {
            before.add(Checksums.of(g.image().getParent()));
        }
        String theirs = TestGuests.virtInspector(guests);
        List<FileDevice> devices = new ArrayList<>();
        String ours;
        try {
            for (TestGuests.Guest g : guests) {
                devices.add(FileDevice.open(g.image()));
            }
            Inspection in = Inspector.inspect(new ArrayList<BlockDevice>(devices), InspectOptions.defaults());
            ours = InspectorXml.write(in.roots(), true);
        } finally {
            for (FileDevice d : devices) {
                d.close();
            }
        }
        for (int i = 0; i < guests.size(); i++) {
            assertThat(Checksums.of(guests.get(i).image().getParent())).as("source untouched").isEqualTo(before.get(i));
        }
        Files.writeString(TestGuests.home().resolve("virt-inspector").resolve("jv2v.xml"), ours);
        List<XmlComparison.Row> rows = XmlComparison.compare(theirs, ours, DELIBERATE);
        System.out.println("jv2v inspect against virt-inspector, field by field:\n" + XmlComparison.table(rows));
        assertThat(rows.stream().filter(r -> r.verdict().equals("same")).count()).as("rows in agreement")
                .isGreaterThan(40);
        assertThat(rows.stream().filter(XmlComparison.Row::bad).map(XmlComparison.Row::key).toList())
                .as("fields where jv2v and virt-inspector disagree (see the table above)").isEmpty();
    }
}
