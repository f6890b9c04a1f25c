package org.jv2v.testing;

import org.jv2v.copy.Copier;
import org.jv2v.copy.CopyOptions;
import org.jv2v.copy.CopyResult;
import org.jv2v.copy.ProgressListener;
import org.jv2v.image.Images;
import org.jv2v.image.OpenedImage;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Copies of an image whose file is sparse: each copy (to raw and to qcow2, verified) reads no more
 * than {@code maxRead} bytes, qemu-img compares it identical and checks it clean, and the source's
 * folder is unchanged.
 */
public final class SparseSourceCopies {
    private SparseSourceCopies() {}

    @FunctionalInterface
    public interface Opener {
        OpenedImage open(Path image) throws Exception;
    }

    /** The bytes {@link #make} writes into the image. */
    public static final long WRITTEN = (1 << 20) + 4096 + 512 * 1024;

    /**
     * A 32 MiB image made by qemu-img in {@code qemuFormat} with {@code subformat}, holding
     * {@link #WRITTEN} bytes that qemu-io wrote at 1M, 9M and 20M.
     */
    public static Path make(Path dir, String name, String qemuFormat, String subformat) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = java.nio.file.Files.createDirectories(dir.resolve("src")).resolve(name);
        Tools.run("qemu-img", "create", "-q", "-f", qemuFormat, "-o", "subformat=" + subformat, src.toString(), "32M");
        Tools.run("qemu-io", "-f", qemuFormat, "-c", "write -P 0x5a 1M 1M", "-c", "write -P 0x11 9M 4k",
                "-c", "write -P 0x22 20M 512k", src.toString());
        return src;
    }

    public static void assertCopiesReadAtMost(Path src, String qemuFormat, Opener opener, long minRead, long maxRead,
                                              Path outDir) throws Exception {
        Map<String, String> before = Checksums.of(src.getParent());
        for (String format : List.of("raw", "qcow2")) {
            Path dst = outDir.resolve("out." + format);
            CopyResult r;
            try (OpenedImage in = opener.open(src)) {
                r = Copier.copy(in.device(), Images.writer(format), dst, CopyOptions.defaults().withVerify(true),
                        ProgressListener.NONE);
            }
            assertThat(r.bytesRead()).as("bytes read into %s", format).isBetween(minRead, maxRead);
            // -f: qemu probes a fixed VHD (a footer only at the end) as raw
            assertThat(Run.run(List.of("qemu-img", "compare", "-f", qemuFormat, "-F", format, src.toString(),
                    dst.toString())).stdout()).contains("Images are identical");
            if (format.equals("qcow2")) {
                Tools.run("qemu-img", "check", "-q", dst.toString());
            }
        }
        assertThat(Checksums.of(src.getParent())).as("source untouched").isEqualTo(before);
    }
}
