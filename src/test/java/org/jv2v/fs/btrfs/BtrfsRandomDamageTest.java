package org.jv2v.fs.btrfs;

import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DamageHarness;
import org.jv2v.fs.DamageHarness.Outcome;
import org.jv2v.fs.DamageHarness.PatchedDevice;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random damage to the tree blocks of a mkfs.btrfs image (4 KiB nodes, so every tree has several
 * blocks), with the block checksum made right again so the damage gets past the first check: item
 * counts, item offsets and sizes, keys, child pointers, levels and item bodies. Each damaged
 * image must read or be refused cleanly (see {@link DamageHarness}): never a hang, a runaway
 * allocation or an unexpected exception. Fixed seeds; the mkfs tools
 * stamp fresh UUIDs and times, so a failure names each damage and its offset to retrace it.
 */
class BtrfsRandomDamageTest {
    /** Rounds and seed: -Djv2v.damage.rounds=5000 -Djv2v.damage.seed=7 explores further. */
    private static final int ROUNDS = Integer.getInteger("jv2v.damage.rounds", 300);
    private static final long SEED = Long.getLong("jv2v.damage.seed", 42);
    private static final int HEADER = 0x65;
    private static final int LEAF_ITEM = 0x19;
    private static final int NODE_PTR = 0x21;

    @TempDir
    static Path tmp;
    static Path img;
    static int nodeSize;
    /** Physical offsets of the image's tree blocks. */
    static final List<Long> BLOCKS = new ArrayList<>();
    /** Their logical addresses (each block's header names its own). */
    static final List<Long> LOGICAL = new ArrayList<>();

    @BeforeAll
    static void build() throws Exception {
        Tools.require("mkfs.btrfs");
        Path src = tmp.resolve("src");
        BtrfsSourceTree.build(src, 23, 150);
        img = BtrfsTools.mkfs(tmp.resolve("damage.img"), 128, src, "-n", "4096", "-m", "single");
        try (FileDevice dev = FileDevice.open(img)) {
            Volume v = Volume.open(List.of(dev));
            nodeSize = v.sb.nodeSize();
            byte[] fsid = v.sb.metadataFsid();
            try (BtrfsFileSystem fs = BtrfsFileSystem.open(dev)) {
                for (ByteRange r : fs.usedRanges()) {
                    for (long p = r.offset() / nodeSize * nodeSize; p + nodeSize <= r.end(); p += nodeSize) {
                        ByteBuffer b = ByteBuffer.allocate(0x40);
                        dev.read(b, p);
                        if (Arrays.equals(b.array(), 0x20, 0x30, fsid, 0, 16)) {
                            BLOCKS.add(p);
                            LOGICAL.add(Hashes.le64(b.array(), 0x30)); // 0x30 bytenr
                        }
                    }
                }
            }
        }
    }

    @Test
    void damagedTreeBlocksReadOrAreRefusedCleanly() throws Exception {
        assertThat(BLOCKS).as("tree blocks found").hasSizeGreaterThan(20);
        Map<Outcome, Integer> seen = new EnumMap<>(Outcome.class);
        Random rnd = new Random(SEED);
        try (FileDevice dev = FileDevice.open(img)) {
            PatchedDevice damaged = new PatchedDevice(dev);
            for (int round = 0; round < ROUNDS; round++) {
                damaged.clear();
                StringBuilder what = new StringBuilder("round " + round + ":");
                for (int k = 1 + rnd.nextInt(2); k > 0; k--) {
                    long at = BLOCKS.get(rnd.nextInt(BLOCKS.size()));
                    ByteBuffer b = ByteBuffer.allocate(nodeSize);
                    damaged.read(b, at);
                    byte[] block = b.array();
                    what.append(' ').append(damage(block, rnd)).append(" at 0x").append(Long.toHexString(at));
                    CRC32C c = new CRC32C();
                    c.update(block, 0x20, block.length - 0x20);
                    BtrfsCorruptionTest.putLe(block, 0, c.getValue(), 4);
                    damaged.patch(at, block);
                }
                Outcome o = DamageHarness.openAndWalk(what.toString(), () -> BtrfsFileSystem.open(damaged),
                        Duration.ofSeconds(30));
                seen.merge(o, 1, Integer::sum);
            }
        }
        System.out.printf("btrfs random damage, seed %d: %s%n", SEED, seen);
        // the damage must matter: most rounds are noticed somewhere
        assertThat(seen.getOrDefault(Outcome.REFUSED, 0)).as("rounds refused of %d: %s", ROUNDS, seen)
                .isGreaterThan(ROUNDS / 3);
    }

    /** One kind of damage to a tree block; returns what it did. */
    private static String damage(byte[] b, Random rnd) {
        int level = b[0x64] & 0xFF;
        int items = Hashes.le32(b, 0x60);
        int n = Math.max(1, Math.min(items, (b.length - HEADER) / (level == 0 ? LEAF_ITEM : NODE_PTR)));
        int i = rnd.nextInt(n);
        int slot = HEADER + i * (level == 0 ? LEAF_ITEM : NODE_PTR);
        long[] extremes = {0, 1, 0xFFFF_FFFFL, 0x8000_0000L, b.length, b.length - 1, rnd.nextInt(1 << 16)};
        long v = extremes[rnd.nextInt(extremes.length)];
        switch (rnd.nextInt(8)) {
            case 0 -> {
                BtrfsCorruptionTest.putLe(b, 0x60, v, 4);
                return "nritems=" + v;
            }
            case 1 -> {
                b[0x64] = (byte) rnd.nextInt(10);
                return "level=" + b[0x64];
            }
            case 2 -> {
                int off = slot + 0x11 + (level == 0 ? 4 * rnd.nextInt(2) : 0); // leaf: offset, size; node: blockptr
                BtrfsCorruptionTest.putLe(b, off, level == 0 ? v : v * 4096, level == 0 ? 4 : 8);
                return (level == 0 ? "item offset/size " : "child pointer ") + i + "=" + v;
            }
            case 3 -> {
                int off = slot + rnd.nextInt(17);
                b[off] = (byte) rnd.nextInt(256);
                return "key byte " + i + "." + (off - slot);
            }
            case 4 -> {
                // a child pointer to another tree block (a loop or a shared child) / an item moved
                long other = LOGICAL.get(rnd.nextInt(LOGICAL.size()));
                if (level > 0) {
                    BtrfsCorruptionTest.putLe(b, slot + 0x11, rnd.nextInt(4) == 0 ? Hashes.le64(b, 0x30) : other, 8);
                    return "child pointer " + i + " moved";
                }
                BtrfsCorruptionTest.putLe(b, slot + 0x11, Hashes.le32(b, slot + 0x11) + rnd.nextInt(64) - 32, 4);
                return "item offset " + i + " shifted";
            }
            default -> {
                // bytes inside item bodies (the end of the block holds them)
                int count = 1 + rnd.nextInt(8);
                for (int k = 0; k < count; k++) {
                    int off = HEADER + rnd.nextInt(b.length - HEADER);
                    if (rnd.nextBoolean()) {
                        off = b.length - 1 - rnd.nextInt(Math.min(b.length - HEADER, 1024));
                    }
                    b[off] = (byte) (rnd.nextBoolean() ? rnd.nextInt(256) : 0xFF);
                }
                return count + " body bytes";
            }
        }
    }
}
