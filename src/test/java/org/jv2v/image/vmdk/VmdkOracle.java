package org.jv2v.image.vmdk;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** qemu-img and qemu-io as the oracle: what jv2v reads must be what qemu reads, byte for byte. */
final class VmdkOracle {
    private VmdkOracle() {}

    static void qemuImg(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "qemu-img";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Tools.run(cmd);
    }

    /** Runs qemu-io commands ("write -P 0xab 1M 64k") on an image of format {@code fmt}. */
    static void qemuIo(Path image, String fmt, String... commands) throws IOException, InterruptedException {
        QemuImg.io(image, fmt, List.of(commands));
    }

    static OpenedImage open(Path image) throws IOException {
        return new VmdkFormat().open(image, OpenContext.of(PathGuard.folderOf(image)));
    }

    /** Converts with qemu-img to raw and checks that jv2v reads the same bytes, in several read sizes. */
    static void assertSameBytesAsQemu(Path image, Path work) throws IOException, InterruptedException {
        Path ref = work.resolve(image.getFileName() + ".qemu.raw");
        qemuImg("convert", "-f", "vmdk", "-O", "raw", image.toString(), ref.toString());
        try (OpenedImage img = open(image)) {
            assertSameBytes(img.device(), ref);
        } finally {
            Files.deleteIfExists(ref);
        }
    }

    /**
     * Compares the whole device with {@code ref} chunk by chunk (never the whole disk in memory):
     * in 4 MiB reads, then again in odd-sized reads that cut grains anywhere.
     */
    static void assertSameBytes(BlockDevice dev, Path ref) throws IOException {
        try (FileChannel raw = FileChannel.open(ref, StandardOpenOption.READ)) {
            assertThat(dev.size()).as("virtual size of " + dev.describe()).isEqualTo(raw.size());
            compare(dev, raw, 4 << 20, true);
            if (dev.size() <= 64L << 20) {
                compare(dev, raw, 100_003, false);
                compare(dev, raw, 4096, false);
            }
        }
    }

    private static void compare(BlockDevice dev, FileChannel raw, int chunk, boolean direct) throws IOException {
        ByteBuffer mine = direct ? ByteBuffer.allocateDirect(chunk) : ByteBuffer.allocate(chunk);
        ByteBuffer theirs = ByteBuffer.allocate(chunk);
        for (long off = 0; off < dev.size(); off += chunk) {
            int n = (int) Math.min(chunk, dev.size() - off);
            mine.clear().limit(n);
            dev.read(mine, off);
            assertThat(mine.position()).as("read leaves position at limit").isEqualTo(n);
            theirs.clear().limit(n);
            while (theirs.hasRemaining()) {
                if (raw.read(theirs, off + theirs.position()) < 0) {
                    break;
                }
            }
            mine.flip();
            theirs.flip();
            if (!mine.equals(theirs)) {
                int at = mine.mismatch(theirs);
                fail(dev.describe() + ": differs from qemu-img's output at byte " + (off + at)
                        + " (read size " + chunk + ")");
            }
        }
    }

    /** Every extent of the device, from repeated blockStatus calls, merged. */
    static List<Extent> status(BlockDevice dev) throws IOException {
        List<Extent> out = new ArrayList<>();
        long off = 0;
        while (off < dev.size()) {
            List<Extent> part = dev.blockStatus(off, dev.size() - off);
            assertThat(part).isNotEmpty();
            assertThat(part.getFirst().offset()).isEqualTo(off);
            for (Extent e : part) {
                Extent.append(out, e.offset(), e.length(), e.type());
            }
            off = part.getLast().end();
        }
        return out;
    }

    /**
     * qemu-img map's view, as DATA (data, not zero), ZERO (present, not data, or data over a hole in
     * the file: "data" and "zero") and UNALLOCATED (not present).
     */
    static List<Extent> qemuMap(Path image) throws IOException, InterruptedException {
        Tools.require("qemu-img");
        String json = Run.checked(List.of("qemu-img", "map", "-f", "vmdk", "--output=json", image.toString())).stdout();
        List<Extent> out = new ArrayList<>();
        for (JsonNode n : new ObjectMapper().readTree(json)) {
            ExtentType t = n.get("data").asBoolean() && !n.get("zero").asBoolean() ? ExtentType.DATA
                    : n.get("present").asBoolean() ? ExtentType.ZERO : ExtentType.UNALLOCATED;
            Extent.append(out, n.get("start").asLong(), n.get("length").asLong(), t);
        }
        return out;
    }

    static void assertStatusAsQemu(Path image) throws IOException, InterruptedException {
        List<Extent> theirs = qemuMap(image);
        try (OpenedImage img = open(image)) {
            assertThat(status(img.device())).as("block status of " + image).isEqualTo(theirs);
        }
    }
}
