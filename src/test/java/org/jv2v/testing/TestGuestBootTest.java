package org.jv2v.testing;

import org.jv2v.testing.QemuBoot.BootResult;
import org.jv2v.testing.QemuBoot.BootSpec;
import org.jv2v.testing.QemuBoot.DiskBus;
import org.jv2v.testing.QemuBoot.NicModel;
import org.jv2v.testing.QemuBoot.Outcome;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The factory's guests mean something: each boots on the ESXi-like hardware it was built for and
 * comes up with its static address on ens192, and the same unconverted disk on virtio-blk does not
 * find its root (its initramfs has no virtio driver), which is what conversion has to fix.
 */
@Tag("boot")
class TestGuestBootTest {
    @ParameterizedTest
    @EnumSource(TestGuest.class)
    void bootsOnVmwareLikeHardwareWithItsStaticIp(TestGuest guest, @TempDir Path tmp) throws Exception {
        TestGuests.Built built = TestGuests.get(guest);
        String before = Checksums.sha256(built.vmdk());

        BootResult r = QemuBoot.boot(BootSpec.vmwareLike(built, tmp));
        System.err.printf("%s on %s + vmxnet3: %s in %d s: %s%n", guest.id(), guest.vmwareBus(), r.outcome(),
                r.elapsed().toSeconds(), r.marker());

        assertThat(r.outcome()).as(r.describe()).isEqualTo(Outcome.MARKER);
        assertThat(r.ip()).as(r.describe()).isEqualTo(TestGuest.STATIC_IP);
        assertThat(r.marker().get("if")).as(r.describe()).isEqualTo(TestGuest.VMWARE_NIC_NAME);
        assertThat(Checksums.sha256(built.vmdk())).as("the built disk is never written").isEqualTo(before);
    }

    @ParameterizedTest
    @EnumSource(TestGuest.class)
    void unconvertedOnVirtioDoesNotFindItsRoot(TestGuest guest, @TempDir Path tmp) throws Exception {
        TestGuests.Built built = TestGuests.get(guest);

        BootResult r = QemuBoot.boot(BootSpec.vmwareLike(built, tmp).withBus(DiskBus.VIRTIO_BLK)
                .withNic(NicModel.VIRTIO_NET, guest.mac(), null));
        System.err.printf("%s unconverted on virtio-blk: %s in %d s: %s%n", guest.id(), r.outcome(),
                r.elapsed().toSeconds(), r.failure());
        r.console().lines().filter(l -> l.contains("Warning") || l.contains("does not exist")).limit(8)
                .forEach(l -> System.err.println("  | " + l.strip()));

        assertThat(r.outcome()).as(r.describe()).isEqualTo(Outcome.FAILED);
        // the kernel and its initramfs ran (the firmware found the disk), then dracut gave up on the root
        assertThat(r.console()).as(r.describe()).contains("Linux version").contains("dracut")
                .doesNotContain(TestGuest.MARKER);
        assertThat(r.failure()).as(r.describe()).containsAnyOf("Could not boot", "emergency mode");
    }
}
