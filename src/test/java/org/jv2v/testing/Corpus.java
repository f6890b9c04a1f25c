package org.jv2v.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The third-party conformance corpus in {@code ../shared/corpus}, beside the project. It is never
 * copied into the repository; where it is absent (a user's machine) the tests that need it are
 * skipped with a visible notice.
 */
public final class Corpus {
    private Corpus() {}

    public static Path projectDir() {
        return Path.of(System.getProperty("jv2v.project.dir", ".")).toAbsolutePath().normalize();
    }

    /**
     * {@code shared/corpus} beside the project, or beside one of its parent folders (a git
     * worktree lives one level deeper than the main checkout).
     */
    static Path locate() {
        for (Path p = projectDir().getParent(); p != null; p = p.getParent()) {
            Path c = p.resolve("shared").resolve("corpus");
            if (Files.isDirectory(c)) {
                return c;
            }
        }
        return projectDir().resolveSibling("shared").resolve("corpus");
    }

    /** {@code ../shared/corpus/SUB}, or the test is skipped. */
    public static Path require(String sub) {
        Path dir = locate().resolve(sub);
        if (!Files.isDirectory(dir)) {
            String msg = "conformance corpus not found at " + dir + ": skipping";
            System.err.println("NOTICE: " + msg);
            Assumptions.abort(msg);
        }
        return dir;
    }
}
