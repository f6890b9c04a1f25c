package org.jv2v.fs.xfs;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** xfsprogs as the tests use it: mkfs.xfs with a protofile, xfs_db, xfs_repair, xfs_logprint. */
final class XfsTools {
    /** mkfs.xfs 6.1 refuses smaller filesystems; the file is sparse, so this costs about 65 MiB of disk. */
    static final long IMAGE_SIZE = 300L << 20;

    private XfsTools() {}

    static void require() {
        Tools.require("mkfs.xfs", "xfs_db", "xfs_repair", "xfs_logprint");
    }

    /** Makes {@code image} (sparse, {@code size} bytes) with mkfs.xfs and the tree's protofile. */
    static Path mkfs(Path dir, SourceTree tree, long size, List<String> options) throws Exception {
        Path proto = Files.writeString(dir.resolve("protofile"), tree.protofile());
        Path image = dir.resolve("xfs.img");
        Files.deleteIfExists(image);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
        }
        List<String> cmd = new ArrayList<>(List.of("mkfs.xfs", "-q", "-f", "-K", "-p", proto.toString()));
        cmd.addAll(options);
        cmd.add(image.toString());
        run(cmd);
        return image;
    }

    static Run.Result run(List<String> cmd) throws Exception {
        Run.Result r = Run.run(cmd, null, Map.of("TZ", "UTC"), 300);
        if (r.exitCode() != 0) {
            throw new AssertionError("command failed (exit " + r.exitCode() + "): " + String.join(" ", cmd) + "\n"
                    + r.all());
        }
        return r;
    }

    /** Runs xfs_db commands (read-only unless {@code expert}) and returns its output. */
    static String db(Path image, boolean expert, List<String> commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("xfs_db", expert ? "-x" : "-r"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        return run(cmd).stdout();
    }

    static String db(Path image, String... commands) throws Exception {
        return db(image, false, List.of(commands));
    }

    /** A superblock or inode field as xfs_db prints it ("name = value"). */
    static String field(String output, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " = (.*)$").matcher(output);
        if (!m.find()) {
            throw new AssertionError("xfs_db printed no " + name + ":\n" + output);
        }
        return m.group(1).trim();
    }

    /** xfs_repair -n: asserts that it finds nothing to repair. */
    static void assertRepairClean(Path image) throws Exception {
        Run.Result r = Run.run(List.of("xfs_repair", "-n", image.toString()), null, Map.of(), 300);
        assertThat(r.exitCode()).as("xfs_repair -n exit code\n" + r.all()).isZero();
        assertThat(r.all()).doesNotContain("would ", "ALERT", "ERROR", "bad ", "corrupt");
    }

    /** What xfs_logprint -t reports: head and tail blocks, and whether it calls the log clean. */
    record LogPrint(long tail, long head, boolean clean) {}

    static LogPrint logprint(Path image) throws Exception {
        String out = run(List.of("xfs_logprint", "-t", image.toString())).stdout();
        Matcher m = Pattern.compile("log tail: (\\d+) head: (\\d+) state: <(\\w+)>").matcher(out);
        assertThat(m.find()).as("xfs_logprint output:\n" + out).isTrue();
        return new LogPrint(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), m.group(3).equals("CLEAN"));
    }

    /** The block map of a file as xfs_db's bmap prints it: {file block, fs block, count, unwritten}. */
    static List<long[]> bmap(Path image, String path, boolean attrFork) throws Exception {
        String out = db(image, "path " + path, attrFork ? "bmap -a" : "bmap -d");
        List<long[]> list = new ArrayList<>();
        Matcher m = Pattern.compile("(?:data|attr) offset (\\d+) startblock (\\d+) \\(\\d+/\\d+\\) count (\\d+) flag (\\d)")
                .matcher(out);
        while (m.find()) {
            list.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                    Long.parseLong(m.group(4))});
        }
        return list;
    }
}
