package org.jv2v.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs external commands for tests, with a timeout, capturing output. */
public final class Run {
    public static final long DEFAULT_TIMEOUT_SECONDS = 600;

    public record Result(int exitCode, String stdout, String stderr) {
        public String all() {
            return stdout + stderr;
        }
    }

    private Run() {}

    public static Result run(List<String> command) throws IOException, InterruptedException {
        return run(command, null, Map.of(), DEFAULT_TIMEOUT_SECONDS);
    }

    public static Result run(List<String> command, Path dir, Map<String, String> env, long timeoutSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Path out = java.nio.file.Files.createTempFile("jv2v-run", ".out");
        Path err = java.nio.file.Files.createTempFile("jv2v-run", ".err");
        try {
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), java.nio.file.Files.readString(out, StandardCharsets.UTF_8),
                    java.nio.file.Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            java.nio.file.Files.deleteIfExists(out);
            java.nio.file.Files.deleteIfExists(err);
        }
    }

    /** Runs and fails the test with the command's output when it exits non-zero. */
    public static Result checked(List<String> command) throws IOException, InterruptedException {
        Result r = run(command);
        if (r.exitCode() != 0) {
            throw new AssertionError("command failed (exit " + r.exitCode() + "): " + String.join(" ", command)
                    + "\n" + r.stdout() + r.stderr());
        }
        return r;
    }
}
