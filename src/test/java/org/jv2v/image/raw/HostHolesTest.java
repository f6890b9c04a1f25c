package org.jv2v.image.raw;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The window cache of {@link HostHoles} answers as the file system does, in any order of lookups,
 * with windows that do not reach the file's end (more extents than one window holds).
 */
class HostHolesTest {
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    /** 4 KiB of data every 12 KiB over 24 MiB: 2048 data extents, about two windows' worth. */
    private Path holey() throws Exception {
        Path f = dir.resolve("holey.bin");
        byte[] data = new byte[BLOCK];
        new Random(1).nextBytes(data);
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(24L << 20);
            for (long off = 0; off < (24L << 20); off += 3 * BLOCK) {
                r.seek(off);
                r.write(data);
            }
        }
        return f;
    }

    private static List<Extent> truth(Path f, long size) throws Exception {
        List<Extent> all = new ArrayList<>();
        try (SparseFile s = SparseFile.open(f, false)) {
            for (long p = 0; p < size; ) {
                List<Extent> part = s.dataExtents(p, size - p, size);
                part.forEach(e -> Extent.append(all, e.offset(), e.length(), e.type()));
                p = part.getLast().end();
            }
        }
        return all;
    }

    private static List<Extent> clip(List<Extent> all, long from, long to, long shift) {
        List<Extent> out = new ArrayList<>();
        for (Extent e : all) {
            long s = Math.max(from, e.offset());
            long t = Math.min(to, e.end());
            if (s < t) {
                Extent.append(out, s + shift, t - s, e.type());
            }
        }
        return out;
    }

    @Test
    void answersAsTheFileSystemInAnyOrder() throws Exception {
        Path f = holey();
        long size = 24L << 20;
        List<Extent> all = truth(f, size);
        Assumptions.assumeTrue(all.size() > 2048, "this file system keeps no holes (" + all.size() + " extents)");
        try (HostHoles h = HostHoles.open(f, size)) {
            Random rnd = new Random(7);
            for (int i = 0; i < 500; i++) {
                long from = (long) (rnd.nextDouble() * size);
                long len = 1 + (long) (rnd.nextDouble() * Math.min(size - from, i % 5 == 0 ? size : 200_000));
                long shift = 1 << 30;
                List<Extent> out = new ArrayList<>();
                assertThat(h.appendStatus(out, from + shift, from, len, Integer.MAX_VALUE)).isEqualTo(len);
                assertThat(out).as("[%d, +%d)", from, len).isEqualTo(clip(all, from, from + len, shift));
            }
            // the windows were reused: far fewer reads of the file system than lookups
            long[] counters = h.counters();
            assertThat(counters[0]).isLessThan(counters[1] / 4);
        }
    }

    @Test
    void stopsAtTheLimitAfterAWholeExtent() throws Exception {
        Path f = holey();
        long size = 24L << 20;
        try (HostHoles h = HostHoles.open(f, size)) {
            List<Extent> out = new ArrayList<>();
            long done = h.appendStatus(out, 0, 0, size, 100);
            assertThat(out).hasSizeBetween(100, 101);
            assertThat(done).isEqualTo(out.getLast().end()).isLessThan(size);
            // past the file's end (a reader should have refused it): DATA, so that a read reports it
            out.clear();
            assertThat(h.appendStatus(out, 0, size - BLOCK, 3 * BLOCK, 100)).isEqualTo(3 * BLOCK);
            assertThat(out.getLast()).isEqualTo(new Extent(BLOCK, 2 * BLOCK, ExtentType.DATA));
        }
    }
}
