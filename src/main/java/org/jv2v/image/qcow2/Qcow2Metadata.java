package org.jv2v.image.qcow2;

import org.jv2v.BadInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A qcow2 image's header, extensions and active L1 table, read and checked: every size and offset
 * is capped and checked against the file before anything is sized from it.
 *
 * @param l1 the L1 table's entries (l1_size of them)
 */
record Qcow2Metadata(Path file, long fileSize, Qcow2Header header, HeaderExtensions extensions, Geometry geo,
                     Compression compression, long[] l1, Optional<String> backingName) {

    private static final String[] CRYPT_METHODS = {"none", "AES", "LUKS"};

    static Qcow2Metadata read(Path file, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < Qcow2Limits.V2_HEADER_LENGTH) {
            throw BadInputException.inFile(file, "too short for a qcow2 header (" + fileSize + " bytes)");
        }
        ByteBuffer fixed = readAt(file, ch, 0, (int) Math.min(fileSize, Qcow2Header.V3_WRITTEN_LENGTH));
        if (!Qcow2Header.hasMagic(fixed)) {
            throw BadInputException.atOffset(file, "magic", 0, "not a qcow2 image");
        }
        Qcow2Header h = Qcow2Header.read(fixed);
        if (h.version() != 2 && h.version() != 3) {
            throw BadInputException.atOffset(file, "version", Qcow2Header.OFF_VERSION, "qcow version "
                    + Integer.toUnsignedString(h.version()) + " is not supported (jv2v reads qcow2 versions 2 and 3)");
        }
        if (h.clusterBits() < Qcow2Limits.MIN_CLUSTER_BITS || h.clusterBits() > Qcow2Limits.MAX_CLUSTER_BITS) {
            throw BadInputException.atOffset(file, "cluster_bits", Qcow2Header.OFF_CLUSTER_BITS, h.clusterBits()
                    + " is outside " + Qcow2Limits.MIN_CLUSTER_BITS + ".." + Qcow2Limits.MAX_CLUSTER_BITS
                    + " (512 bytes to 2 MiB clusters)");
        }
        int cb = (int) h.clusterBits();
        int cs = 1 << cb;
        if (h.version() == 3) {
            if (fileSize < Qcow2Limits.V3_MIN_HEADER_LENGTH) {
                throw BadInputException.inFile(file, "too short for a qcow2 v3 header (" + fileSize + " bytes)");
            }
            if (h.headerLength() < Qcow2Limits.V3_MIN_HEADER_LENGTH || h.headerLength() % 8 != 0
                    || h.headerLength() > cs) {
                throw BadInputException.atOffset(file, "header_length", Qcow2Header.OFF_HEADER_LENGTH,
                        h.headerLength() + " is not a multiple of 8 between " + Qcow2Limits.V3_MIN_HEADER_LENGTH
                                + " and the cluster size " + cs);
            }
            if (h.refcountOrder() > Qcow2Limits.MAX_REFCOUNT_ORDER) {
                throw BadInputException.atOffset(file, "refcount_order", Qcow2Header.OFF_REFCOUNT_ORDER,
                        h.refcountOrder() + " is above " + Qcow2Limits.MAX_REFCOUNT_ORDER);
            }
        }
        if (h.size() < 0 || h.size() > Qcow2Limits.MAX_VIRTUAL_SIZE) {
            throw BadInputException.atOffset(file, "size", Qcow2Header.OFF_SIZE, Long.toUnsignedString(h.size())
                    + " bytes is beyond the largest disk qcow2 can map (2^61 bytes)");
        }

        // The rest of the first cluster holds the extensions and the backing file name.
        ByteBuffer first = readAt(file, ch, 0, (int) Math.min(fileSize, cs));
        long backingOffset = h.backingFileOffset();
        long extEnd = first.limit();
        if (backingOffset != 0) {
            if (backingOffset < h.headerLength() || backingOffset >= cs) {
                throw BadInputException.atOffset(file, "backing_file_offset", Qcow2Header.OFF_BACKING_FILE_OFFSET,
                        "0x" + Long.toHexString(backingOffset) + " is not inside the first cluster after the header");
            }
            extEnd = Math.min(extEnd, backingOffset);
        }
        HeaderExtensions ext = HeaderExtensions.parse(first, (int) h.headerLength(), (int) extEnd, file);

        checkFeatures(file, h, ext);
        if (h.cryptMethod() != 0 || ext.cryptoHeader()) {
            String method = h.cryptMethod() < CRYPT_METHODS.length ? CRYPT_METHODS[(int) h.cryptMethod()]
                    : "method " + h.cryptMethod();
            throw BadInputException.atOffset(file, "crypt_method", Qcow2Header.OFF_CRYPT_METHOD,
                    "encrypted images (" + method + ") are not supported; decrypt it first with qemu-img convert");
        }
        boolean extended = (h.incompatibleFeatures() & Qcow2Header.INCOMPAT_EXTENDED_L2) != 0;
        if (extended && cb < Qcow2Limits.MIN_EXTENDED_L2_CLUSTER_BITS) {
            throw BadInputException.atOffset(file, "cluster_bits", Qcow2Header.OFF_CLUSTER_BITS, cb
                    + " is below " + Qcow2Limits.MIN_EXTENDED_L2_CLUSTER_BITS + ", the minimum with extended L2 entries");
        }
        Compression compression = compressionOf(file, h);
        Geometry geo = new Geometry(cb, h.size(), extended);

        if (h.nbSnapshots() > Qcow2Limits.MAX_SNAPSHOTS) {
            throw BadInputException.atOffset(file, "nb_snapshots", Qcow2Header.OFF_NB_SNAPSHOTS, h.nbSnapshots()
                    + " is more than " + Qcow2Limits.MAX_SNAPSHOTS);
        }
        if (h.nbSnapshots() > 0) {
            checkTable(file, "snapshots_offset", Qcow2Header.OFF_SNAPSHOTS_OFFSET, h.snapshotsOffset(), 1, cs, fileSize);
        }

        Optional<String> backingName = Optional.empty();
        if (backingOffset != 0) {
            long len = h.backingFileSize();
            if (len == 0 || len > Qcow2Limits.MAX_BACKING_NAME_BYTES || backingOffset + len > first.limit()) {
                throw BadInputException.atOffset(file, "backing_file_size", Qcow2Header.OFF_BACKING_FILE_SIZE, len
                        + " bytes: a backing file name has 1 to " + Qcow2Limits.MAX_BACKING_NAME_BYTES
                        + " bytes and lies in the first cluster and in the file");
            }
            byte[] name = new byte[(int) len];
            first.get((int) backingOffset, name);
            backingName = Optional.of(new String(name, StandardCharsets.UTF_8));
        }

        long l1Size = h.l1Size();
        if (l1Size > Qcow2Limits.MAX_L1_ENTRIES) {
            throw BadInputException.atOffset(file, "l1_size", Qcow2Header.OFF_L1_SIZE, l1Size
                    + " entries is more than " + Qcow2Limits.MAX_L1_ENTRIES + " (32 MiB)");
        }
        if (l1Size < geo.l1Needed()) {
            throw BadInputException.atOffset(file, "l1_size", Qcow2Header.OFF_L1_SIZE, l1Size
                    + " entries cannot map the virtual size " + h.size() + " (needs " + geo.l1Needed() + ")");
        }
        long[] l1 = new long[(int) l1Size];
        if (l1Size > 0) {
            checkTable(file, "l1_table_offset", Qcow2Header.OFF_L1_TABLE_OFFSET, h.l1TableOffset(), l1Size * 8, cs,
                    fileSize);
            readAt(file, ch, h.l1TableOffset(), (int) (l1Size * 8)).asLongBuffer().get(l1);
            for (int i = 0; i < l1.length; i++) {
                long l2 = l1[i] & Geometry.OFFSET_MASK;
                if (l2 == 0) {
                    continue;
                }
                long at = h.l1TableOffset() + 8L * i;
                if ((l2 & (cs - 1)) != 0) {
                    throw BadInputException.atOffset(file, "L1 entry " + i, at, "L2 table offset 0x"
                            + Long.toHexString(l2) + " is not aligned to a cluster");
                }
                if (l2 > fileSize - cs) {
                    throw BadInputException.atOffset(file, "L1 entry " + i, at, "L2 table offset 0x"
                            + Long.toHexString(l2) + " is past the end of the file (size 0x"
                            + Long.toHexString(fileSize) + ")");
                }
            }
        }
        return new Qcow2Metadata(file, fileSize, h, ext, geo, compression, l1, backingName);
    }

    private static void checkFeatures(Path file, Qcow2Header h, HeaderExtensions ext) {
        long incompat = h.incompatibleFeatures();
        long unknown = incompat & ~Qcow2Header.INCOMPAT_KNOWN;
        if (unknown != 0) {
            int bit = Long.numberOfTrailingZeros(unknown);
            throw BadInputException.atOffset(file, "incompatible_features", Qcow2Header.OFF_INCOMPATIBLE_FEATURES,
                    "unknown feature " + ext.featureName(HeaderExtensions.INCOMPATIBLE, bit) + " is set");
        }
        if ((incompat & Qcow2Header.INCOMPAT_DATA_FILE) != 0) {
            throw BadInputException.atOffset(file, "incompatible_features", Qcow2Header.OFF_INCOMPATIBLE_FEATURES,
                    "images with an external data file" + ext.dataFile().map(n -> " ('" + n + "')").orElse("")
                            + " are not supported; convert it first with qemu-img convert");
        }
    }

    private static Compression compressionOf(Path file, Qcow2Header h) {
        boolean flagged = (h.incompatibleFeatures() & Qcow2Header.INCOMPAT_COMPRESSION) != 0;
        int type = h.compressionType();
        if (flagged != (type != 0)) {
            throw BadInputException.atOffset(file, "compression_type", Qcow2Header.OFF_COMPRESSION_TYPE, type
                    + " does not agree with the compression type feature bit ("
                    + (flagged ? "set" : "clear") + ")");
        }
        if (type > 1) {
            throw BadInputException.atOffset(file, "compression_type", Qcow2Header.OFF_COMPRESSION_TYPE,
                    "unknown compression type " + type + " (0 is zlib, 1 is zstd)");
        }
        return Compression.ofType(type);
    }

    /** A cluster-aligned table of {@code bytes} at {@code offset} that must lie inside the file. */
    static void checkTable(Path file, String field, int fieldOffset, long offset, long bytes, int cs, long fileSize) {
        if (offset <= 0 || (offset & (cs - 1)) != 0) {
            throw BadInputException.atOffset(file, field, fieldOffset, "0x" + Long.toHexString(offset)
                    + " is not a cluster-aligned offset in the file");
        }
        if (offset > fileSize || bytes > fileSize - offset) {
            throw BadInputException.atOffset(file, field, fieldOffset, "table at 0x" + Long.toHexString(offset)
                    + " (" + bytes + " bytes) runs past the end of the file (size 0x" + Long.toHexString(fileSize)
                    + ")");
        }
    }

    static ByteBuffer readAt(Path file, FileChannel ch, long offset, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.BIG_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, offset + b.position()) < 0) {
                throw new java.io.EOFException(file + ": unexpected end of file at offset 0x"
                        + Long.toHexString(offset + b.position()));
            }
        }
        return b.flip();
    }
}
