package org.jv2v.cli;

import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jv2v.testing.Jv2vRun.javaCommand;

/**
 * Issue 3: "a progress bar on a terminal and machine-readable progress otherwise". ImageCommandTest
 * covers the lines and JSON; here {@code image convert -p} runs on a real pseudo-terminal (util-linux
 * {@code script} gives it one) and must draw the bar, redrawn in place with carriage returns, ending
 * full at 100%, and print none of the line-per-percent format.
 */
class ProgressBarTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void aTerminalGetsABarRedrawnInPlace() throws Exception {
        Tools.require("qemu-img", "qemu-io", "script");
        Path src = Files.createDirectories(dir.resolve("src")).resolve("disk.raw");
        QemuImg.create(src, "raw", 64 * MIB);
        QemuImg.io(src, "raw", List.of("write -P 0x61 0 4M", "write -P 0x62 32M 4M"));
        Path dst = dir.resolve("out.raw");
        // throttled to 8 MiB/s: about one second of copying, several redraws 0.2 s apart
        List<String> cmd = javaCommand(List.of("image", "convert", "-p", "-r", "8M", "--chunk-size", "1M",
                src.toString(), dst.toString()));
        String line = cmd.stream().map(ProgressBarTest::shellQuote).collect(Collectors.joining(" "));
        List<String> script = new ArrayList<>(List.of("script", "-q", "-e", "-c", line, "/dev/null"));
        Run.Result r = Run.run(script, dir, Map.of("TERM", "xterm"), 120);
        assertThat(r.exitCode()).as(r.all()).isZero();
        String tty = r.stdout();
        assertThat(tty).as("the line-per-percent format is for pipes and logs").doesNotContain("progress: ");
        Matcher m = Pattern.compile("\r\\[([#.]{30})\\] +(\\d+)% ").matcher(tty);
        List<Integer> percents = new ArrayList<>();
        String last = null;
        while (m.find()) {
            percents.add(Integer.parseInt(m.group(2)));
            last = m.group(1);
        }
        assertThat(percents).as("bar redraws in: %s", tty).hasSizeGreaterThanOrEqualTo(2).isSorted();
        assertThat(percents.getLast()).isEqualTo(100);
        assertThat(last).isEqualTo("#".repeat(30));
        assertThat(tty).contains("] 100% 64 MiB of 64 MiB");
        assertThat(QemuImg.compare(src, dst).exitCode()).isZero();
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
