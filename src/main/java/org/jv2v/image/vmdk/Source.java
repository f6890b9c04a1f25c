package org.jv2v.image.vmdk;

import org.jv2v.BadInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * The bytes an extent is read from: a whole file, or a member stored inside a container file (the
 * disk of an OVA, read in place instead of extracted). Positions are relative to the member;
 * messages give the container's file and absolute offsets, so a user can look with a hex viewer.
 *
 * @param member the member's name inside {@code file}, or null for a whole file
 */
record Source(Path file, FileChannel channel, long start, long size, String member) {

    static Source of(Path file, FileChannel channel) throws IOException {
        return new Source(file, channel, 0, channel.size(), null);
    }

    /** Reads like {@link FileChannel#read(ByteBuffer, long)}, never past the member's end. */
    int read(ByteBuffer dst, long pos) throws IOException {
        if (pos >= size) {
            return -1;
        }
        if (dst.remaining() <= size - pos) {
            return channel.read(dst, start + pos);
        }
        ByteBuffer part = dst.slice(dst.position(), (int) (size - pos));
        int n = channel.read(part, start + pos);
        if (n > 0) {
            dst.position(dst.position() + n);
        }
        return n;
    }

    /** {@code FILE: [MEMBER: ]FIELD at offset 0xABS: problem}. */
    BadInputException bad(String field, long pos, String problem) {
        return BadInputException.atOffset(file, member == null ? field : member + ": " + field, start + pos, problem);
    }

    /** What to call the bytes in messages without an offset. */
    String name() {
        return member == null ? file.toString() : file + ": " + member;
    }
}
