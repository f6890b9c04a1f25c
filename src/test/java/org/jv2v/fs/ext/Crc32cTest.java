package org.jv2v.fs.ext;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The fast path (the JDK's CRC32C steered to a seed) equals the plain table for any seed and length. */
class Crc32cTest {
    @Test
    void intrinsicPathEqualsTheTable() {
        Random rnd = new Random(3);
        for (int round = 0; round < 2000; round++) {
            byte[] b = new byte[rnd.nextInt(5000)];
            rnd.nextBytes(b);
            int seed = round < 4 ? new int[] {0, -1, 1, 0x80000000}[round] : rnd.nextInt();
            int off = b.length == 0 ? 0 : rnd.nextInt(b.length);
            int len = b.length - off;
            assertThat(Crc32c.update(seed, b, off, len)).as("seed %08x length %d", seed, len)
                    .isEqualTo(Crc32c.table(seed, b, off, len));
        }
    }

    @Test
    void knownValue() {
        // crc32c("123456789") = 0xe3069283: seed all ones, result inverted
        byte[] nine = "123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] many = "123456789".repeat(20).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(~Crc32c.update(~0, nine, 0, 9)).isEqualTo(0xe3069283);
        assertThat(Crc32c.update(~0, many, 0, many.length)).isEqualTo(Crc32c.table(~0, many, 0, many.length));
    }
}
