package org.jv2v.image.qcow2;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** qemu-img and qemu-io as oracles: making images, converting them to raw, mapping, checking. */
final class Qemu {
    private static final int CHUNK = 1 << 20;

    private Qemu() {}

    static Run.Result img(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "qemu-img";
        System.arraycopy(args, 0, cmd, 1, args.length);
        return Tools.run(cmd);
    }

    /** Runs qemu-io commands (e.g. "write -P 0xaa 0 64k", "write -z 1M 64k") on a qcow2 image. */
    static void io(Path image, String... commands) throws IOException, InterruptedException {
        QemuImg.io(image, "qcow2", List.of(commands));
    }

    /** The image as qemu-img reads it, converted to a raw file beside it. */
    static Path toRaw(Path image) throws IOException, InterruptedException {
        Path raw = image.resolveSibling(image.getFileName() + ".expected.raw");
        img("convert", "-O", "raw", image.toString(), raw.toString());
        return raw;
    }

    /** Every byte of {@code dev} equals {@code raw}, compared a chunk at a time. */
    static void assertSameBytes(BlockDevice dev, Path raw) throws IOException {
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
            assertThat(dev.size()).as("virtual size").isEqualTo(ch.size());
            ByteBuffer mine = ByteBuffer.allocate(CHUNK);
            ByteBuffer theirs = ByteBuffer.allocate(CHUNK);
            for (long off = 0; off < dev.size(); off += CHUNK) {
                int n = (int) Math.min(CHUNK, dev.size() - off);
                mine.clear().limit(n);
                theirs.clear().limit(n);
                dev.read(mine, off);
                assertThat(mine.hasRemaining()).isFalse();
                while (theirs.hasRemaining() && ch.read(theirs, off + theirs.position()) > 0) {
                    // keep reading
                }
                int diff = mine.flip().mismatch(theirs.flip());
                if (diff >= 0) {
                    throw new AssertionError(dev.describe() + " differs from qemu-img's reading at offset 0x"
                            + Long.toHexString(off + diff) + ": " + (mine.get(diff) & 0xff) + " != "
                            + (theirs.get(diff) & 0xff));
                }
            }
        }
    }

    /**
     * {@code qemu-img map --output=json}, as extents of jv2v's types, adjacent equal types merged.
     * "data" and "zero" together (a data cluster over a hole in the image file, as qemu finds by
     * asking the file) is ZERO: it reads as zeros and {@code qemu-img convert} skips it.
     */
    static List<Extent> map(Path image) throws IOException, InterruptedException {
        String json = img("map", "--output=json", image.toString()).stdout();
        List<Extent> out = new ArrayList<>();
        for (JsonNode n : new ObjectMapper().readTree(json)) {
            ExtentType type = n.get("data").asBoolean() && !n.get("zero").asBoolean() ? ExtentType.DATA
                    : n.get("present").asBoolean() ? ExtentType.ZERO : ExtentType.UNALLOCATED;
            Extent.append(out, n.get("start").asLong(), n.get("length").asLong(), type);
        }
        return out;
    }

    /** jv2v's block status of the whole device, merged. */
    static List<Extent> status(BlockDevice dev) throws IOException {
        List<Extent> out = new ArrayList<>();
        for (long off = 0; off < dev.size(); ) {
            List<Extent> part = dev.blockStatus(off, dev.size() - off);
            assertThat(part).isNotEmpty();
            assertThat(part.getFirst().offset()).isEqualTo(off);
            for (Extent e : part) {
                Extent.append(out, e.offset(), e.length(), e.type());
                off = e.end();
            }
        }
        return out;
    }

    /** {@code qemu-img check} finds no errors, no corruptions and no leaks. */
    static void assertClean(Path image) throws IOException, InterruptedException {
        Tools.require("qemu-img");
        Run.Result r = Run.run(List.of("qemu-img", "check", image.toString()));
        assertThat(r.exitCode()).as("qemu-img check %s:%n%s", image, r.all()).isZero();
        assertThat(r.stdout()).contains("No errors were found");
    }

    /** {@code qemu-img compare} finds the image and the raw file identical. */
    static void assertIdentical(Path image, Path raw) throws IOException, InterruptedException {
        Tools.require("qemu-img");
        Run.Result r = Run.run(List.of("qemu-img", "compare", "-f", "qcow2", "-F", "raw", image.toString(),
                raw.toString()));
        assertThat(r.exitCode()).as("qemu-img compare:%n%s", r.all()).isZero();
        assertThat(r.stdout()).contains("Images are identical");
    }

    /** Bytes that compress somewhat, like real disk contents: text, runs, and a little noise. */
    static byte[] mixed(long seed, int len) {
        java.util.Random rnd = new java.util.Random(seed);
        byte[] b = new byte[len];
        String[] words = {"kernel ", "initrd ", "grub ", "vmlinuz ", "/boot ", "root=", "UUID ", "ext4 "};
        int i = 0;
        while (i < len) {
            switch (rnd.nextInt(4)) {
                case 0 -> {
                    byte[] w = words[rnd.nextInt(words.length)].getBytes();
                    for (byte x : w) {
                        if (i < len) {
                            b[i++] = x;
                        }
                    }
                }
                case 1 -> {
                    int run = rnd.nextInt(64);
                    byte v = (byte) rnd.nextInt(256);
                    for (int k = 0; k < run && i < len; k++) {
                        b[i++] = v;
                    }
                }
                default -> b[i++] = (byte) rnd.nextInt(256);
            }
        }
        return b;
    }

    static byte[] random(long seed, int len) {
        byte[] b = new byte[len];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    static byte[] filled(int value, int len) {
        byte[] b = new byte[len];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
