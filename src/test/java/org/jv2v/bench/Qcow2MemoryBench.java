package org.jv2v.bench;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.CreateOptions;
import org.jv2v.image.qcow2.Qcow2Format;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * How the qcow2 writer's memory scales with the disk: writes one 64 KiB cluster into every
 * {@code stride} bytes of a huge virtual disk (so every L2 table is touched), then reports the
 * heap's peak use. Run by bench/qcow2-memory.sh, never by the test suite.
 * Usage: Qcow2MemoryBench DST.qcow2 [virtual-GiB] [stride-MiB]
 */
public final class Qcow2MemoryBench {
    private Qcow2MemoryBench() {}

    public static void main(String[] args) throws Exception {
        Path dst = Path.of(args[0]);
        long size = (args.length > 1 ? Long.parseLong(args[1]) : 2048) << 30;
        long stride = (args.length > 2 ? Long.parseLong(args[2]) : 512) << 20;
        byte[] data = new byte[64 * 1024];
        new Random(1).nextBytes(data);
        long t0 = System.nanoTime();
        long writes = 0;
        try (BlockDevice dev = new Qcow2Format().create(dst, CreateOptions.sparse(size))) {
            for (long off = 0; off + data.length <= size; off += stride) {
                dev.write(ByteBuffer.wrap(data), off);
                writes++;
            }
        }
        long peak = 0;
        long live = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
                if (pool.getCollectionUsage() != null) {
                    live = Math.max(live, pool.getCollectionUsage().getUsed());
                }
            }
        }
        long l2Tables = writes; // one table per 512 MiB with 64 KiB clusters
        System.out.printf("virtual %d GiB, %d clusters written, %d L2 tables (%d MiB if all kept), "
                        + "heap peak %d MiB, largest pool after a GC %d MiB (max heap %d MiB), file %d MiB, %.1f s%n",
                size >> 30, writes, l2Tables, l2Tables * 64 / 1024, peak >> 20, live >> 20,
                Runtime.getRuntime().maxMemory() >> 20, Files.size(dst) >> 20, (System.nanoTime() - t0) / 1e9);
    }
}
