package org.jv2v.convert.linux;

import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.jv2v.volume.Placement;
import org.jv2v.volume.Volume;
import org.jv2v.volume.VolumeScan;
import org.jv2v.volume.Volumes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs each filesystem's own checker in no-change mode on a converted disk: e2fsck -fn, xfs_repair
 * -n, fsck.vfat -n. The disk is made raw with qemu-img when it is not; jv2v's volume scan only
 * says where a partition or logical volume starts (a wrong answer makes the checker find no
 * filesystem, never a clean one); the checker reads the bytes itself, from the image (ext, through
 * e2fsprogs' {@code ?offset=}) or from a sparse dd copy of the volume (XFS, FAT: their checkers
 * take no offset).
 */
final class ConvertedFsCheck {
    /** A filesystem of the guest to check: its Linux name on the source (/dev/sda1, /dev/rhel/root) and type. */
    record Fs(String volume, String type) {}

    /** What a checker said about one filesystem. */
    record Report(Fs fs, int exitCode, String output) {
        boolean clean() {
            return exitCode == 0;
        }

        @Override
        public String toString() {
            return fs.volume() + " (" + fs.type() + "): exit " + exitCode + "\n" + output;
        }
    }

    private ConvertedFsCheck() {}

    /** Checks every filesystem in {@code fss} on {@code disk}; {@code work} holds the temporary copies. */
    static List<Report> check(Path disk, String format, List<Fs> fss, Path work) throws IOException, InterruptedException {
        Tools.require("qemu-img", "e2fsck", "xfs_repair", "fsck.vfat", "dd");
        Files.createDirectories(work);
        Path raw = disk;
        if (!format.equals("raw")) {
            raw = work.resolve("disk.raw");
            Tools.run("qemu-img", "convert", "-f", format, "-O", "raw", disk.toString(), raw.toString());
        }
        List<Report> out = new ArrayList<>();
        try (FileDevice dev = FileDevice.open(raw)) {
            VolumeScan scan = Volumes.scan(List.of(dev));
            for (Fs fs : fss) {
                Volume v = scan.volume(fs.volume()).orElseThrow(() -> new AssertionError(
                        fs.volume() + " is not on the converted disk " + disk + "; found " + scan.volumes().stream()
                                .map(Volume::name).toList()));
                List<Placement> where = Volumes.place(v.device(), 0, v.device().size());
                if (where.size() != 1) {
                    throw new AssertionError(fs.volume() + " is in " + where.size() + " pieces; the check handles one");
                }
                out.add(run(raw, fs, where.getFirst(), work));
            }
        } finally {
            if (!raw.equals(disk)) {
                Files.deleteIfExists(raw);
            }
        }
        return out;
    }

    private static Report run(Path raw, Fs fs, Placement p, Path work) throws IOException, InterruptedException {
        if (fs.type().startsWith("ext")) {
            Run.Result r = Run.run(List.of("e2fsck", "-fn", raw + "?offset=" + p.offset()));
            return new Report(fs, r.exitCode(), r.stdout() + r.stderr());
        }
        Path copy = work.resolve("volume.img");
        Run.checked(List.of("dd", "if=" + raw, "of=" + copy, "bs=1M", "iflag=skip_bytes,count_bytes",
                "skip=" + p.offset(), "count=" + p.length(), "conv=sparse", "status=none"));
        try {
            List<String> cmd = switch (fs.type()) {
                case "xfs" -> List.of("xfs_repair", "-n", "-f", copy.toString());
                case "vfat" -> List.of("fsck.vfat", "-n", copy.toString());
                default -> throw new IllegalArgumentException("no checker for " + fs.type());
            };
            Run.Result r = Run.run(cmd);
            return new Report(fs, r.exitCode(), r.stdout() + r.stderr());
        } finally {
            Files.deleteIfExists(copy);
        }
    }
}
