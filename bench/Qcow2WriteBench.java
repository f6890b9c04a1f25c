import org.jv2v.image.BlockDevice;
import org.jv2v.image.CreateOptions;
import org.jv2v.image.Preallocation;
import org.jv2v.image.qcow2.Qcow2Format;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copies a raw file into a new qcow2 image through jv2v's qcow2 writer, with several threads each
 * reading a chunk and writing it (the writer skips zero clusters itself), then closes the image
 * (which makes it durable). Usage: Qcow2WriteBench SRC.raw DST.qcow2 [threads] [chunk-MiB] [-c]
 */
public final class Qcow2WriteBench {
    public static void main(String[] args) throws Exception {
        Path src = Path.of(args[0]);
        Path dst = Path.of(args[1]);
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int chunk = (args.length > 3 ? Integer.parseInt(args[3]) : 2) << 20;
        boolean compress = args.length > 4 && args[4].equals("-c");
        try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ)) {
            long size = in.size();
            BlockDevice out = new Qcow2Format().create(dst, new CreateOptions(size, Preallocation.OFF, compress));
            AtomicLong next = new AtomicLong();
            List<Thread> workers = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(Thread.ofPlatform().start(() -> {
                    ByteBuffer buf = ByteBuffer.allocateDirect(chunk);
                    try {
                        for (long off; (off = next.getAndAdd(chunk)) < size; ) {
                            buf.clear().limit((int) Math.min(chunk, size - off));
                            while (buf.hasRemaining()) {
                                if (in.read(buf, off + buf.position()) < 0) {
                                    throw new java.io.EOFException(src.toString());
                                }
                            }
                            out.write(buf.flip(), off);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread w : workers) {
                w.join();
            }
            out.close();
            if (!failures.isEmpty()) {
                throw new RuntimeException(failures.getFirst());
            }
        }
    }
}
