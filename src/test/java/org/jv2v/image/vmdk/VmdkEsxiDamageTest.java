package org.jv2v.image.vmdk;

import org.jv2v.image.vmdk.EsxiImages.Delta;
import org.jv2v.image.vmdk.EsxiImages.Grain;
import org.jv2v.testing.RandomDamage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link RandomDamage} on the layouts ESXi writes, built by {@link EsxiImages}: the vmfsSparse (COWD)
 * and SEsparse delta extents over a flat base, and a streamOptimized extent with its footer.
 */
class VmdkEsxiDamageTest {
    private static final int MIB = 1 << 20;
    private static final byte PAYLOAD = 0x5a;

    @TempDir
    Path dir;

    private static byte[] data(int size) {
        byte[] b = new byte[size];
        Arrays.fill(b, PAYLOAD);
        return b;
    }

    private static TreeMap<Long, Grain> grains(long... data) {
        TreeMap<Long, Grain> g = new TreeMap<>();
        for (long x : data) {
            g.put(x, Grain.DATA);
        }
        return g;
    }

    @Test
    @Timeout(300)
    void cowdDelta() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        EsxiImages.vmfsFlat(src, "vm", data(3 * MIB), "vmfs", 0x10L, false);
        TreeMap<Long, Grain> g = grains(0, 1, 7, 100, 4095, 4096, 6143);
        Path top = EsxiImages.cowdDelta(src, "vm-000001", new Delta(3 * MIB / 512, 1, data(3 * MIB), g), "vm.vmdk",
                0x10L, 0x11L);
        assertThat(RandomDamage.fuzz(src.resolve("vm-000001-delta.vmdk"), top, PAYLOAD, 150, 5)).isGreaterThan(10);
    }

    @Test
    @Timeout(300)
    void seSparseDelta() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        int size = 6 * MIB;
        EsxiImages.vmfsFlat(src, "vm", data(size), "vmfs", 0x20L, false);
        TreeMap<Long, Grain> g = grains(10, 11, 12, 1500, 1535); // 4 KiB grains: 1536 of them
        g.put(100L, Grain.ZERO);
        g.put(101L, Grain.UNMAPPED);
        Path top = EsxiImages.seSparseDelta(src, "vm-000001", new Delta(size / 512, 8, data(size), g), "vm.vmdk",
                0x20L, 0x21L);
        assertThat(RandomDamage.fuzz(src.resolve("vm-000001-sesparse.vmdk"), top, PAYLOAD, 150, 6))
                .isGreaterThan(10);
    }

    @Test
    @Timeout(300)
    void streamOptimizedWithFooter() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        // payload bytes compress to a few bytes a grain: damage lands on tables, markers and the footer too
        byte[] d = data(4 * MIB);
        Arrays.fill(d, MIB, 3 * MIB, (byte) 0);
        Path vmdk = EsxiImages.streamOptimized(src.resolve("disk1.vmdk"), d);
        assertThat(RandomDamage.fuzz(vmdk, vmdk, PAYLOAD, 150, 7)).isGreaterThan(10);
    }
}
