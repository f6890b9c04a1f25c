package org.jv2v.image;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A format jv2v can write (raw, qcow2). The device returned is writable, safe for concurrent writes
 * to different ranges, reads back what was written, and reports exact block status. After
 * {@link BlockDevice#flush()} the file is a valid image of its format (so an interrupted copy can
 * be resumed with {@link #reopen}); {@link BlockDevice#close()} finishes it.
 */
public interface ImageWriter {

    /** "raw", "qcow2": the names of {@code -of}. */
    String name();

    /** Creates (or truncates) {@code file} as an empty image. */
    BlockDevice create(Path file, CreateOptions options) throws IOException;

    /** Opens an image this writer made earlier (and flushed) to continue writing it. */
    BlockDevice reopen(Path file, CreateOptions options) throws IOException;
}
