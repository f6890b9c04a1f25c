package org.jv2v.fs.fat;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** dosfstools and mtools, run as the tests' fixture makers and oracles. */
final class FatTools {
    /** mtools writes FAT's local times in TZ; UTC matches what the reader assumes. */
    static final Map<String, String> ENV = Map.of("MTOOLS_SKIP_CHECK", "1", "TZ", "UTC", "LC_ALL", "C.UTF-8");

    private FatTools() {}

    /** {@code mkfs.fat -F BITS -C IMG KIB} with extra options, e.g. "-s", "1". */
    static Path mkfs(Path img, int bits, long kib, String... extra) throws IOException, InterruptedException {
        Tools.require("mkfs.fat");
        List<String> cmd = new ArrayList<>(List.of("mkfs.fat", "-F", Integer.toString(bits)));
        cmd.addAll(List.of(extra));
        cmd.addAll(List.of("-C", img.toString(), Long.toString(kib)));
        run(cmd);
        return img;
    }

    /** An mtools command on {@code img}: {@code mtools("mcopy", img, "-s", "a", "::/")}. */
    static Run.Result mtool(String tool, Path img, String... args) throws IOException, InterruptedException {
        Tools.require(tool);
        List<String> cmd = new ArrayList<>(List.of(tool, "-i", img.toString()));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    static Run.Result run(List<String> cmd) throws IOException, InterruptedException {
        Run.Result r = Run.run(cmd, null, ENV, 120);
        if (r.exitCode() != 0) {
            throw new AssertionError("command failed (exit " + r.exitCode() + "): " + String.join(" ", cmd) + "\n"
                    + r.stdout() + r.stderr());
        }
        return r;
    }

    /** Copies every top-level entry of {@code src} into the image's root, keeping modification times. */
    static void copyIn(Path img, Path src) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-s", "-m"));
        try (var s = Files.list(src)) {
            s.sorted().forEach(p -> args.add(p.toString()));
        }
        args.add("::/");
        mtool("mcopy", img, args.toArray(String[]::new));
    }

    /** Extracts the whole image with mtools into {@code out} (the independent reader). */
    static Path extract(Path img, Path out) throws IOException, InterruptedException {
        Files.createDirectories(out);
        mtool("mcopy", img, "-s", "-n", "-m", "::/*", out.toString());
        return out;
    }

    /** fsck.fat -n: its output, failing on a non-zero exit. */
    static String fsckClean(Path img) throws IOException, InterruptedException {
        Tools.require("fsck.fat");
        Run.Result r = Run.run(List.of("fsck.fat", "-n", img.toString()), null, ENV, 120);
        if (r.exitCode() != 0) {
            throw new AssertionError("fsck.fat -n " + img + " exited " + r.exitCode() + ":\n" + r.stdout() + r.stderr());
        }
        return r.stdout() + r.stderr();
    }
}
