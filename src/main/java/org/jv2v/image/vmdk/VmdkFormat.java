package org.jv2v.image.vmdk;

import org.jv2v.BadInputException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.ImageFormat;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * VMware's disk format, every layout: monolithicSparse, twoGbMaxExtentSparse, monolithicFlat,
 * twoGbMaxExtentFlat, vmfs (flat and thin), streamOptimized (OVA disks), and snapshot deltas
 * (hosted sparse, vmfsSparse/COWD, SEsparse) over their parents, found through
 * {@code parentFileNameHint} and checked by CID. Everything is opened read-only.
 *
 * <p>{@link #open} returns the merged view of the whole chain; its {@code backing()} is the parent
 * layer. The device's {@code blockStatus} is cheap (grain tables only, cached within a fixed
 * budget) and exact. Reads of compressed grains are inflated on several threads: read in large
 * pieces (1 MiB or more) for speed.
 */
public final class VmdkFormat implements ImageFormat {

    /** createType values whose data lives on a device, not in files jv2v could read. */
    private static final Set<String> DEVICE_TYPES = Set.of("fullDevice", "partitionedDevice", "vmfsRaw", "vmfsRDM",
            "vmfsRDMP", "vmfsRawDeviceMap", "vmfsPassthroughRawDeviceMap");
    private static final Set<String> FILE_TYPES = Set.of("monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse",
            "twoGbMaxExtentFlat", "streamOptimized", "vmfs", "vmfsThin", "vmfsPreallocated", "vmfsEagerZeroedThick",
            "vmfsSparse", "seSparse", "custom");

    @Override
    public String name() {
        return "vmdk";
    }

    @Override
    public int probe(ByteBuffer head, Path file, long fileSize) {
        ByteBuffer b = head.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        int n = b.remaining();
        if (n >= 4 && (b.getInt(p) == VmdkDescriptor.SPARSE_MAGIC || b.getInt(p) == VmdkDescriptor.COWD_MAGIC)) {
            return 100;
        }
        if (n >= 16 && b.getLong(p) == SeSparseHeader.CONST_MAGIC && b.getLong(p + 8) == SeSparseHeader.VERSION_2_1) {
            return 100;
        }
        if (n == 0 || fileSize > VmdkDescriptor.MAX_BYTES) {
            return 0;
        }
        byte[] text = new byte[Math.min(n, 4096)];
        b.get(p, text);
        for (String line : new String(text, StandardCharsets.ISO_8859_1).split("\n")) {
            String t = line.strip();
            if (t.startsWith("# Disk DescriptorFile")) {
                return 100;
            }
            if (!t.isEmpty() && !t.startsWith("#")) {
                return t.matches("version\\s*=\\s*\"?[123]\"?") ? 100 : 0;
            }
        }
        return 0;
    }

    @Override
    public OpenedImage open(Path file, OpenContext context) throws IOException {
        return open(file, context, new GrainTableCache()).image();
    }

    /** Reads the descriptor (text or embedded) of a VMDK: shorthand for {@link VmdkDescriptor#read}. */
    public static VmdkDescriptor descriptor(Path file) throws IOException {
        return VmdkDescriptor.read(file);
    }

    /** An opened layer and the descriptor it came with (none for a bare COWD/SEsparse/split piece). */
    private record Layer(OpenedImage image, Optional<VmdkDescriptor> descriptor) {}

    private Layer open(Path file, OpenContext ctx, GrainTableCache cache) throws IOException {
        List<Closeable> opened = new ArrayList<>();
        try {
            FileChannel ch;
            try {
                ch = FileChannel.open(file, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                throw BadInputException.inFile(file, "no such file");
            }
            opened.add(ch);
            long fsize = ch.size();
            Set<Path> files = new LinkedHashSet<>();
            files.add(file);
            List<VmdkExtent> extents = new ArrayList<>();
            VmdkDescriptor desc = null;
            String subformat;
            Single single = openSingle(Source.of(file, ch), cache);
            if (single != null) {
                extents.add(single.extent());
                desc = single.descriptor();
                subformat = single.subformat();
            } else {
                desc = VmdkDescriptor.readText(ch, file, fsize);
                ch.close();
                subformat = desc.createType();
                checkCreateType(desc);
                for (VmdkDescriptor.ExtentLine line : desc.extents()) {
                    extents.add(openExtent(desc, line, ctx, cache, opened));
                }
                files.addAll(desc.extentPaths(ctx.guard()));
            }
            opened.addAll(extents);
            if (desc != null) {
                refuseEncrypted(desc);
            }

            Optional<Layer> parent = Optional.empty();
            if (desc != null && desc.hasParent()) {
                parent = Optional.of(openParent(file, desc, ctx, cache));
                opened.add(parent.get().image().device());
            }
            String name = file + " (vmdk " + subformat + ")";
            BlockDevice parentDevice = parent.map(l -> l.image().device()).orElse(null);
            VmdkDevice device = new VmdkDevice(name, extents, parentDevice);
            OpenedImage image = new OpenedImage("vmdk", subformat, file, List.copyOf(files), device,
                    parent.map(Layer::image));
            return new Layer(image, Optional.ofNullable(desc));
        } catch (IOException | RuntimeException | Error e) {
            for (Closeable c : opened.reversed()) {
                try {
                    c.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** A layout held in one file (or member): its extent, its embedded descriptor if any, its variant. */
    private record Single(GrainExtent extent, VmdkDescriptor descriptor, String subformat) {}

    /** Opens a hosted sparse, COWD or SEsparse extent by its magic; null for anything else. */
    private static Single openSingle(Source src, GrainTableCache cache) throws IOException {
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(src.size(), 16)).order(ByteOrder.LITTLE_ENDIAN);
        Io.readFully(src, head, 0, "header");
        head.flip();
        int magic = head.remaining() >= 4 ? head.getInt(0) : 0;
        long magic64 = head.remaining() >= 8 ? head.getLong(0) : 0;
        if (magic == VmdkDescriptor.SPARSE_MAGIC) {
            GrainExtent g = GrainExtent.openHosted(src, cache);
            ByteBuffer hb = ByteBuffer.allocate(SparseHeader.SIZE);
            Io.readFully(src, hb, 0, "sparse extent header");
            SparseHeader h = SparseHeader.read(hb.flip(), src, 0);
            VmdkDescriptor desc = h.descriptorOffset() != 0 ? VmdkDescriptor.readEmbedded(src, h) : null;
            String subformat = desc != null ? desc.createType()
                    : g.compressed() ? "streamOptimized" : "monolithicSparse";
            return new Single(g, desc, subformat);
        }
        if (magic == VmdkDescriptor.COWD_MAGIC) {
            return new Single(GrainExtent.openCowd(src, cache), null, "vmfsSparse");
        }
        if (magic64 == SeSparseHeader.CONST_MAGIC) {
            return new Single(GrainExtent.openSeSparse(src, cache), null, "seSparse");
        }
        return null;
    }

    /**
     * Opens a single-file VMDK (streamOptimized or monolithicSparse) stored inside a container
     * file at {@code [offset, offset + length)}, such as the disk of an OVA (a tar), in place:
     * nothing is extracted. Messages name the container, the member and absolute offsets.
     */
    public OpenedImage openMember(Path container, long offset, long length, String member) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(container, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw BadInputException.inFile(container, "no such file");
        }
        try {
            if (offset < 0 || length < 0 || offset > ch.size() || length > ch.size() - offset) {
                throw BadInputException.inFile(container, member + ": [" + offset + ", +" + length
                        + ") is not inside the file (" + ch.size() + " bytes; truncated archive?)");
            }
            Source src = new Source(container, ch, offset, length, member);
            Single single = openSingle(src, new GrainTableCache());
            if (single == null) {
                throw BadInputException.inFile(container, member + ": not a single-file VMDK "
                        + "(streamOptimized or monolithicSparse)");
            }
            if (single.descriptor() != null && single.descriptor().hasParent()) {
                single.extent().close();
                throw BadInputException.inFile(container, member + ": a snapshot delta; its parent '"
                        + single.descriptor().parentFileNameHint().get() + "' cannot be inside the same member");
            }
            VmdkDevice device = new VmdkDevice(src.name() + " (vmdk " + single.subformat() + ")",
                    List.of(single.extent()), null);
            return new OpenedImage("vmdk", single.subformat(), container, List.of(container), device,
                    Optional.empty());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** VMware-encrypted disks name their key safe in the descriptor; their grains are ciphertext. */
    private static void refuseEncrypted(VmdkDescriptor desc) {
        for (var e : desc.lines().entrySet()) {
            if (e.getKey().startsWith("encryption.")) {
                throw VmdkDescriptor.error(desc.file(), desc.offset(), e.getValue(), "the disk is encrypted by VMware ("
                        + e.getKey() + "); decrypt it in VMware first");
            }
        }
    }

    private static void checkCreateType(VmdkDescriptor desc) {
        String t = desc.createType();
        int line = desc.line("createType");
        if (DEVICE_TYPES.contains(t)) {
            throw VmdkDescriptor.error(desc.file(), desc.offset(), line, "createType \"" + t + "\": the disk's data "
                    + "lives on a physical device or LUN, not in a file; copy the device itself");
        }
        if (!FILE_TYPES.contains(t)) {
            throw VmdkDescriptor.error(desc.file(), desc.offset(), line, "unknown createType \"" + t + "\"");
        }
        if (desc.extents().isEmpty()) {
            throw BadInputException.inFile(desc.file(), "descriptor has no extent lines");
        }
    }

    private static VmdkExtent openExtent(VmdkDescriptor desc, VmdkDescriptor.ExtentLine line, OpenContext ctx,
                                         GrainTableCache cache, List<Closeable> opened) throws IOException {
        Path file = desc.file();
        if (line.access() == VmdkDescriptor.Access.NOACCESS) {
            throw VmdkDescriptor.error(file, desc.offset(), line.line(), "NOACCESS extent: its data cannot be read");
        }
        if (line.kind().isDevice()) {
            throw VmdkDescriptor.error(file, desc.offset(), line.line(), line.kind() + " extent: raw device mapping; "
                    + "the data lives on a LUN, not in a file; copy the LUN itself");
        }
        if (line.kind() == VmdkDescriptor.ExtentKind.ZERO) {
            return new ZeroExtent(line.bytes());
        }
        String where = desc.where(line.line());
        Path path = ctx.guard().resolve(file, line.fileName().orElseThrow(), "extent file", where);
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw VmdkDescriptor.error(file, desc.offset(), line.line(), "extent file '" + line.fileName().get()
                    + "' not found");
        }
        opened.add(ch);
        if (line.kind().isFlat()) {
            long need = (line.offset() + line.sectors()) * 512;
            if (ch.size() < need) {
                throw VmdkDescriptor.error(file, desc.offset(), line.line(), "extent file '" + line.fileName().get()
                        + "' has " + ch.size() + " bytes, the extent needs " + need + " (truncated file?)");
            }
            FlatExtent flat = new FlatExtent(path, ch, line.offset() * 512, line.bytes());
            opened.add(flat); // its hole-finding descriptor is closed if a later extent fails to open
            return flat;
        }
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(ch.size(), 16)).order(ByteOrder.LITTLE_ENDIAN);
        Io.readFully(ch, head, 0, path, "header");
        head.flip();
        Source src = Source.of(path, ch);
        GrainExtent g;
        if (line.kind() == VmdkDescriptor.ExtentKind.SESPARSE) {
            g = GrainExtent.openSeSparse(src, cache);
        } else if (head.remaining() >= 4 && head.getInt(0) == VmdkDescriptor.SPARSE_MAGIC) {
            g = GrainExtent.openHosted(src, cache);
        } else if (head.remaining() >= 4 && head.getInt(0) == VmdkDescriptor.COWD_MAGIC) {
            g = GrainExtent.openCowd(src, cache);
        } else {
            throw BadInputException.atOffset(path, "magicNumber", 0, "not a sparse extent (neither KDMV nor COWD), "
                    + "but " + desc.file().getFileName() + " " + where + " says " + line.kind());
        }
        if (g.size() != line.bytes()) {
            throw VmdkDescriptor.error(file, desc.offset(), line.line(), "extent of " + line.sectors()
                    + " sectors, but the capacity in the header of '" + line.fileName().get() + "' is "
                    + g.size() / 512 + " sectors");
        }
        return g;
    }

    private Layer openParent(Path file, VmdkDescriptor desc, OpenContext ctx, GrainTableCache cache)
            throws IOException {
        int hintLine = desc.line("parentFileNameHint");
        Path parentPath = desc.parentPath(ctx.guard()).orElseThrow();
        OpenContext parentCtx;
        try {
            parentCtx = ctx.forBacking(file, parentPath);
        } catch (BadInputException e) {
            // the same problem, said at the parentFileNameHint line a user can go and look at
            String prefix = file + ": ";
            String problem = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
            throw VmdkDescriptor.error(file, desc.offset(), hintLine, "parent '" + desc.parentFileNameHint().get()
                    + "': " + problem);
        }
        if (!Files.isRegularFile(parentPath)) {
            throw VmdkDescriptor.error(file, desc.offset(), hintLine, "parent '" + desc.parentFileNameHint().get()
                    + "' not found");
        }
        ByteBuffer head;
        long psize;
        try (FileChannel ch = FileChannel.open(parentPath, StandardOpenOption.READ)) {
            psize = ch.size();
            head = ByteBuffer.allocate((int) Math.min(psize, 4096));
            Io.readFully(ch, head, 0, parentPath, "header");
            head.flip();
        }
        if (probe(head, parentPath, psize) == 0) {
            throw VmdkDescriptor.error(file, desc.offset(), hintLine, "parent '" + desc.parentFileNameHint().get()
                    + "' is not a VMDK");
        }
        Layer parent = open(parentPath, parentCtx, cache);
        try {
            if (parent.descriptor().isEmpty()) {
                throw VmdkDescriptor.error(file, desc.offset(), hintLine, "parent '" + desc.parentFileNameHint().get()
                        + "' has no descriptor, so its CID cannot be checked");
            }
            long cid = parent.descriptor().get().cid();
            if (cid != desc.parentCid()) {
                throw VmdkDescriptor.error(file, desc.offset(), desc.line("parentCID"), String.format(
                        "parentCID %08x does not match CID %08x of parent '%s': the parent changed after this "
                                + "snapshot was taken", desc.parentCid(), cid, desc.parentFileNameHint().get()));
            }
            return parent;
        } catch (RuntimeException e) {
            parent.image().close();
            throw e;
        }
    }
}
