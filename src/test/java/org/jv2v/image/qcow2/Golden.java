package org.jv2v.image.qcow2;

import org.jv2v.testing.Corpus;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Golden files under {@code src/test/resources/golden}: what jv2v writes must match them exactly.
 * Run with {@code -Djv2v.updateGolden=true} to rewrite them after a deliberate change, then review
 * the difference before committing.
 */
final class Golden {
    private Golden() {}

    static void assertMatches(String name, String actual) throws IOException {
        Path file = Corpus.projectDir().resolve("src/test/resources/golden").resolve(name);
        if (Boolean.getBoolean("jv2v.updateGolden")) {
            Files.createDirectories(file.getParent());
            Files.writeString(file, actual, StandardCharsets.UTF_8);
        }
        assertThat(file).as("golden file (create it with -Djv2v.updateGolden=true)").exists();
        assertThat(actual).isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
    }
}
