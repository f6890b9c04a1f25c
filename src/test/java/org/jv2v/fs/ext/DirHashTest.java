package org.jv2v.fs.ext;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** jv2v's htree name hashes equal debugfs's dx_hash for every version, seed and kind of name. */
class DirHashTest {
    private static final String ALPHABET =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+=,:@%~";

    @Test
    void hashesEqualDebugfs(@TempDir Path dir) throws Exception {
        Tools.require("mkfs.ext4", "debugfs");
        Path image = dir.resolve("fs.img");
        ExtTools.mkfs(image, null, "2M", List.of("-t", "ext4"));
        Random rnd = new Random(5);
        List<byte[]> names = new ArrayList<>();
        for (String s : List.of("a", "hello", "lost+found", "exactly-16-bytes", "exactly-32-bytes-long-name-xxxxx",
                "a-name-of-thirty-three-bytes-long", "fstab", "grub.cfg")) {
            names.add(s.getBytes(StandardCharsets.UTF_8));
        }
        names.add("é-ü-ß-名前".getBytes(StandardCharsets.UTF_8)); // bytes >= 0x80: signed and unsigned differ
        for (int i = 0; i < 40; i++) {
            byte[] n = new byte[1 + rnd.nextInt(i < 20 ? 40 : 255)];
            for (int k = 0; k < n.length; k++) {
                // letters, digits, punctuation debugfs's parser passes through, and high bytes
                n[k] = (byte) ALPHABET.charAt(rnd.nextInt(ALPHABET.length()));
                if (rnd.nextInt(4) == 0) {
                    n[k] = (byte) (0x80 + rnd.nextInt(0x7f));
                }
            }
            if (n[0] == '-') {
                n[0] = 'x'; // getopt would take it for an option
            }
            names.add(n);
        }
        String seed = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";
        int[] seedWords = seedWords(seed);
        StringBuilder cmds = new StringBuilder();
        List<int[]> expected = new ArrayList<>(); // {version, seeded}
        for (byte[] n : names) {
            for (int v = 0; v <= 5; v++) {
                for (boolean seeded : new boolean[] {false, true}) {
                    cmds.append("dx_hash -h ").append(v);
                    if (seeded) {
                        cmds.append(" -s ").append(seed);
                    }
                    cmds.append(' ').append(new String(n, StandardCharsets.ISO_8859_1)).append('\n');
                    expected.add(new int[] {v, seeded ? 1 : 0});
                }
            }
        }
        Path cmdFile = dir.resolve("cmds");
        Files.write(cmdFile, cmds.toString().getBytes(StandardCharsets.ISO_8859_1));
        String out = new String(Files.readAllBytes(runDebugfs(cmdFile, image, dir)), StandardCharsets.ISO_8859_1);
        Matcher m = Pattern.compile("(?s)Hash of (.*?) is 0x([0-9a-f]+) \\(minor").matcher(out);
        int i = 0;
        for (byte[] n : names) {
            for (int k = 0; k < 12; k++, i++) {
                assertThat(m.find()).as("debugfs answer %d of %d", i, expected.size()).isTrue();
                int v = expected.get(i)[0];
                int[] s = expected.get(i)[1] == 1 ? seedWords : null;
                assertThat(m.group(1)).as("the name debugfs hashed").isEqualTo(new String(n, StandardCharsets.ISO_8859_1));
                int theirs = (int) Long.parseLong(m.group(2), 16);
                assertThat(Integer.toHexString(DirHash.hash(n, v, s)))
                        .as("version %d seeded %s name %s", v, s != null, new String(n, StandardCharsets.ISO_8859_1))
                        .isEqualTo(Integer.toHexString(theirs));
            }
        }
        assertThat(m.find()).isFalse();
    }

    /** debugfs's output as bytes (names are not UTF-8). */
    private static Path runDebugfs(Path cmdFile, Path image, Path dir) throws Exception {
        Path out = dir.resolve("out");
        Run.Result r = Run.run(List.of("sh", "-c", "debugfs -f \"$0\" \"$1\" > \"$2\" 2>/dev/null",
                cmdFile.toString(), image.toString(), out.toString()));
        assertThat(r.exitCode()).as(r.all()).isZero();
        return out;
    }

    /** A UUID's 16 bytes as the four little-endian words the superblock's s_hash_seed holds. */
    static int[] seedWords(String uuid) {
        byte[] b = java.util.HexFormat.of().parseHex(uuid.replace("-", ""));
        int[] w = new int[4];
        for (int i = 0; i < 4; i++) {
            w[i] = Le.i32(b, 4 * i);
        }
        return w;
    }
}
