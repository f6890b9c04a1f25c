import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.ext.ExtFileSystem;
import org.jv2v.testing.FileDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The jv2v side of bench/ext4.sh: "read" reads every regular file of an ext image (what debugfs
 * cat of each file does), "rdump" copies them into a folder (what debugfs rdump does), "used"
 * computes the used-block map (what dumpe2fs's free lists give).
 */
public class ExtBench {
    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        try (FileDevice dev = FileDevice.open(Path.of(args[1])); ExtFileSystem fs = ExtFileSystem.open(dev)) {
            if (args[0].equals("read")) {
                long[] bytes = new long[1];
                read(fs, "/", bytes);
                System.err.printf("jv2v: %d bytes read in %.3f s (in-process)%n", bytes[0], (System.nanoTime() - t0) / 1e9);
            } else if (args[0].equals("rdump")) {
                long[] bytes = new long[1];
                copy(fs, "/", Path.of(args[2]), bytes);
                System.err.printf("jv2v: %d bytes copied in %.3f s (in-process)%n", bytes[0], (System.nanoTime() - t0) / 1e9);
            } else {
                long used = fs.usedRanges().stream().mapToLong(r -> r.length()).sum();
                System.err.printf("jv2v: %d bytes used, mapped in %.3f s (in-process)%n", used, (System.nanoTime() - t0) / 1e9);
            }
        }
    }

    private static void read(FileSystem fs, String dir, long[] bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        for (DirEntry e : fs.list(dir)) {
            String path = (dir.equals("/") ? "" : dir) + "/" + e.name();
            if (e.kind() == FileKind.DIRECTORY) {
                read(fs, path, bytes);
            } else if (e.kind() == FileKind.REGULAR) {
                long pos = 0;
                for (int n; (n = fs.read(path, buf.clear(), pos)) >= 0; pos += n) {
                    // only reading
                }
                bytes[0] += pos;
            }
        }
    }

    private static void copy(FileSystem fs, String dir, Path out, long[] bytes) throws IOException {
        Files.createDirectories(out);
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        for (DirEntry e : fs.list(dir)) {
            String path = (dir.equals("/") ? "" : dir) + "/" + e.name();
            if (e.kind() == FileKind.DIRECTORY) {
                copy(fs, path, out.resolve(e.name()), bytes);
            } else if (e.kind() == FileKind.REGULAR) {
                try (FileChannel ch = FileChannel.open(out.resolve(e.name()), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    long pos = 0;
                    for (int n; (n = fs.read(path, buf.clear(), pos)) >= 0; pos += n) {
                        buf.flip();
                        while (buf.hasRemaining()) {
                            ch.write(buf);
                        }
                    }
                    bytes[0] += pos;
                }
            }
        }
    }
}
