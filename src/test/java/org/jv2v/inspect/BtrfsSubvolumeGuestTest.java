package org.jv2v.inspect;

import org.jv2v.fs.btrfs.BtrfsFileSystem;
import org.jv2v.image.BlockDevice;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Roots inside btrfs subvolumes ({@link BtrfsGuests}): found as libguestfs finds them (the device
 * shows the default subvolume, every other subvolume is a "btrfsvol:" candidate), and fstab's
 * subvol= mounted from the top level whatever the default is. virt-inspector's verdict on the same
 * images is compared in {@link VirtInspectorComparisonTest}; this checks the files read through
 * those mounts and the golden output.
 */
class BtrfsSubvolumeGuestTest {
    static FileDevice suseDisk;
    static FileDevice fedDisk;
    static Inspection in;

    @BeforeAll
    static void inspect() throws Exception {
        suseDisk = FileDevice.open(BtrfsGuests.opensuse().image());
        fedDisk = FileDevice.open(BtrfsGuests.fedoraSubvol().image());
        in = Inspector.inspect(List.<BlockDevice>of(suseDisk, fedDisk), InspectOptions.defaults());
    }

    @AfterAll
    static void close() throws Exception {
        suseDisk.close();
        fedDisk.close();
    }

    private static GuestInfo root(String name) {
        return in.roots().stream().filter(r -> r.root().equals(name)).findFirst().orElseThrow(() ->
                new AssertionError(name + " is not a root; roots: " + in.roots().stream().map(GuestInfo::root).toList()
                        + ", notes: " + in.notes()));
    }

    @Test
    void theRootsAreTheDefaultSubvolumeAndANamedSubvolume() {
        assertThat(in.roots()).extracting(GuestInfo::root)
                .as("openSUSE: the device (its default subvolume is the root); Fedora: subvolume root")
                .containsExactly("/dev/sda1", "btrfsvol:/dev/sdb1/root");
    }

    @Test
    void openSuseMountsSubvolumesFromTheTopLevelNotFromTheDefault() throws Exception {
        GuestInfo g = root("/dev/sda1");
        assertThat(g.distro()).contains("opensuse");
        assertThat(g.productName()).contains("openSUSE Leap 15.5");
        assertThat(g.hostname()).contains("leap155.example.com");
        assertThat(g.mountpoints()).containsExactly(new MountPoint("/", "/dev/sda1"),
                new MountPoint("/var", "btrfsvol:/dev/sda1//@/var"), new MountPoint("/home", "btrfsvol:/dev/sda1//@/home"),
                new MountPoint("/.snapshots", "btrfsvol:/dev/sda1//@/.snapshots"));
        assertThat(g.filesystems()).extracting(FilesystemInfo::device).containsExactly("/dev/sda1",
                "btrfsvol:/dev/sda1//@/.snapshots", "btrfsvol:/dev/sda1//@/home", "btrfsvol:/dev/sda1//@/var");
        assertThat(g.filesystems()).allSatisfy(f -> {
            assertThat(f.type()).isEqualTo("btrfs");
            assertThat(f.uuid()).contains(BtrfsGuests.SUSE_UUID);
            assertThat(f.freeBytes()).isPresent();
        });
        assertThat(g.applications()).as("the RPM database, on subvolume @/var").extracting(Application::name)
                .containsExactly("openSUSE-release", "wicked");
        assertThat(g.notes()).noneMatch(n -> n.contains("not mounted"));

        // every file of each subvolume read back through the guest's mounts
        Map<String, FilesystemInfo> infos = new java.util.LinkedHashMap<>();
        in.volumes().forEach(v -> infos.put(v.volume().name(), v.info()));
        BtrfsFileSystem fs = (BtrfsFileSystem) in.volume("/dev/sda1").orElseThrow().fs().orElseThrow();
        assertThat(fs.subvolumeId()).as("the device shows the default subvolume").isEqualTo(BtrfsGuests.SUSE_ROOT_ID);
        OsData d = new OsData();
        d.fstab = List.of(
                new Fstab.Entry("/dev/sda1", "/home", "btrfs", "UUID=x", java.util.Optional.of("/@/home"),
                        java.util.OptionalLong.empty()),
                new Fstab.Entry("/dev/sda1", "/var", "btrfs", "UUID=x", java.util.Optional.of("@/var"),
                        java.util.OptionalLong.empty()));
        List<String> notes = new java.util.ArrayList<>();
        GuestFiles tree = GuestBuilder.mount("/dev/sda1", d, Map.of("/dev/sda1", fs), notes);
        assertThat(notes).isEmpty();
        BtrfsGuests.opensuse().trees().forEach((mp, t) -> t.files().forEach((path, content) -> {
            String guestPath = (mp.equals("/") ? "" : mp) + "/" + path;
            try {
                assertThat(tree.readSmall(guestPath, 1 << 24)).as(guestPath).hasValue(content);
            } catch (java.io.IOException e) {
                throw new AssertionError(guestPath, e);
            }
        }));
    }

    @Test
    void aSubvolOptionThatNamesNoSubvolumeIsANoteNotAMountOfTheWrongTree() throws Exception {
        BtrfsFileSystem fs = (BtrfsFileSystem) in.volume("/dev/sda1").orElseThrow().fs().orElseThrow();
        OsData d = new OsData();
        d.fstab = List.of(new Fstab.Entry("/dev/sda1", "/home", "btrfs", "UUID=x",
                java.util.Optional.of("/@/home/tux"), java.util.OptionalLong.empty()),
                new Fstab.Entry("/dev/sda1", "/srv", "btrfs", "UUID=x", java.util.Optional.empty(),
                        java.util.OptionalLong.of(BtrfsGuests.SUSE_VAR_ID)));
        List<String> notes = new java.util.ArrayList<>();
        GuestFiles tree = GuestBuilder.mount("/dev/sda1", d, Map.of("/dev/sda1", fs), notes);
        assertThat(notes).singleElement().asString().startsWith("/home (btrfsvol:/dev/sda1//@/home/tux): not mounted:")
                .contains("@/home/tux");
        assertThat(tree.readText("/srv/log/zypper.log")).as("subvolid= mounts that subvolume")
                .hasValue("a log on subvolume @/var\n");
    }

    @Test
    void fedoraRootInSubvolumeRoot() throws Exception {
        GuestInfo g = root("btrfsvol:/dev/sdb1/root");
        assertThat(g.distro()).contains("fedora");
        assertThat(g.hostname()).contains("fedora-subvol.example.com");
        assertThat(g.mountpoints()).containsExactly(new MountPoint("/", "btrfsvol:/dev/sdb1/root"),
                new MountPoint("/home", "btrfsvol:/dev/sdb1/home"));
        assertThat(g.applications()).extracting(Application::name).containsExactly("fedora-release-workstation");
        assertThat(g.kernels()).as("read from /boot inside subvolume root").isNotEmpty();
        assertThat(FreeSpace.check(g)).allSatisfy(c -> assertThat(c.freeBytes()).as(c.describe()).isPresent());
        BtrfsFileSystem top = (BtrfsFileSystem) in.volume("/dev/sdb1").orElseThrow().fs().orElseThrow();
        assertThat(top.subvolumeId()).as("the top level is the default").isEqualTo(5);
        assertThat(top.list("/")).extracting(e -> e.name()).containsExactlyInAnyOrder("root", "home");
        GuestFiles tree = GuestBuilder.mount("btrfsvol:/dev/sdb1/root", dataOf(g),
                Inspector.withSubvolumes(Map.of("/dev/sdb1", top), new java.util.ArrayList<>()), new java.util.ArrayList<>());
        assertThat(tree.readText("/home/user/README")).hasValue("on subvolume home\n");
        assertThat(tree.readText("/etc/hostname")).hasValue("fedora-subvol.example.com\n");
    }

    /** The fstab of a root as GuestInfo reports it, back as entries (device, subvol=). */
    private static OsData dataOf(GuestInfo g) {
        OsData d = new OsData();
        d.fstab = g.mountpoints().stream().map(m -> {
            var p = in.mountable(m.device()).orElseThrow();
            return new Fstab.Entry(p.device(), m.path(), "btrfs", "", p.subvolume(), java.util.OptionalLong.empty());
        }).toList();
        return d;
    }

    @Test
    void goldenXmlAndJson() throws Exception {
        Golden.check("inspect/btrfs-subvolumes.xml", InspectorXml.write(in.roots(), true));
        Golden.check("inspect/btrfs-subvolumes.json", InspectorJson.write(in, true));
    }
}
