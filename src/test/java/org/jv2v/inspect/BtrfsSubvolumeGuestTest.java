package org.jv2v.inspect;

import org.jv2v.BadInputException;
import org.jv2v.fs.btrfs.BtrfsDamage;
import org.jv2v.fs.btrfs.BtrfsFileSystem;
import org.jv2v.image.BlockDevice;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    void theRootsAreTheDefaultSubvolumeItsSnapshotAndANamedSubvolume() {
        assertThat(in.roots()).extracting(GuestInfo::root)
                .as("openSUSE: the device (its default subvolume is the root) and the snapshot of it; Fedora: "
                        + "subvolume root")
                .containsExactly("/dev/sda1", "btrfsvol:/dev/sda1/@/.snapshots/2/snapshot", "btrfsvol:/dev/sdb1/root");
        GuestInfo snapshot = in.roots().get(1);
        assertThat(snapshot.productName()).contains("openSUSE Leap 15.5");
        assertThat(snapshot.mountpoints()).as("the snapshot's fstab is the root's")
                .isEqualTo(in.roots().get(0).mountpoints());
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

    /**
     * The conversion's view (read-only, as for --plan: jv2v does not edit btrfs) mounts the same
     * subvolumes: files of @/home, @/var and of Fedora's subvolume root read through it.
     */
    @Test
    void theConversionMountsTheSameSubvolumes() throws Exception {
        try (var suse = org.jv2v.convert.linux.GuestMounts.open(in, root("/dev/sda1"), true)) {
            assertThat(suse.unreadable()).isEmpty();
            assertThat(suse.files().readText("/home/tux/notes.txt")).hasValue("on subvolume @/home\n");
            assertThat(suse.files().readText("/var/log/zypper.log")).hasValue("a log on subvolume @/var\n");
            assertThat(suse.files().readText("/etc/hostname")).hasValue("leap155.example.com\n");
        }
        try (var fed = org.jv2v.convert.linux.GuestMounts.open(in, root("btrfsvol:/dev/sdb1/root"), true)) {
            assertThat(fed.files().readText("/etc/hostname")).hasValue("fedora-subvol.example.com\n");
            assertThat(fed.files().readText("/home/user/README")).hasValue("on subvolume home\n");
            assertThat(fed.refusals()).as("btrfs is opened read-only, and says so").isNotEmpty();
        }
    }

    /**
     * The openSUSE filesystem with subvolume @ (256) made a child of @/.snapshots (257), itself a
     * child of @: the parent links loop. Listing subvolumes is a one-line error; inspection still
     * finds the root the device shows and says what it could not look at.
     */
    @Test
    @Timeout(60)
    void aLoopOfSubvolumeParentsIsAnErrorAndANoteNeverAHang(@TempDir Path tmp) throws Exception {
        Path part = tmp.resolve("suse.btrfs");
        long start = BtrfsGuests.START * 512;
        try (FileChannel in = FileChannel.open(BtrfsGuests.opensuse().image(), StandardOpenOption.READ);
             FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            in.transferTo(start, in.size() - start, out);
        }
        BtrfsDamage.setRootBackrefParent(part, 256, 257);
        try (FileDevice d = FileDevice.open(part)) {
            BtrfsFileSystem fs = BtrfsFileSystem.open(d);
            assertThat(fs.subvolumeId()).as("the default subvolume opens by id").isEqualTo(BtrfsGuests.SUSE_ROOT_ID);
            assertThatThrownBy(fs::subvolumes).isInstanceOf(BadInputException.class)
                    .hasMessage(LOOP_MESSAGE.formatted(d.describe()));
            Inspection damaged = Inspector.inspect(List.<BlockDevice>of(d), InspectOptions.defaults());
            assertThat(damaged.notes()).contains("/dev/sda: btrfs subvolumes not looked at: "
                    + LOOP_MESSAGE.formatted(d.describe()));
            assertThat(damaged.roots()).extracting(GuestInfo::root).containsExactly("/dev/sda");
            GuestInfo g = damaged.roots().getFirst();
            assertThat(g.productName()).contains("openSUSE Leap 15.5");
            assertThat(g.notes()).contains("/home (btrfsvol:/dev/sda//@/home): not mounted: "
                    + LOOP_MESSAGE.formatted(d.describe()));
        }
    }

    static final String LOOP_MESSAGE = "%s: root tree: subvolume 256 is its own ancestor (the ROOT_BACKREF items of "
            + "subvolumes 256 -> 257 -> 256 loop)";

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
