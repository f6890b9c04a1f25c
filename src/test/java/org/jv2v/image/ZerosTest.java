package org.jv2v.image;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Zero detection agrees with a byte-by-byte look, for any range, wherever the one non-zero byte is. */
class ZerosTest {
    @Test
    void agreesWithLookingAtEveryByte() {
        Random rnd = new Random(42);
        for (ByteBuffer b : new ByteBuffer[] {ByteBuffer.allocate(3 << 20), ByteBuffer.allocateDirect(3 << 20)}) {
            for (int round = 0; round < 2000; round++) {
                int from = rnd.nextInt(b.capacity());
                int to = from + rnd.nextInt(Math.min(b.capacity() - from, round % 10 == 0 ? b.capacity() : 9000) + 1);
                int hot = rnd.nextInt(b.capacity());
                b.put(hot, (byte) (1 + rnd.nextInt(255)));
                boolean expected = hot < from || hot >= to;
                assertThat(Zeros.isZero(b, from, to)).as("[%d, %d) with byte %d set", from, to, hot).isEqualTo(expected);
                assertThat(Zeros.isZero(b.duplicate().position(from).limit(to))).isEqualTo(expected);
                b.put(hot, (byte) 0);
            }
            assertThat(Zeros.isZero(b, 0, b.capacity())).isTrue();
            assertThat(Zeros.isZero(b, 5, 5)).isTrue();
        }
    }
}
