package org.jv2v.image;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * An opened image: its device (the merged view of the whole chain), and what {@code image info}
 * reports about it.
 *
 * @param format     the format's name ("vmdk", "qcow2", ...)
 * @param subformat  the variant, e.g. "monolithicSparse", "streamOptimized", "dynamic"; empty if none
 * @param file       the file the user named (the descriptor for a VMDK)
 * @param files      every file this layer reads (descriptor and extents), for checksums and reports
 * @param device     the merged, read-only view of this layer and its backing chain
 * @param backing    the next layer down, if any
 */
public record OpenedImage(String format, String subformat, Path file, List<Path> files,
                          BlockDevice device, Optional<OpenedImage> backing) implements AutoCloseable {

    /** This layer first, then its backing files, top to bottom. */
    public List<OpenedImage> chain() {
        var out = new java.util.ArrayList<OpenedImage>();
        for (Optional<OpenedImage> i = Optional.of(this); i.isPresent(); i = i.get().backing()) {
            out.add(i.get());
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        device.close();
    }
}
