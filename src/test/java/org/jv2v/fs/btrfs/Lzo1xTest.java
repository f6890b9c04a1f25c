package org.jv2v.fs.btrfs;

import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The LZO1X decompressor against lzop, a second compressor: lzop -1 uses LZO1X-1 (what btrfs
 * writes), lzop -9 LZO1X-999, which uses more of the instruction encodings. Damaged streams must
 * fail with a FormatException, never with another exception or a hang.
 */
@Timeout(60)
class Lzo1xTest {
    @TempDir
    Path tmp;

    /** The compressed blocks of an .lzo file (lzop's container) with the length each expands to. */
    record Block(byte[] data, int plainLength, boolean stored) {}

    static List<Block> blocks(byte[] f) {
        ByteBuffer b = ByteBuffer.wrap(f);
        b.position(9); // magic
        int version = b.getShort() & 0xFFFF;
        b.getShort(); // library version
        if (version >= 0x0940) {
            b.getShort(); // version needed to extract
        }
        b.get(); // method
        if (version >= 0x0940) {
            b.get(); // level
        }
        int flags = b.getInt();
        if ((flags & 0x800) != 0) {
            b.getInt(); // filter
        }
        b.getInt(); // mode
        b.getInt(); // mtime low
        if (version >= 0x0940) {
            b.getInt(); // mtime high
        }
        int nameLen = b.get() & 0xFF;
        b.position(b.position() + nameLen);
        b.getInt(); // header checksum
        if ((flags & 0x40) != 0) {
            int n = b.getInt();
            b.position(b.position() + n + 4);
        }
        List<Block> out = new ArrayList<>();
        while (true) {
            int dst = b.getInt();
            if (dst == 0) {
                return out;
            }
            int src = b.getInt();
            if ((flags & 0x1) != 0) {
                b.getInt();
            }
            if ((flags & 0x100) != 0) {
                b.getInt();
            }
            if (src < dst) {
                if ((flags & 0x2) != 0) {
                    b.getInt();
                }
                if ((flags & 0x200) != 0) {
                    b.getInt();
                }
            }
            byte[] d = new byte[src];
            b.get(d);
            out.add(new Block(d, dst, src == dst));
        }
    }

    private static byte[] sample(Random rnd, int n) {
        byte[] b = new byte[n];
        String[] words = {"alpha ", "beta ", "gamma\n", "delta ", "epsilon ", "zeta\t"};
        int i = 0;
        while (i < n) {
            int kind = rnd.nextInt(10);
            if (kind < 6) { // words: matches at many distances
                byte[] w = words[rnd.nextInt(words.length)].getBytes();
                for (int k = 0; k < w.length && i < n; k++) {
                    b[i++] = w[k];
                }
            } else if (kind < 8) { // noise: literal runs of every length
                for (int k = rnd.nextInt(40); k > 0 && i < n; k--) {
                    b[i++] = (byte) rnd.nextInt();
                }
            } else if (kind < 9) { // long runs: long matches with zero-byte length extensions
                byte v = (byte) rnd.nextInt();
                for (int k = rnd.nextInt(2000); k > 0 && i < n; k--) {
                    b[i++] = v;
                }
            } else if (i > 0) { // a copy from far back: distances up to 48 KiB
                int from = rnd.nextInt(i);
                for (int k = 3 + rnd.nextInt(300); k > 0 && i < n; k--) {
                    b[i++] = b[from++];
                }
            }
        }
        return b;
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "-9"})
    void decompressesWhatLzopCompressed(String level) throws Exception {
        Tools.require("lzop");
        byte[] plain = sample(new Random(level.hashCode()), 3 << 20);
        Path in = tmp.resolve("in.bin");
        Files.write(in, plain);
        Run.checked(List.of("lzop", level, "-f", "-o", tmp.resolve("in.lzo").toString(), in.toString()));
        List<Block> blocks = blocks(Files.readAllBytes(tmp.resolve("in.lzo")));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int compressed = 0;
        for (Block blk : blocks) {
            if (blk.stored()) {
                out.writeBytes(blk.data());
                continue;
            }
            compressed++;
            byte[] dst = new byte[blk.plainLength()];
            int n = Lzo1x.decompress(blk.data(), 0, blk.data().length, dst, 0, dst.length);
            assertThat(n).isEqualTo(blk.plainLength());
            out.writeBytes(dst);
        }
        assertThat(compressed).isPositive();
        assertThat(out.toByteArray()).isEqualTo(plain);
    }

    /** Random damage: a FormatException or some output, never another exception, never past the buffer. */
    @Test
    void damagedStreamsFailCleanly() throws Exception {
        Tools.require("lzop");
        byte[] plain = sample(new Random(1), 256 << 10);
        Path in = tmp.resolve("in.bin");
        Files.write(in, plain);
        Run.checked(List.of("lzop", "-9", "-f", "-o", tmp.resolve("in.lzo").toString(), in.toString()));
        Block blk = blocks(Files.readAllBytes(tmp.resolve("in.lzo"))).getFirst();
        Random rnd = new Random(2);
        int failed = 0;
        for (int round = 0; round < 2000; round++) {
            byte[] d = blk.data().clone();
            for (int k = 1 + rnd.nextInt(4); k > 0; k--) {
                d[rnd.nextInt(d.length)] = (byte) rnd.nextInt();
            }
            int len = rnd.nextInt(5) == 0 ? rnd.nextInt(d.length) : d.length;
            byte[] dst = new byte[blk.plainLength()];
            try {
                Lzo1x.decompress(d, 0, len, dst, 0, dst.length);
            } catch (Lzo1x.FormatException e) {
                failed++;
            }
        }
        // damage inside literal runs only changes the output; damage to instructions must be caught
        assertThat(failed).as("damage detected").isGreaterThan(200);
    }
}
