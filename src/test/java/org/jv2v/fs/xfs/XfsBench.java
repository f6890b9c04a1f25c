package org.jv2v.fs.xfs;

import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.testing.FileDevice;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * Benchmark driver for bench/xfs-read.sh (not a test): walks an XFS image, reads and hashes every
 * regular file, then maps the used blocks, printing the time of each phase.
 */
public final class XfsBench {
    private long files;
    private long bytes;
    private final MessageDigest all = MessageDigest.getInstance("SHA-256");
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 20);

    private XfsBench() throws Exception {}

    public static void main(String[] args) throws Exception {
        XfsBench b = new XfsBench();
        try (FileDevice dev = FileDevice.open(Path.of(args[0]))) {
            long t0 = System.nanoTime();
            XfsFileSystem fs = XfsFileSystem.open(dev);
            b.walk(fs, "/");
            long t1 = System.nanoTime();
            List<ByteRange> used = fs.usedRanges();
            long t2 = System.nanoTime();
            long usedBytes = used.stream().mapToLong(ByteRange::length).sum();
            System.out.printf("jv2v read: %d files, %d bytes in %.3f s (digest %s)%n", b.files, b.bytes,
                    (t1 - t0) / 1e9, HexFormat.of().formatHex(b.all.digest()).substring(0, 16));
            System.out.printf("jv2v used map: %d ranges, %d bytes used in %.3f s%n", used.size(), usedBytes,
                    (t2 - t1) / 1e9);
        }
    }

    private void walk(XfsFileSystem fs, String dir) throws Exception {
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
