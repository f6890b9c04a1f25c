package org.jv2v.copy;

import org.jv2v.Jv2vException;
import org.jv2v.image.OpenedImage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A copy never writes over what it reads. The copier writes DST.part and its journal beside DST
 * and renames DST.part onto DST at the end: with DST (or DST.part) naming a file of the source's
 * chain, the source itself, or its backing file, would be replaced by the copy. qemu-img refuses
 * the same through its image locks ("Failed to get write lock").
 */
public final class TargetCheck {
    private TargetCheck() {}

    /** Every file {@code source} reads: each layer's descriptor and extents, top to bottom. */
    public static List<Path> files(OpenedImage source) {
        List<Path> out = new ArrayList<>();
        for (OpenedImage layer : source.chain()) {
            out.addAll(layer.files());
            if (!layer.files().contains(layer.file())) {
                out.add(layer.file());
            }
        }
        return out;
    }

    /**
     * Fails, in one line naming both, when {@code dst}, {@link Copier#partFile} or {@link
     * Copier#journalFile} of it is (after symbolic links, or as a hard link) one of {@code sourceFiles}.
     */
    public static void refuseSourceFiles(List<Path> sourceFiles, Path dst) throws IOException {
        List<Path> sources = new ArrayList<>();
        for (Path f : sourceFiles) {
            sources.add(real(f));
        }
        for (Path written : List.of(dst, Copier.partFile(dst), Copier.journalFile(dst))) {
            Path w = real(written);
            for (int i = 0; i < sources.size(); i++) {
                // the same path after links, or the same file under another name (a hard link)
                if (sources.get(i).equals(w) || Files.exists(written) && Files.isSameFile(written, sourceFiles.get(i))) {
                    throw new Jv2vException(dst + ": " + (written.equals(dst) ? "" : "its " + written.getFileName()
                            + " ") + "is the source file " + sourceFiles.get(i)
                            + " (the copy would replace it); write the copy elsewhere");
                }
            }
        }
    }

    /** The real path of {@code p}, or of its folder with its name appended while it does not exist. */
    private static Path real(Path p) throws IOException {
        Path abs = p.toAbsolutePath().normalize();
        if (Files.exists(abs)) {
            return abs.toRealPath();
        }
        Path parent = abs.getParent();
        if (parent != null && Files.exists(parent, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(abs)) {
            return parent.toRealPath().resolve(abs.getFileName());
        }
        return abs;
    }
}
