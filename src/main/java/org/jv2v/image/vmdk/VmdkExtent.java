package org.jv2v.image.vmdk;

import org.jv2v.image.Extent;
import org.jv2v.image.ExtentType;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** One extent of one layer: a contiguous part of the virtual disk, stored one way. */
sealed interface VmdkExtent extends Closeable permits FlatExtent, ZeroExtent, GrainExtent {

    /** Size in bytes. */
    long size();

    /**
     * Fills {@code dst} (position to limit) from {@code offset} within this extent. Ranges this
     * layer does not hold are read through {@code below}, at extent offsets.
     */
    void read(ByteBuffer dst, long offset, Below below) throws IOException;

    /**
     * Appends to {@code out} (device offsets: extent offset + {@code deviceStart}) the status of
     * {@code [offset, offset + length)}, or of a prefix of it once {@code out} holds
     * {@code maxRuns} runs. UNALLOCATED means "ask the parent".
     */
    void status(long offset, long length, long deviceStart, List<Extent> out, int maxRuns) throws IOException;

    /** What fills ranges a layer does not hold: its parent, or zeros. */
    @FunctionalInterface
    interface Below {
        void read(ByteBuffer dst, long extentOffset) throws IOException;
    }
}
