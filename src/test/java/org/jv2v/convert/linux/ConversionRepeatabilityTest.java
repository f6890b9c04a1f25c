package org.jv2v.convert.linux;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.Jv2vRun;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What two conversions of the same guest write. The edits are the same; the times in them are the
 * time of each conversion (a new file's times, a changed folder's mtime, the superblock's write
 * time), as a guest's files should say when they changed, so two runs differ there. With
 * {@code SOURCE_DATE_EPOCH} set (the reproducible-builds convention) those times are that instant
 * and the converted disks are byte-identical, ext and XFS alike. jv2v runs as its own process here,
 * since the variable is read from the environment.
 */
class ConversionRepeatabilityTest {
    private static final long EPOCH = 1_700_000_000L;

    @TempDir
    Path dir;

    private Path convert(Path vmx, String out, Map<String, String> env) throws Exception {
        return convert(vmx, out, env, "rep");
    }

    private Path convert(Path vmx, String out, Map<String, String> env, String name) throws Exception {
        Path o = Files.createDirectories(dir.resolve(out));
        List<String> cmd = Jv2vRun.javaCommand(List.of("-i", "vmx", vmx.toString(), "-o", "local", "-os", o.toString()));
        Run.Result r = Run.run(cmd, null, env, 600);
        assertThat(r.exitCode()).as(String.join(" ", cmd) + "\n" + r.all()).isZero();
        return o.resolve(name + "-sda");
    }

    /**
     * The same on an XFS root (mkfs.xfs with a protofile): with SOURCE_DATE_EPOCH, two conversions
     * that create a file and a folder and rewrite two write the same disk, which xfs_repair -n finds
     * clean.
     */
    @Test
    void anXfsRootConvertsToTheSameBytesTwice() throws Exception {
        Tools.require("qemu-img", "sfdisk", "mkfs.xfs", "xfs_repair", "setfattr", "dd");
        ConverterPresent.require();
        MiniGuest g = new MiniGuest(dir, "rep", MiniGuest.Kind.DEBIAN12).xfsRoot().nic(0, "00:50:56:8a:01:92", 192);
        g.file("etc/network/interfaces", "auto ens192\niface ens192 inet static\n\taddress 192.0.2.10/24\n");
        g.file("etc/X11/xorg.conf", VmwareLeftoversConversionTest.XORG);
        Path vmx = g.build();
        Map<String, String> fixed = Map.of("SOURCE_DATE_EPOCH", Long.toString(EPOCH));
        Path a = convert(vmx, "xa", fixed);
        Path b = convert(vmx, "xb", fixed);
        Run.Result cmp = Run.run(List.of("sh", "-c", "cmp -l " + a + " " + b + " | head -40"));
        assertThat(Checksums.sha256(a)).as("differing bytes:\n" + cmp.stdout()).isEqualTo(Checksums.sha256(b));
        Path root = dir.resolve("root.xfs");
        Run.checked(List.of("dd", "if=" + a, "of=" + root, "bs=1M", "skip=1", "conv=sparse", "status=none"));
        Run.Result repair = Run.run(List.of("xfs_repair", "-n", root.toString()), null, Map.of(), 300);
        assertThat(repair.exitCode()).as(repair.all()).isZero();
        // the edits were made: the pin exists
        Run.Result ls = Run.run(List.of("sh", "-c", "xfs_db -r -c 'path /etc/systemd/network' -c ls " + root));
        assertThat(ls.stdout()).contains("10-jv2v-ens192.link");
    }

    private static long ctime(MiniGuest.Converted c, String path) throws Exception {
        Run.Result r = Run.run(List.of("debugfs", "-R", "stat " + path, c.disk() + "?offset=" + MiniGuest.ROOT_OFFSET));
        Matcher m = Pattern.compile(" ctime: 0x([0-9a-f]{8})").matcher(r.stdout());
        assertThat(m.find()).as(r.all()).isTrue();
        return Long.parseLong(m.group(1), 16);
    }

    @Test
    void twoRunsDifferOnlyInTimesAndSourceDateEpochMakesThemIdentical() throws Exception {
        Tools.require("qemu-img", "sfdisk", "mkfs.ext4", "debugfs", "e2fsck", "setfattr", "cmp");
        ConverterPresent.require();
        MiniGuest g = new MiniGuest(dir, "rep", MiniGuest.Kind.DEBIAN12).nic(0, "00:50:56:8a:01:92", 192);
        g.file("etc/network/interfaces", "auto ens192\niface ens192 inet static\n\taddress 192.0.2.10/24\n");
        g.file("etc/X11/xorg.conf", VmwareLeftoversConversionTest.XORG);
        Path vmx = g.build();
        String link = "/etc/systemd/network/10-jv2v-ens192.link";

        long before = System.currentTimeMillis() / 1000;
        Path a = convert(vmx, "a", Map.of());
        long after = System.currentTimeMillis() / 1000;
        MiniGuest.Converted ca = new MiniGuest.Converted(a, a.getParent(), null);
        ca.assertClean();
        assertThat(ctime(ca, link)).as("the new file's time is the conversion's").isBetween(before, after);

        Map<String, String> fixed = new HashMap<>(Map.of("SOURCE_DATE_EPOCH", Long.toString(EPOCH)));
        Path b = convert(vmx, "b", fixed);
        Path c = convert(vmx, "c", fixed);
        MiniGuest.Converted cb = new MiniGuest.Converted(b, b.getParent(), null);
        cb.assertClean();
        assertThat(ctime(cb, link)).isEqualTo(EPOCH);
        Run.Result cmp = Run.run(List.of("sh", "-c", "cmp -l " + b + " " + c + " | head -40"));
        assertThat(Checksums.sha256(b)).as("two conversions with SOURCE_DATE_EPOCH; differing bytes:\n" + cmp.stdout())
                .isEqualTo(Checksums.sha256(c));
        // without it, the same edits: only times (and the checksums over them) differ
        assertThat(ca.cat(link)).isEqualTo(cb.cat(link));
        assertThat(ca.cat("/etc/X11/xorg.conf")).isEqualTo(cb.cat("/etc/X11/xorg.conf"));

        Run.Result bad = Run.run(Jv2vRun.javaCommand(List.of("-i", "vmx", vmx.toString(), "-o", "local",
                "-os", Files.createDirectories(dir.resolve("d")).toString())), null, Map.of("SOURCE_DATE_EPOCH", "soon"),
                300);
        assertThat(bad.exitCode()).as(bad.all()).isNotZero();
        assertThat(bad.stderr()).startsWith("jv2v: error: ").contains("SOURCE_DATE_EPOCH='soon' is not a number of "
                + "seconds").doesNotContain("\tat ");
        assertThat(bad.stderr().lines().filter(l -> l.startsWith("jv2v: error:")).count()).isEqualTo(1);
    }
}
