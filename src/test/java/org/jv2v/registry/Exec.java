package org.jv2v.registry;

import org.jv2v.testing.Tools;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a hivex tool and decodes its output line by line: hivexregedit (Perl) prints a line holding
 * characters above U+00FF as UTF-8 but any other line byte for byte as Latin-1.
 */
final class Exec {
    private Exec() {}

    static String text(String... command) throws IOException, InterruptedException {
        Tools.require(command[0]);
        Path out = Files.createTempFile("jv2v-exec", ".out");
        Path err = Files.createTempFile("jv2v-exec", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectInput(new File("/dev/null"))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + String.join(" ", command));
            }
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " failed: " + Files.readString(err, StandardCharsets.ISO_8859_1));
            }
            return decode(Files.readAllBytes(out));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String decode(byte[] b) {
        StringBuilder sb = new StringBuilder();
        int start = 0;
        for (int i = 0; i <= b.length; i++) {
            if (i == b.length || b[i] == '\n') {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                line.write(b, start, i - start);
                byte[] l = line.toByteArray();
                try {
                    sb.append(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(l)));
                } catch (CharacterCodingException e) {
                    sb.append(new String(l, StandardCharsets.ISO_8859_1));
                }
                if (i < b.length) {
                    sb.append('\n');
                }
                start = i + 1;
            }
        }
        return sb.toString();
    }
}
