package org.jv2v.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Map;

/**
 * The reference tools the tests use as oracles (qemu-img, e2fsck, virt-xml-validate ...). A missing
 * tool skips the test with a visible notice on a developer's machine, and fails it in CI
 * ({@code CI=true}), where {@code .ci/run} must have installed it.
 */
public final class Tools {
    private static final Map<String, Boolean> FOUND = new ConcurrentHashMap<>();
    private static final List<String> DIRS = List.of("/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin",
            "/usr/local/sbin");

    private Tools() {}

    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    public static boolean has(String tool) {
        return FOUND.computeIfAbsent(tool, t -> DIRS.stream().anyMatch(d -> Files.isExecutable(Path.of(d, t)))
                || pathHas(t));
    }

    /** Skips (or, in CI, fails) the calling test unless every tool is installed. */
    public static void require(String... tools) {
        for (String tool : tools) {
            if (!has(tool)) {
                String msg = "reference tool '" + tool + "' is not installed (.ci/run installs it)";
                if (inCi()) {
                    throw new AssertionError(msg);
                }
                System.err.println("NOTICE: skipping: " + msg);
                Assumptions.abort(msg);
            }
        }
    }

    private static boolean pathHas(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Runs a tool, failing the test (with its output) if it exits non-zero. */
    public static Run.Result run(String... command) throws IOException, InterruptedException {
        require(command[0]);
        return Run.checked(List.of(command));
    }
}
