package org.jv2v.bench;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileSystem;
import org.jv2v.testing.FileDevice;
import org.jv2v.fs.ntfs.NtfsFileSystem;
import org.jv2v.registry.Hive;
import org.jv2v.registry.RegistryKey;
import org.jv2v.registry.RegistryValue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Benchmark driver (run by bench/ntfs-registry-read.sh, never by the test suite).
 * <ul>
 * <li>{@code NtfsReadBench ntfs IMAGE}: walks the whole tree and reads every regular file, printing
 *     "FILES BYTES SHA256-of-all-contents-in-path-order";</li>
 * <li>{@code NtfsReadBench hive FILE}: reads every key and value, printing "KEYS VALUES BYTES".</li>
 * </ul>
 */
public final class NtfsReadBench {
    private NtfsReadBench() {}

    public static void main(String[] args) throws Exception {
        if (args[0].equals("ntfs")) {
            try (FileSystem fs = NtfsFileSystem.open(FileDevice.open(Path.of(args[1])))) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                long[] totals = new long[2];
                walk(fs, "/", md, totals, ByteBuffer.allocate(1 << 20));
                System.out.println(totals[0] + " " + totals[1] + " " + HexFormat.of().formatHex(md.digest()));
            }
        } else {
            Hive h = Hive.open(Path.of(args[1]));
            long[] t = new long[3];
            h.walk((RegistryKey k) -> {
                t[0]++;
                for (RegistryValue v : k.values()) {
                    t[1]++;
                    t[2] += v.data().length;
                }
            });
            System.out.println(t[0] + " " + t[1] + " " + t[2]);
        }
    }

    private static void walk(FileSystem fs, String dir, MessageDigest md, long[] totals, ByteBuffer buf) throws Exception {
        for (DirEntry e : fs.list(dir)) {
            String p = (dir.equals("/") ? "" : dir) + "/" + e.name();
            if (e.kind() == FileKind.DIRECTORY) {
                walk(fs, p, md, totals, buf);
            } else if (e.kind() == FileKind.REGULAR) {
                totals[0]++;
                long pos = 0;
                for (int n; (n = fs.read(p, buf.clear(), pos)) > 0; pos += n) {
                    md.update(buf.array(), 0, n);
                }
                totals[1] += pos;
            }
        }
    }
}
