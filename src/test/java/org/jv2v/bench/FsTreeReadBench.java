package org.jv2v.bench;

import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystems;
import org.jv2v.testing.FileDevice;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * Benchmark driver for bench/fat-btrfs-read.sh (not a test): opens a filesystem image with
 * whichever reader recognises it, reads and hashes every regular file, then maps the used blocks,
 * printing the time of each phase.
 */
public final class FsTreeReadBench {
    private long files;
    private long bytes;
    private final java.util.zip.CRC32C all = new java.util.zip.CRC32C();
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 20);

    private FsTreeReadBench() throws Exception {}

    public static void main(String[] args) throws Exception {
        FsTreeReadBench b = new FsTreeReadBench();
        try (FileDevice dev = FileDevice.open(Path.of(args[0]))) {
            long t0 = System.nanoTime();
            FileSystem fs = FileSystems.open(dev).orElseThrow(() -> new IllegalArgumentException("no filesystem"));
            b.walk(fs, "/");
            long t1 = System.nanoTime();
            List<ByteRange> used = fs.usedRanges();
            long t2 = System.nanoTime();
            long usedBytes = used.stream().mapToLong(ByteRange::length).sum();
            System.out.printf("jv2v %s read: %d files, %d bytes in %.3f s (crc32c %08x)%n", fs.type(), b.files, b.bytes,
                    (t1 - t0) / 1e9, b.all.getValue());
            System.out.printf("jv2v used map: %d ranges, %d bytes used in %.3f s%n", used.size(), usedBytes,
                    (t2 - t1) / 1e9);
        }
    }

    private void walk(FileSystem fs, String dir) throws Exception {
        for (DirEntry e : fs.list(dir)) {
            String p = dir.equals("/") ? "/" + e.name() : dir + "/" + e.name();
            if (e.kind() == FileKind.DIRECTORY) {
                walk(fs, p);
            } else if (e.kind() == FileKind.REGULAR) {
                long pos = 0;
                int n;
                while ((n = fs.read(p, buf.clear(), pos)) > 0) {
                    all.update(buf.flip());
                    pos += n;
                }
                files++;
                bytes += pos;
            }
        }
    }
}
