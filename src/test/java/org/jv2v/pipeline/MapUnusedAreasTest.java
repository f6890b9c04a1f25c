package org.jv2v.pipeline;

import org.jv2v.fs.ByteRange;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.Overlay;
import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the conversion wrote is always copied: the map of areas no filesystem uses (made from the
 * filesystems as inspection opened them) loses every range the overlay holds.
 */
class MapUnusedAreasTest {
    private static final int C = Overlay.CLUSTER_SIZE;

    @TempDir
    Path dir;

    @Test
    void overlayClustersAreCutOutOfTheUnusedRanges() throws Exception {
        Path base = dir.resolve("base.raw");
        Files.write(base, new byte[16 * C]);
        try (FileDevice dev = FileDevice.open(base); Overlay ov = Overlay.create(dev, dir)) {
            ov.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 3L * C + 100);      // one cluster, partly
            byte[] sevens = new byte[2 * C];
            java.util.Arrays.fill(sevens, (byte) 7);
            ov.write(ByteBuffer.wrap(sevens), 8L * C);                          // two whole clusters
            ov.writeZeroes(12L * C, C);                                          // a zeroed cluster
            List<Extent> changed = ov.changedExtents();
            assertThat(changed).containsExactly(new Extent(3L * C, C, ExtentType.DATA),
                    new Extent(8L * C, 2L * C, ExtentType.DATA), new Extent(12L * C, C, ExtentType.ZERO));
            List<ByteRange> unused = List.of(new ByteRange(0, 4L * C), new ByteRange(6L * C, 10L * C));
            assertThat(MapUnusedAreas.minus(unused, changed)).containsExactly(
                    new ByteRange(0, 3L * C), new ByteRange(6L * C, 2L * C), new ByteRange(10L * C, 2L * C),
                    new ByteRange(13L * C, 3L * C));
        }
    }

    @Test
    void nothingWrittenLeavesTheMapAsItIs() {
        List<ByteRange> unused = List.of(new ByteRange(4096, 8192), new ByteRange(1 << 20, 1 << 20));
        assertThat(MapUnusedAreas.minus(unused, List.of())).isEqualTo(unused);
        assertThat(MapUnusedAreas.minus(List.of(), List.of(new Extent(0, C, ExtentType.DATA)))).isEmpty();
    }
}
