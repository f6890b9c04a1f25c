package org.jv2v.image;

import org.jv2v.BadInputException;
import org.jv2v.image.qcow2.Qcow2Format;
import org.jv2v.image.raw.RawFormat;
import org.jv2v.image.vhd.VhdFormat;
import org.jv2v.image.vhdx.VhdxFormat;
import org.jv2v.image.vmdk.VmdkFormat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;

/** Finds an image's format by probing its content and opens it. */
public final class Images {
    static final int PROBE_BYTES = 64 * 1024;

    /** Every known format; raw last, as the fallback that accepts anything. */
    private static final List<ImageFormat> FORMATS = List.of(new VmdkFormat(), new Qcow2Format(), new VhdFormat(),
            new VhdxFormat(), new RawFormat());

    private Images() {}

    public static List<ImageFormat> formats() {
        return FORMATS;
    }

    public static ImageFormat format(String name) {
        return FORMATS.stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown image format: " + name));
    }

    /**
     * The writer for {@code -O NAME}: a registered format that can also write. Unknown or
     * read-only names are a usage error naming the choices.
     */
    public static ImageWriter writer(String name) {
        return FORMATS.stream().filter(f -> f instanceof ImageWriter && f.name().equals(name))
                .map(f -> (ImageWriter) f).findFirst()
                .orElseThrow(() -> new org.jv2v.Jv2vException("cannot write images in format '" + name
                        + "' (can write: " + String.join(", ", FORMATS.stream().filter(f -> f instanceof ImageWriter)
                        .map(ImageFormat::name).toList()) + ")"));
    }

    /** The format whose probe scores highest for {@code file}. */
    public static ImageFormat probe(Path file) throws IOException {
        ByteBuffer head;
        long size;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            head = ByteBuffer.allocate((int) Math.min(size, PROBE_BYTES));
            while (head.hasRemaining() && ch.read(head, head.position()) > 0) {
                // keep reading
            }
            head.flip();
        } catch (NoSuchFileException e) {
            throw BadInputException.inFile(file, "no such file");
        }
        if (Files.isDirectory(file)) {
            throw BadInputException.inFile(file, "is a folder, not a disk image");
        }
        ByteBuffer probeHead = head.asReadOnlyBuffer();
        return FORMATS.stream()
                .max(Comparator.comparingInt(f -> f.probe(probeHead.duplicate(), file, size)))
                .filter(f -> f.probe(probeHead.duplicate(), file, size) > 0)
                .orElseThrow(() -> BadInputException.inFile(file, "not a disk image in any known format"));
    }

    /** Opens {@code file} read-only, probing its format. */
    public static OpenedImage open(Path file, OpenContext context) throws IOException {
        return probe(file).open(file, context);
    }
}
