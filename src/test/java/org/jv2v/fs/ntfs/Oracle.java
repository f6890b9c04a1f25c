package org.jv2v.fs.ntfs;

import org.jv2v.testing.Tools;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs an ntfs-3g tool whose output is binary (ntfscat), capturing it byte for byte. */
final class Oracle {
    private Oracle() {}

    static byte[] cat(Path img, String path) throws IOException, InterruptedException {
        Tools.require("ntfscat");
        Path out = Files.createTempFile("jv2v-ntfscat", ".out");
        Path err = Files.createTempFile("jv2v-ntfscat", ".err");
        try {
            Process p = new ProcessBuilder(List.of("ntfscat", img.toString(), path))
                    .redirectInput(new File("/dev/null")).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("ntfscat timed out on " + path);
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("ntfscat " + img + " " + path + " failed: " + Files.readString(err));
            }
            return Files.readAllBytes(out);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
