package org.jv2v.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * One disk image format (one package each: raw, vmdk, qcow2, vhd, vhdx). Formats are found by
 * probing content, like qemu's probe scores, never by file name alone.
 */
public interface ImageFormat {

    /** The name users and qemu-img use: "raw", "vmdk", "qcow2", "vpc" is spelled "vhd" here. */
    String name();

    /**
     * How sure this format is that the file is its own, 0 (not mine) to 100 (magic and header
     * check out). {@code head} holds the file's first bytes (up to 64 KiB, less for small files).
     */
    int probe(ByteBuffer head, Path file, long fileSize);

    /** Opens the file read-only (with its backing chain, if any). */
    OpenedImage open(Path file, OpenContext context) throws IOException;
}
