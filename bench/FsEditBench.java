import org.jv2v.fs.WritableFileSystem;
import org.jv2v.fs.ext.ExtWritableFileSystem;
import org.jv2v.fs.xfs.XfsWritableFileSystem;
import org.jv2v.testing.FileDevice;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The jv2v side of bench/ext4-edit.sh and bench/xfs-edit.sh, editing with the ext or the XFS
 * editor (first argument "ext" or "xfs"): "rewrite IMAGE PATH HOSTFILE" replaces a file's content
 * (for ext what debugfs -w rm + write does), "create IMAGE DIR HOSTFILE COUNT" creates COUNT files
 * named f0..f(COUNT-1) in DIR with HOSTFILE's content (for ext what COUNT debugfs write commands do).
 */
public class FsEditBench {
    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        String op = args[1];
        try (FileDevice dev = FileDevice.openWritable(Path.of(args[2]));
             WritableFileSystem fs = switch (args[0]) {
                 case "ext" -> ExtWritableFileSystem.open(dev);
                 case "xfs" -> XfsWritableFileSystem.open(dev);
                 default -> throw new IllegalArgumentException("ext or xfs, not " + args[0]);
             }) {
            byte[] content = Files.readAllBytes(Path.of(args[4]));
            if (op.equals("rewrite")) {
                fs.rewrite(args[3], content);
            } else {
                int n = Integer.parseInt(args[5]);
                for (int i = 0; i < n; i++) {
                    fs.create(args[3] + "/f" + i, content, 0644, 0, 0);
                }
            }
        }
        System.err.printf("jv2v: %s in %.3f s (in-process)%n", op, (System.nanoTime() - t0) / 1e9);
    }
}
