package org.jv2v.fs.fat;

import org.jv2v.fs.DamageHarness;
import org.jv2v.fs.DamageHarness.Outcome;
import org.jv2v.fs.DamageHarness.PatchedDevice;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random damage to FAT12/16/32 volumes made by mkfs.fat and filled by mcopy: BIOS parameter block
 * fields, FAT entries (zero, reserved, bad, end of chain, pointing back into the chain or past the
 * end), and directory entries (first cluster, size, attributes, names, long-name sequence numbers
 * and checksums). FAT has no checksums, so every change reaches the reader. Each damaged volume
 * must read or be refused cleanly (see {@link DamageHarness}). Fixed seeds; the mkfs tools
 * stamp fresh UUIDs and times, so a failure names each damage and its offset to retrace it.
 */
class FatRandomDamageTest {
    /** Rounds per FAT type and seed: -Djv2v.damage.rounds=5000 -Djv2v.damage.seed=7 explores further. */
    private static final int ROUNDS = Integer.getInteger("jv2v.damage.rounds", 200);
    private static final long SEED = Long.getLong("jv2v.damage.seed", 42);

    @TempDir
    static Path tmp;

    /** A volume, its geometry and the device offsets of its directory entries. */
    record Fixture(Path img, Geometry g, List<Long> entries) {}

    private static final Map<Integer, Fixture> FIXTURES = new HashMap<>();

    @BeforeAll
    static void build() throws Exception {
        Tools.require("mkfs.fat", "mcopy");
        build(12, 2048, "-n", "SMALL");
        build(16, 8192, "-s", "1", "-n", "MIDDLE");
        build(32, 40000, "-s", "1", "-n", "EFI");
    }

    private static void build(int bits, long kib, String... mkfs) throws Exception {
        Path src = tmp.resolve("src" + bits);
        FatSourceTree.build(src, bits, kib * 1024 / 8, 60);
        Path img = FatTools.mkfs(tmp.resolve("fat" + bits + ".img"), bits, kib, mkfs);
        FatTools.copyIn(img, src);
        try (FileDevice dev = FileDevice.open(img); FatFileSystem fs = FatFileSystem.open(dev)) {
            ByteBuffer b = ByteBuffer.allocate(512);
            dev.read(b, 0);
            Geometry g = Geometry.of(BootSector.read(b.flip()), dev.size(), dev.describe());
            List<Long> entries = new ArrayList<>();
            collect(fs, "/", entries);
            FIXTURES.put(bits, new Fixture(img, g, entries));
        }
    }

    /** The inode number of a FAT file is its directory entry's device offset / 32. */
    private static void collect(FatFileSystem fs, String dir, List<Long> out) throws IOException {
        for (DirEntry e : fs.list(dir)) {
            out.add(e.inode() * 32);
            if (e.kind() == FileKind.DIRECTORY) {
                collect(fs, (dir.equals("/") ? "" : dir) + "/" + e.name(), out);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {12, 16, 32})
    void damagedVolumesReadOrAreRefusedCleanly(int bits) throws Exception {
        Fixture f = FIXTURES.get(bits);
        assertThat(f.entries()).hasSizeGreaterThan(80);
        Map<Outcome, Integer> seen = new EnumMap<>(Outcome.class);
        Random rnd = new Random(SEED * 100 + bits);
        try (FileDevice dev = FileDevice.open(f.img())) {
            PatchedDevice damaged = new PatchedDevice(dev);
            for (int round = 0; round < ROUNDS; round++) {
                damaged.clear();
                StringBuilder what = new StringBuilder("FAT" + bits + " round " + round + ":");
                for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                    what.append(' ').append(damage(f, damaged, rnd));
                }
                Outcome o = DamageHarness.openAndWalk(what.toString(), () -> FatFileSystem.open(damaged),
                        Duration.ofSeconds(30));
                seen.merge(o, 1, Integer::sum);
            }
        }
        System.out.printf("FAT%d random damage, seed %d: %s%n", bits, SEED, seen);
        assertThat(seen.getOrDefault(Outcome.REFUSED, 0)).as("rounds refused of %d: %s", ROUNDS, seen)
                .isGreaterThan(ROUNDS / 4);
    }

    private static String damage(Fixture f, PatchedDevice d, Random rnd) throws IOException {
        Geometry g = f.g();
        int kind = rnd.nextInt(10);
        if (kind == 0) {
            // a BIOS parameter block field (0x0B .. 0x52 holds them all)
            int off = 0x0B + rnd.nextInt(0x52 - 0x0B);
            put(d, off, new byte[] {(byte) rnd.nextInt(256)});
            return "BPB byte 0x" + Integer.toHexString(off);
        }
        if (kind <= 4) {
            long cluster = 2 + rnd.nextLong(g.clusterCount());
            long[] values = {0, 1, cluster, cluster - 1, 2, g.clusterLimit(), g.clusterLimit() + 5,
                    FatType.FAT32 == g.type() ? 0x0FFF_FFF7L : g.type() == FatType.FAT16 ? 0xFFF7 : 0xFF7,
                    0x0FFF_FFFFL, rnd.nextLong(g.clusterLimit())};
            long v = values[rnd.nextInt(values.length)];
            setFat(d, g, cluster, v);
            return "FAT[" + cluster + "]=" + v;
        }
        long entry = f.entries().get(rnd.nextInt(f.entries().size()));
        // the entry itself, or the long-name entries before it
        long at = rnd.nextInt(4) == 0 ? entry - 32L * (1 + rnd.nextInt(3)) : entry;
        ByteBuffer b = ByteBuffer.allocate(32);
        d.read(b, at);
        byte[] e = b.array();
        int field = rnd.nextInt(7);
        switch (field) {
            case 0 -> { // first cluster, low and high halves
                long c = rnd.nextBoolean() ? rnd.nextLong(g.clusterLimit() + 10) : rnd.nextLong(1L << 32);
                le(e, 0x1A, c & 0xFFFF, 2);
                le(e, 0x14, c >>> 16, 2);
            }
            case 1 -> le(e, 0x1C, rnd.nextBoolean() ? 0xFFFF_FFFFL : rnd.nextLong(1L << 32), 4); // size
            case 2 -> e[0x0B] = (byte) new int[] {0x10, 0x0F, 0x08, 0x00, 0x3F, rnd.nextInt(256)}[rnd.nextInt(6)];
            case 3 -> e[0] = (byte) new int[] {0x00, 0xE5, 0x2E, 0x05, 0x41, 0x4F, rnd.nextInt(256)}[rnd.nextInt(7)];
            case 4 -> e[0x0D] = (byte) rnd.nextInt(256); // long-name checksum / creation hundredths
            default -> {
                for (int i = 1 + rnd.nextInt(4); i > 0; i--) {
                    e[rnd.nextInt(32)] = (byte) rnd.nextInt(256);
                }
            }
        }
        put(d, at, e);
        return "entry at 0x" + Long.toHexString(at) + " field " + field;
    }

    /** Writes FAT entry {@code cluster} in every copy of the FAT. */
    private static void setFat(PatchedDevice d, Geometry g, long cluster, long value) throws IOException {
        for (int copy = 0; copy < g.numFats(); copy++) {
            long base = g.fatOffset() + copy * g.fatBytes();
            switch (g.type()) {
                case FAT12 -> {
                    long off = base + cluster + cluster / 2;
                    ByteBuffer b = ByteBuffer.allocate(2);
                    d.read(b, off);
                    int old = (b.get(0) & 0xFF) | (b.get(1) & 0xFF) << 8;
                    int v = (int) (value & 0xFFF);
                    int n = (cluster & 1) != 0 ? (old & 0x000F) | v << 4 : (old & 0xF000) | v;
                    put(d, off, new byte[] {(byte) n, (byte) (n >>> 8)});
                }
                case FAT16 -> put(d, base + cluster * 2, new byte[] {(byte) value, (byte) (value >>> 8)});
                default -> {
                    byte[] b = new byte[4];
                    le(b, 0, value, 4);
                    put(d, base + cluster * 4, b);
                }
            }
        }
    }

    /** Patches over earlier patches: reads what the damaged device shows, so patches compose. */
    private static void put(PatchedDevice d, long at, byte[] bytes) {
        d.patch(at, bytes);
    }

    private static void le(byte[] b, int off, long v, int n) {
        for (int i = 0; i < n; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }
}
