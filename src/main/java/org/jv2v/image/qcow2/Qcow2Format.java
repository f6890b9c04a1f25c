package org.jv2v.image.qcow2;

import org.jv2v.BadInputException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.CreateOptions;
import org.jv2v.image.ImageFormat;
import org.jv2v.image.ImageWriter;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.raw.HostHoles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

/**
 * qcow2, QEMU's copy-on-write format (docs/interop/qcow2.txt). Reads versions 2 and 3: zlib and
 * zstd compressed clusters, zero clusters, extended L2 entries (subclusters) and backing chains of
 * any format. Writes version 3 images (64 KiB clusters, 16-bit refcounts), optionally compressed
 * with deflate, as {@code qemu-img convert -O qcow2 [-c]} does.
 */
public final class Qcow2Format implements ImageFormat, ImageWriter {

    @Override
    public String name() {
        return "qcow2";
    }

    /** 100 for the magic and version 2 or 3; a qcow magic with another version is still claimed, to refuse it clearly. */
    @Override
    public int probe(ByteBuffer head, Path file, long fileSize) {
        if (!Qcow2Header.hasMagic(head)) {
            return 0;
        }
        int version = head.duplicate().order(ByteOrder.BIG_ENDIAN).getInt(head.position() + 4);
        return version == 2 || version == 3 ? 100 : 10;
    }

    @Override
    public OpenedImage open(Path file, OpenContext context) throws IOException {
        if (Files.isDirectory(file)) {
            throw BadInputException.inFile(file, "is a folder, not a disk image");
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        OpenedImage backing = null;
        HostHoles holes = null;
        try {
            Qcow2Metadata meta = Qcow2Metadata.read(file, ch);
            if (meta.backingName().isPresent()) {
                backing = openBacking(file, meta, context);
            }
            holes = HostHoles.open(file, meta.fileSize());
            BlockDevice device = new Qcow2ReadDevice(meta, ch, backing == null ? null : backing.device(), holes);
            return new OpenedImage(name(), "v" + meta.header().version(), file, List.of(file), device,
                    Optional.ofNullable(backing));
        } catch (IOException | RuntimeException | Error e) {
            try {
                ch.close();
                if (holes != null) {
                    holes.close();
                }
                if (backing != null) {
                    backing.close();
                }
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static OpenedImage openBacking(Path file, Qcow2Metadata meta, OpenContext context) throws IOException {
        String name = meta.backingName().orElseThrow();
        long at = meta.header().backingFileOffset();
        String where = "offset 0x" + Long.toHexString(at);
        if (name.startsWith("json:")) {
            throw BadInputException.atOffset(file, "backing file name", at,
                    "json: backing specifications are not supported");
        }
        Path path = context.guard().resolve(file, name, "backing file name", where);
        if (!Files.isRegularFile(path)) {
            throw BadInputException.atOffset(file, "backing file name", at, "backing file '"
                    + HeaderExtensions.printable(name) + "' does not exist");
        }
        OpenContext next;
        try {
            next = context.forBacking(file, path);
        } catch (BadInputException e) {
            // a loop or too deep a chain: say where the name that closes it lies
            String problem = e.getMessage().startsWith(file + ": ") ? e.getMessage().substring(file.toString().length()
                    + 2) : e.getMessage();
            throw BadInputException.atOffset(file, "backing file name", at, problem);
        }
        Optional<String> format = meta.extensions().backingFormat();
        if (format.isEmpty()) {
            return Images.open(path, next);
        }
        // qemu's names where they differ from jv2v's
        String fmt = switch (format.get()) {
            case "vpc" -> "vhd";
            case "file" -> "raw";
            default -> format.get();
        };
        ImageFormat f;
        try {
            f = Images.format(fmt);
        } catch (IllegalArgumentException e) {
            throw BadInputException.inFile(file, "backing format '" + format.get()
                    + "' (header extension) is not a format jv2v reads");
        }
        return f.open(path, next);
    }

    @Override
    public BlockDevice create(Path file, CreateOptions options) throws IOException {
        return Qcow2WriteDevice.create(file, options, Qcow2WriteDevice.DEFAULT_CLUSTER_BITS,
                Qcow2WriteDevice.Budget.DEFAULT);
    }

    @Override
    public BlockDevice reopen(Path file, CreateOptions options) throws IOException {
        return Qcow2WriteDevice.reopen(file, options, Qcow2WriteDevice.Budget.DEFAULT);
    }
}
