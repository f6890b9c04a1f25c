package org.jv2v.bench;

import org.jv2v.fs.ByteRange;
import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileSystem;
import org.jv2v.fs.FileSystems;
import org.jv2v.testing.FileDevice;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * Benchmark driver for bench/fat-btrfs-read.sh and bench/xfs-read.sh (not a test): opens a
 * filesystem image with whichever reader recognises it, reads and hashes every regular file, then
 * maps the used blocks, printing the time of each phase. Usage: {@code IMAGE [sha256]}; the hash
 * is CRC-32C unless "sha256" asks for SHA-256 (as cheap or as dear as the reference side's hash).
 */
public final class FsTreeReadBench {
    private long files;
    private long bytes;
    private final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    private final MessageDigest sha256;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 20);

    private FsTreeReadBench(boolean sha256) throws Exception {
        this.sha256 = sha256 ? MessageDigest.getInstance("SHA-256") : null;
    }

    private void hash(ByteBuffer data) {
        if (sha256 != null) {
            sha256.update(data);
        } else {
            crc.update(data);
        }
    }

    private String digest() {
        return sha256 != null ? "sha256 " + HexFormat.of().formatHex(sha256.digest()).substring(0, 16)
                : String.format("crc32c %08x", crc.getValue());
    }

    public static void main(String[] args) throws Exception {
        FsTreeReadBench b = new FsTreeReadBench(args.length > 1 && args[1].equals("sha256"));
        try (FileDevice dev = FileDevice.open(Path.of(args[0]))) {
            long t0 = System.nanoTime();
            FileSystem fs = FileSystems.open(dev).orElseThrow(() -> new IllegalArgumentException("no filesystem"));
            b.walk(fs, "/");
            long t1 = System.nanoTime();
            List<ByteRange> used = fs.usedRanges();
            long t2 = System.nanoTime();
            long usedBytes = used.stream().mapToLong(ByteRange::length).sum();
            System.out.printf("jv2v %s read: %d files, %d bytes in %.3f s (%s)%n", fs.type(), b.files, b.bytes,
                    (t1 - t0) / 1e9, b.digest());
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
                    hash(buf.flip());
                    pos += n;
                }
                files++;
                bytes += pos;
            }
        }
    }
}
