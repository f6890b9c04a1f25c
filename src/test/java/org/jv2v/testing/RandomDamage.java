package org.jv2v.testing;

import org.jv2v.BadInputException;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random damage to an image's metadata: each round changes one to three bytes of {@code damaged}
 * (a file of the image: its header, descriptor, tables), then opens {@code open} (probing, as the
 * CLI does), reads it whole (8 MiB at most) and walks its block status. Each round must either work
 * or fail with a one-line BadInputException (or IOException) naming the damaged file's folder
 * entry, never with another exception or a hang, and must allocate less than {@link
 * #ROUND_ALLOCATION_CAP} bytes of heap (measured by the JVM for this thread: a table sized from a
 * damaged count shows here even when the heap is big enough to hold it).
 */
public final class RandomDamage {
    private static final int MIB = 1 << 20;
    /** Generous for an 8 MiB read and the readers' caches; far below what a damaged 32-bit count asks. */
    public static final long ROUND_ALLOCATION_CAP = 96L * MIB;

    private RandomDamage() {}

    /**
     * Runs {@code rounds} rounds (system property fuzz.rounds overrides) with {@code seed} (fuzz.seed
     * overrides); damage lands on bytes of {@code damaged} that are neither zero nor {@code payload}
     * (the byte the test wrote as data), or near one (a field's high bytes are often zero). Returns
     * how many rounds were refused; {@code damaged} is restored afterwards.
     */
    public static int fuzz(Path damaged, Path open, byte payload, int rounds, long seed) throws IOException {
        byte[] original = Files.readAllBytes(damaged);
        List<Integer> found = new ArrayList<>();
        for (int i = 0; i < original.length; i++) {
            if (original[i] != 0 && original[i] != payload) {
                found.add(i);
            }
        }
        int[] metadata = found.stream().mapToInt(Integer::intValue).toArray();
        assertThat(metadata.length).as("metadata bytes found in %s", damaged).isGreaterThan(16);
        Random rnd = new Random(Long.getLong("fuzz.seed", seed));
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        String name = damaged.getFileName().toString();
        int refused = 0;
        int n = Integer.getInteger("fuzz.rounds", rounds);
        List<String> damage = new ArrayList<>();
        try {
            for (int round = 0; round < n; round++) {
                byte[] b = original.clone();
                damage.clear();
                for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                    int at = metadata[rnd.nextInt(metadata.length)] + (rnd.nextBoolean() ? 0 : rnd.nextInt(16) - 8);
                    at = Math.clamp(at, 0, b.length - 1);
                    b[at] = (byte) (rnd.nextBoolean() ? rnd.nextInt(256) : b[at] ^ (1 << rnd.nextInt(8)));
                    damage.add(String.format("0x%x=0x%02x", at, b[at]));
                }
                Files.write(damaged, b);
                long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
                try (OpenedImage o = Images.open(open, OpenContext.of(PathGuard.folderOf(open)))) {
                    long size = Math.min(o.device().size(), 8 * MIB); // a damaged size may be huge
                    ByteBuffer buf = ByteBuffer.allocate(MIB);
                    for (long off = 0; off < size; off += buf.capacity()) {
                        buf.clear().limit((int) Math.min(buf.capacity(), size - off));
                        o.device().read(buf, off);
                    }
                    for (long off = 0; off < size; ) {
                        off = o.device().blockStatus(off, size - off).getLast().end();
                    }
                } catch (BadInputException e) {
                    assertThat(e.getMessage()).as("damage %s of %s", damage, name).doesNotContain("\n")
                            .contains(damaged.getParent().toString());
                    refused++;
                } catch (IOException e) {
                    assertThat(e.getMessage()).as("damage %s of %s", damage, name).isNotNull()
                            .contains(damaged.getParent().getFileName().toString());
                    refused++;
                } catch (RuntimeException | Error e) {
                    throw new AssertionError("damage " + damage + " of " + name + ": " + e, e);
                }
                long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
                assertThat(allocated).as("heap allocated in round %d, damage %s of %s", round, damage, name)
                        .isLessThan(ROUND_ALLOCATION_CAP);
            }
        } finally {
            Files.write(damaged, original);
        }
        System.out.printf("RandomDamage %s: %d of %d rounds refused%n", name, refused, n);
        return refused;
    }
}
