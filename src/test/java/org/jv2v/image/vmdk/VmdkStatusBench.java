package org.jv2v.image.vmdk;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;

import java.nio.file.Path;
import java.util.List;

/**
 * Benchmark driver (bench/vmdk-bench.sh): the block status of a whole disk, as a sparse copy asks
 * for it, printed as the number of DATA bytes. Compared with {@code qemu-img map}.
 */
public final class VmdkStatusBench {
    private VmdkStatusBench() {}

    public static void main(String[] args) throws Exception {
        Path src = Path.of(args[0]);
        long data = 0;
        try (OpenedImage img = new VmdkFormat().open(src, OpenContext.of(PathGuard.folderOf(src)))) {
            BlockDevice dev = img.device();
            for (long off = 0; off < dev.size(); ) {
                List<Extent> status = dev.blockStatus(off, dev.size() - off);
                for (Extent e : status) {
                    if (e.type() == ExtentType.DATA) {
                        data += e.length();
                    }
                }
                off = status.getLast().end();
            }
        }
        System.out.println(data);
    }
}
