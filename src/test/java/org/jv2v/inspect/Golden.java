package org.jv2v.inspect;

import org.jv2v.testing.Corpus;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Golden files under src/test/resources/golden: {@code -Djv2v.golden.update=true} rewrites them
 * after a deliberate change (then review the diff), as the other golden tests do.
 */
final class Golden {
    private static final Path GOLDEN = Corpus.projectDir().resolve("src/test/resources/golden");

    private Golden() {}

    static void check(String name, String text) throws Exception {
        Path golden = GOLDEN.resolve(name);
        if (Boolean.getBoolean("jv2v.golden.update")) {
            Files.createDirectories(golden.getParent());
            Files.writeString(golden, text);
        }
        assertThat(text).as("golden file " + name).isEqualTo(Files.readString(golden));
    }
}
