package org.jv2v.testing;

import org.jv2v.testing.QemuBoot.BootResult;
import org.jv2v.testing.QemuBoot.BootSpec;
import org.jv2v.testing.QemuBoot.DiskBus;
import org.jv2v.testing.QemuBoot.Firmware;
import org.jv2v.testing.QemuBoot.NicModel;
import org.jv2v.testing.QemuBoot.Outcome;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The boot harness itself: how it reads a console, and that a disk with nothing to boot fails fast. */
class QemuBootTest {
    @Test
    void markerFieldsAreParsed() {
        assertThat(QemuBoot.fields(" ip=192.0.2.10/24 if=ens192 links=ens192,eth1 root=/dev/sda1"))
                .containsEntry("ip", "192.0.2.10/24").containsEntry("if", "ens192")
                .containsEntry("links", "ens192,eth1").containsEntry("root", "/dev/sda1");
    }

    @Test
    void theEarliestFailureLineIsReported() {
        String console = """
                [   60.1] dracut-initqueue[212]: Warning: dracut-initqueue: timeout, still waiting for following initqueue hooks:
                [   80.2] dracut-initqueue[212]: Warning: Could not boot.
                [   80.9] systemd[1]: Starting dracut-emergency.service - Dracut Emergency Shell...
                Entering emergency mode. Exit the shell to continue.
                """;
        assertThat(QemuBoot.firstFailure(console)).isEqualTo("[   80.2] dracut-initqueue[212]: Warning: Could not boot.");
        assertThat(QemuBoot.firstFailure("[ 1.0] Linux version 6.1\n" + TestGuest.MARKER + " ip=none")).isNull();
    }

    /** A blank disk: the firmware finds nothing to boot, and the harness says so within seconds. */
    @Tag("boot")
    @ParameterizedTest
    @EnumSource(Firmware.class)
    void blankDiskFailsInTheFirmware(Firmware firmware, @TempDir Path tmp) throws Exception {
        Tools.require("qemu-img", "qemu-system-x86_64");
        Path blank = tmp.resolve("blank.qcow2");
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", blank.toString(), "64M");
        String before = Checksums.sha256(blank);

        BootResult r = QemuBoot.boot(new BootSpec(blank, "qcow2", firmware, DiskBus.SATA, NicModel.E1000E, null,
                null, Duration.ofMinutes(2), tmp.resolve("boot")));

        assertThat(r.outcome()).as(r.describe()).isEqualTo(Outcome.FAILED);
        assertThat(r.failure()).as(r.describe())
                .containsAnyOf(firmware == Firmware.BIOS ? "bootable" : "EFI Internal Shell");
        assertThat(Checksums.sha256(blank)).as("the booted image is never written").isEqualTo(before);
    }
}
