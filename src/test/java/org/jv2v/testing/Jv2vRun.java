package org.jv2v.testing;

import org.jv2v.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs jv2v in-process through {@link Main#run(PrintStream, PrintStream, String...)}, capturing its output. */
public final class Jv2vRun {
    private Jv2vRun() {}

    public record Result(int exitCode, String stdout, String stderr) {
        public String all() {
            return stdout + stderr;
        }
    }

    public static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(o, e, args);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * The command line that runs jv2v in a JVM of its own, as bin/jv2v runs it (native access
     * allowed, as its jar's manifest allows it), with this test run's class path.
     */
    public static List<String> javaCommand(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "org.jv2v.cli.Main"));
        cmd.addAll(args);
        return cmd;
    }

    /** Runs and fails with the output unless the exit code is 0. */
    public static Result ok(String... args) {
        Result r = run(args);
        if (r.exitCode() != 0) {
            throw new AssertionError("jv2v " + String.join(" ", args) + " exited " + r.exitCode() + "\n" + r.all());
        }
        return r;
    }
}
