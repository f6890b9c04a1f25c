package org.jv2v.fs.xfs;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The oracles an edited image must satisfy: xfs_repair, xfs_db (hashed lookups, inode fields), jv2v's reader. */
final class XfsWriteChecks {
    private XfsWriteChecks() {}

    /**
     * Every line xfs_repair -n prints on a clean filesystem. Anything else (a counter it counted
     * differently, an entry it would junk, a btree record out of order) fails the check, so even
     * a message worded in a way no list of keywords foresaw is caught.
     */
    private static final Pattern CLEAN_REPAIR_LINE = Pattern.compile(String.join("|",
            "",
            "Phase \\d - [A-Za-z ,()'+/.]+\\.\\.\\.",
            "Phase 2 - using internal log",
            "\\s+- agno = \\d+",
            "\\s+- (zero log|scan filesystem freespace and inode maps|scan \\(but don't clear\\) agi unlinked lists"
                    + "|process known inodes and perform inode discovery|process newly discovered inodes"
                    + "|setting up duplicate extent list|check for inodes claiming duplicate blocks"
                    + "|traversing filesystem|traversal finished|moving disconnected inodes to lost\\+found) ?\\.\\.\\.",
            "\\s+- found root inode chunk",
            "No modify flag set, skipping phase 5",
            "No modify flag set, skipping filesystem flush and exiting\\.",
            // a regular file has no host geometry to compare sector sizes with
            "Cannot get host filesystem geometry\\.",
            "Repair may fail if there is a sector size mismatch between",
            "the image and the host filesystem\\."));

    /** xfs_repair -n finds nothing, not even a superblock counter off by one: it prints only clean-run lines. */
    static void repairClean(Path image) throws Exception {
        Run.Result r = Run.run(List.of("xfs_repair", "-n", image.toString()), null, Map.of(), 300);
        String out = r.all();
        assertThat(r.exitCode()).as("xfs_repair -n exit code\n" + out).isZero();
        List<String> unexpected = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!CLEAN_REPAIR_LINE.matcher(line).matches()) {
                unexpected.add(line);
            }
        }
        assertThat(unexpected).as("xfs_repair -n printed lines a clean run does not:\n" + out).isEmpty();
        assertThat(out).contains("Phase 7 - verify link counts...");
    }

    /** jv2v's reader, opened afresh, sees exactly what the scenario expects. */
    static void readBack(Path image, XfsEditScenario s) throws Exception {
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            for (var x : s.expect.entrySet()) {
                String path = x.getKey();
                XfsEditScenario.Expect e = x.getValue();
                if (e == null) {
                    assertThatThrownBy(() -> fs.stat(path)).as(path).isInstanceOf(NoSuchFileException.class);
                    continue;
                }
                FileStat st = fs.stat(path);
                assertThat(st.kind()).as(path).isEqualTo(e.kind());
                assertThat(st.mode()).as(path).isEqualTo(e.mode());
                assertThat(st.uid()).as(path).isEqualTo(e.uid());
                assertThat(st.gid()).as(path).isEqualTo(e.gid());
                switch (e.kind()) {
                    case REGULAR -> assertThat(fs.readAll(path, 64 << 20)).as(path).isEqualTo(e.content());
                    case SYMLINK -> assertThat(fs.readlink(path)).as(path).isEqualTo(e.target());
                    default -> assertThat(fs.list(path)).isNotNull();
                }
            }
            for (var c : s.created.entrySet()) {
                Set<String> names = new HashSet<>();
                for (DirEntry d : fs.list(c.getKey())) {
                    names.add(d.name());
                }
                for (String p : c.getValue()) {
                    if (s.expect.get(p) != null) {
                        assertThat(names).as("listing of " + c.getKey()).contains(p.substring(p.lastIndexOf('/') + 1));
                    }
                }
            }
        }
    }

    /**
     * xfs_db agrees: every expected path is found by its hashed directory lookup (libxfs's code)
     * with the expected mode, owner and size; every removed one is not; ls marks every hash good.
     */
    static void dbAgrees(Path image, XfsEditScenario s) throws Exception {
        List<String> paths = new ArrayList<>();
        List<String> cmds = new ArrayList<>();
        for (var x : s.expect.entrySet()) {
            if (x.getValue() != null) {
                paths.add(x.getKey());
                cmds.add("path " + x.getKey());
                cmds.add("print core.mode core.uid core.gid core.size");
            }
        }
        for (int from = 0; from < cmds.size(); from += 400) {
            List<String> chunk = cmds.subList(from, Math.min(cmds.size(), from + 400));
            String out = runDb(image, chunk);
            assertThat(out).as(out).doesNotContain("No such file", "rror", "orrupt");
            Matcher m = Pattern.compile("core.mode = (\\d+)\\ncore.uid = (\\d+)\\ncore.gid = (\\d+)\\ncore.size = (\\d+)")
                    .matcher(out);
            for (int i = from / 2; i < (from + chunk.size()) / 2; i++) {
                assertThat(m.find()).as("xfs_db output for " + paths.get(i)).isTrue();
                XfsEditScenario.Expect e = s.expect.get(paths.get(i));
                int mode = Integer.parseInt(m.group(1), 8);
                assertThat(mode & 07777).as(paths.get(i)).isEqualTo(e.mode());
                assertThat(Integer.parseInt(m.group(2))).as(paths.get(i)).isEqualTo(e.uid());
                assertThat(Integer.parseInt(m.group(3))).as(paths.get(i)).isEqualTo(e.gid());
                long size = Long.parseLong(m.group(4));
                switch (e.kind()) {
                    case REGULAR -> assertThat(size).as(paths.get(i)).isEqualTo(e.content().length);
                    case SYMLINK -> assertThat(size).as(paths.get(i)).isEqualTo(e.target().length());
                    default -> assertThat(mode & 0170000).as(paths.get(i)).isEqualTo(0040000);
                }
            }
        }
        for (String gone : s.removed) {
            if (s.expect.get(gone) == null) {
                String out = runDb(image, List.of("path " + gone));
                assertThat(out).as(gone).contains("No such file");
            }
        }
        List<String> ls = new ArrayList<>();
        for (String d : s.created.keySet()) {
            ls.add("ls " + d);
        }
        String out = runDb(image, ls);
        assertThat(out).as(out).doesNotContain("(bad)", "rror").contains("(good)");
    }

    private static String runDb(Path image, List<String> commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("xfs_db", "-r"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        Run.Result r = Run.run(cmd, null, Map.of(), 300);
        return r.all();
    }
}
