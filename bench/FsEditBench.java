import org.jv2v.fs.FileSystems;
import org.jv2v.fs.WritableFileSystem;
import org.jv2v.testing.FileDevice;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The jv2v side of bench/ext4-edit.sh and bench/xfs-edit.sh, editing with the editor of whatever
 * filesystem the image holds: "rewrite IMAGE PATH HOSTFILE" replaces a file's content (for ext what
 * debugfs -w rm + write does), "create IMAGE DIR HOSTFILE COUNT" creates COUNT files named
 * f0..f(COUNT-1) in DIR with HOSTFILE's content (for ext what COUNT debugfs write commands do).
 */
public class FsEditBench {
    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        try (FileDevice dev = FileDevice.openWritable(Path.of(args[1]));
             WritableFileSystem fs = FileSystems.probe(dev).orElseThrow(
                     () -> new IllegalArgumentException(args[1] + ": no filesystem jv2v knows")).openWritable(dev)) {
            byte[] content = Files.readAllBytes(Path.of(args[3]));
            if (args[0].equals("rewrite")) {
                fs.rewrite(args[2], content);
            } else {
                int n = Integer.parseInt(args[4]);
                for (int i = 0; i < n; i++) {
                    fs.create(args[2] + "/f" + i, content, 0644, 0, 0);
                }
            }
        }
        System.err.printf("jv2v: %s in %.3f s (in-process)%n", args[0], (System.nanoTime() - t0) / 1e9);
    }
}
