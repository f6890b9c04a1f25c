package org.jv2v.fs;

/** Bytes {@code [offset, offset + length)} of the device a filesystem lives on. */
public record ByteRange(long offset, long length) {
    public long end() {
        return offset + length;
    }
}
