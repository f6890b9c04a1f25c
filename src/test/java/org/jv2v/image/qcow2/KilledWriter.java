package org.jv2v.image.qcow2;

import org.jv2v.image.CreateOptions;
import org.jv2v.image.Preallocation;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The process {@code Qcow2WriterTest} kills: writes rounds of data with three threads under a tiny
 * memory budget of two L2 tables (each maps one round), so tables are written back between
 * flushes. It flushes after each of the first {@link #FLUSHED} rounds ("flushed"), writes three
 * more without a flush ("dirty": a dirty table has been written back), then goes on writing the
 * rest and rewriting everything until it is killed.
 */
public final class KilledWriter {
    static final int ROUNDS = 8;
    static final int FLUSHED = 3;
    static final int ROUND_BYTES = 2 << 20;
    static final long SIZE = (long) ROUNDS * ROUND_BYTES;
    private static final int PIECE = 40 * 1024;

    private KilledWriter() {}

    /** Round {@code r}'s bytes: compressible data with a few zero pieces. */
    static byte[] round(int r) {
        byte[] b = Qemu.mixed(100 + r, ROUND_BYTES);
        for (int i = r * PIECE; i < b.length; i += 7 * PIECE) {
            java.util.Arrays.fill(b, i, Math.min(b.length, i + PIECE), (byte) 0);
        }
        return b;
    }

    public static void main(String[] args) throws Exception {
        Qcow2WriteDevice dev = Qcow2WriteDevice.create(Path.of(args[0]),
                new CreateOptions(SIZE, Preallocation.OFF, false), 12, new Qcow2WriteDevice.Budget(0, 0));
        // Never outlive the test: stop when the parent is gone or after two minutes.
        var parent = ProcessHandle.current().parent();
        long deadline = System.nanoTime() + 120_000_000_000L;
        for (long pass = 0; pass == 0 || (parent.map(ProcessHandle::isAlive).orElse(false)
                && System.nanoTime() < deadline); pass++) {
            for (int r = 0; r < ROUNDS; r++) {
                byte[] data = round(r);
                List<Integer> pieces = new ArrayList<>();
                for (int p = 0; p * PIECE < data.length; p++) {
                    pieces.add(p);
                }
                Collections.shuffle(pieces, new java.util.Random(pass * 31 + r));
                long base = (long) r * ROUND_BYTES;
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    int first = t;
                    threads.add(Thread.ofPlatform().start(() -> {
                        try {
                            for (int i = first; i < pieces.size(); i += 3) {
                                int off = pieces.get(i) * PIECE;
                                int len = Math.min(PIECE, data.length - off);
                                dev.write(ByteBuffer.wrap(data, off, len), base + off);
                            }
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }));
                }
                for (Thread t : threads) {
                    t.join();
                }
                if (pass == 0 && r < FLUSHED) {
                    dev.flush();
                    System.out.println("flushed");
                } else if (pass == 0 && r == FLUSHED + 2) {
                    System.out.println("dirty");
                }
                System.out.flush();
            }
        }
    }
}
