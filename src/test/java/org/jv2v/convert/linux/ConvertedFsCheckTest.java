package org.jv2v.convert.linux;

import org.jv2v.testing.Run;
import org.jv2v.testing.TestGuest;
import org.jv2v.testing.TestGuests;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The filesystem check {@link LinuxConversionBootTest} relies on reaches the right bytes and can
 * fail: on each factory guest as built (VMDK, through qemu-img) every filesystem a conversion may
 * edit is found and clean, and on a copy where one inode was cleared (debugfs clri) e2fsck's
 * complaint comes through. Tagged boot: it needs the factory's guests, as the boot tests do.
 */
@Tag("boot")
class ConvertedFsCheckTest {
    @ParameterizedTest
    @EnumSource(TestGuest.class)
    void factoryGuestsAreCleanAndDamageIsSeen(TestGuest guest, @TempDir Path tmp) throws Exception {
        TestGuests.Built built = TestGuests.get(guest);
        List<ConvertedFsCheck.Fs> fss = LinuxConversionBootTest.editedFilesystems(guest);

        List<ConvertedFsCheck.Report> reports = ConvertedFsCheck.check(built.vmdk(), "vmdk", fss, tmp.resolve("w"));

        assertThat(reports).hasSize(fss.size());
        for (ConvertedFsCheck.Report r : reports) {
            assertThat(r.clean()).as(r.toString()).isTrue();
        }
        if (guest != TestGuest.DEBIAN12_BIOS) {
            return;
        }
        Tools.require("debugfs", "partx");
        Path raw = tmp.resolve("damaged.raw");
        Tools.run("qemu-img", "convert", "-f", "vmdk", "-O", "raw", built.vmdk().toString(), raw.toString());
        long start = Long.parseLong(Tools.run("partx", "-g", "-o", "START", "-n", "1", raw.toString()).stdout().strip());
        Run.checked(List.of("debugfs", "-w", "-R", "clri /etc/hostname", raw + "?offset=" + start * 512));

        ConvertedFsCheck.Report damaged = ConvertedFsCheck.check(raw, "raw", fss, tmp.resolve("w")).getFirst();

        assertThat(damaged.clean()).as(damaged.toString()).isFalse();
        assertThat(damaged.output()).as(damaged.toString()).contains("hostname");
    }
}
