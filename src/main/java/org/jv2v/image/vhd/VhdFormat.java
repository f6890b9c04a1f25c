package org.jv2v.image.vhd;

import org.jv2v.BadInputException;
import org.jv2v.image.ImageFormat;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Microsoft VHD (qemu's "vpc"): fixed, dynamic and differencing disks, as Virtual PC, Hyper-V,
 * Disk2vhd, Azure, XenServer and qemu write them.
 *
 * <p>The virtual size follows qemu: Virtual PC and old qemu ("vpc ", "qemu" creators) sized disks
 * by their CHS geometry, everyone else by the footer's current size (and so does qemu for a disk
 * whose geometry is the maximum one). qemu 7.2 still used the geometry for unknown creators; qemu
 * 10 changed that so that Azure's "wa" disks read whole, and this follows the newer rule.
 */
public final class VhdFormat implements ImageFormat {
    /** Dynamic disks: the specification's (and qemu's) 2040 GiB limit; BAT sizes derive from it. */
    static final long MAX_DYNAMIC_SIZE = 0xff000000L * VhdDevice.SECTOR;
    /** 65535 cylinders, 16 heads, 255 sectors: a geometry that says "too big for CHS". */
    static final long MAX_GEOMETRY_SECTORS = 65535L * 16 * 255;
    /** One sector: the format's unit (qemu accepts the same minimum). */
    static final int MIN_BLOCK_SIZE = 512;
    /** Hyper-V uses 512 KiB or 2 MiB; 256 MiB bounds each cached sector bitmap to 64 KiB. */
    static final int MAX_BLOCK_SIZE = 256 << 20;
    /** The BAT is held in memory (4 bytes an entry): 16 MiB covers 2040 GiB in 512 KiB blocks. */
    static final int MAX_BAT_ENTRIES = 1 << 22;
    /** Windows paths are at most 32767 UTF-16 units; a locator longer than that is not a path. */
    static final int MAX_LOCATOR_BYTES = 65536;

    @Override
    public String name() {
        return "vhd";
    }

    @Override
    public int probe(ByteBuffer head, Path file, long fileSize) {
        if (head.remaining() >= 8 && VhdFooter.ascii(head, head.position(), 8).equals(VhdFooter.COOKIE)) {
            return 100;
        }
        // A fixed disk has its footer only at the end.
        if (fileSize < VhdFooter.SIZE) {
            return 0;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(VhdFooter.SIZE);
            long pos = fileSize - VhdFooter.SIZE;
            while (b.hasRemaining() && ch.read(b, pos + b.position()) > 0) {
                // keep reading
            }
            if (b.hasRemaining()) {
                return 0;
            }
            VhdFooter footer = VhdFooter.read(b.flip());
            if (!footer.hasCookie()) {
                return 0;
            }
            // A valid footer makes it a VHD; a damaged one still claims it so that open says why.
            return footer.checksumOk() ? 100 : 50;
        } catch (IOException e) {
            return 0;
        }
    }

    @Override
    public OpenedImage open(Path file, OpenContext context) throws IOException {
        SourceFile src = SourceFile.open(file);
        try {
            return open(src, context);
        } catch (IOException | RuntimeException e) {
            src.close();
            throw e;
        }
    }

    private OpenedImage open(SourceFile src, OpenContext context) throws IOException {
        Path file = src.path();
        long fileSize = src.size();
        if (fileSize < VhdFooter.SIZE) {
            throw BadInputException.atOffset(file, "footer", 0, "file of " + fileSize
                    + " bytes is too small to hold a VHD footer (512 bytes)");
        }
        long endOffset = fileSize - VhdFooter.SIZE;
        VhdFooter end = VhdFooter.read(src.readStruct(endOffset, VhdFooter.SIZE, "footer"));
        VhdFooter copy = fileSize >= 2L * VhdFooter.SIZE
                ? VhdFooter.read(src.readStruct(0, VhdFooter.SIZE, "footer copy")) : null;

        // The footer at the end is the authority; the copy at offset 0 of a dynamic disk stands in
        // when the end is damaged (an interrupted extension), as the specification intends.
        VhdFooter footer;
        long footerOffset;
        boolean footerAtEnd;
        if (end.hasCookie() && end.checksumOk()) {
            footer = end;
            footerOffset = endOffset;
            footerAtEnd = true;
        } else if (copy != null && copy.hasCookie() && copy.checksumOk() && copy.diskType() != VhdFooter.TYPE_FIXED) {
            footer = copy;
            footerOffset = 0;
            footerAtEnd = false;
        } else if (end.hasCookie()) {
            throw checksumError(file, "footer checksum", endOffset + VhdFooter.CHECKSUM_OFFSET, end.checksum(),
                    end.computedChecksum());
        } else if (copy != null && copy.hasCookie()) {
            throw checksumError(file, "footer copy checksum", VhdFooter.CHECKSUM_OFFSET, copy.checksum(),
                    copy.computedChecksum());
        } else {
            throw BadInputException.atOffset(file, "footer cookie", endOffset,
                    "no \"conectix\" footer at the end of the file or at offset 0: not a VHD");
        }

        int type = footer.diskType();
        if (type != VhdFooter.TYPE_FIXED && type != VhdFooter.TYPE_DYNAMIC && type != VhdFooter.TYPE_DIFFERENCING) {
            throw BadInputException.atOffset(file, "disk type", footerOffset + 0x3c,
                    "unsupported VHD disk type " + type + " (2 fixed, 3 dynamic, 4 differencing)");
        }
        long size = virtualSize(footer);
        if (size < 0) {
            throw BadInputException.atOffset(file, "current size", footerOffset + 0x30,
                    "negative virtual size " + size);
        }
        long dataEnd = footerAtEnd ? endOffset : fileSize;

        if (type == VhdFooter.TYPE_FIXED) {
            if (size > endOffset) {
                throw BadInputException.atOffset(file, "current size", footerOffset + 0x30, "virtual size "
                        + size + " is larger than the " + endOffset + " bytes of data before the footer (truncated?)");
            }
            VhdDevice dev = new VhdDevice(src, footer, size, 0, 0, null, null);
            return new OpenedImage(name(), "fixed", file, List.of(file), dev, Optional.empty());
        }

        if (size > MAX_DYNAMIC_SIZE) {
            throw BadInputException.atOffset(file, "current size", footerOffset + 0x30, "virtual size " + size
                    + " exceeds the " + MAX_DYNAMIC_SIZE + "-byte limit of dynamic VHDs");
        }
        long headerOffset = footer.dataOffset();
        if (headerOffset < 0 || headerOffset > fileSize - VhdDynamicHeader.SIZE) {
            throw BadInputException.atOffset(file, "data offset", footerOffset + 0x10, "dynamic header at 0x"
                    + Long.toHexString(headerOffset) + " lies outside the file of " + fileSize + " bytes");
        }
        VhdDynamicHeader header = VhdDynamicHeader.read(src.readStruct(headerOffset, VhdDynamicHeader.SIZE,
                "dynamic header"));
        if (!header.hasCookie()) {
            throw BadInputException.atOffset(file, "dynamic header cookie", headerOffset,
                    "expected \"cxsparse\", found \"" + printable(header.cookie()) + "\"");
        }
        if (!header.checksumOk()) {
            throw checksumError(file, "dynamic header checksum", headerOffset + VhdDynamicHeader.CHECKSUM_OFFSET,
                    header.checksum(), header.computedChecksum());
        }
        int blockSize = header.blockSize();
        if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || Integer.bitCount(blockSize) != 1) {
            throw BadInputException.atOffset(file, "block size", headerOffset + 0x20, "block size "
                    + Integer.toUnsignedString(blockSize) + " is not a power of two between " + MIN_BLOCK_SIZE
                    + " and " + MAX_BLOCK_SIZE);
        }
        long needed = (size + blockSize - 1) / blockSize;
        long maxEntries = Integer.toUnsignedLong(header.maxTableEntries());
        if (maxEntries < needed) {
            throw BadInputException.atOffset(file, "max table entries", headerOffset + 0x1c, "BAT of " + maxEntries
                    + " entries cannot map a virtual size of " + size + " bytes in blocks of " + blockSize);
        }
        if (needed > MAX_BAT_ENTRIES) {
            throw BadInputException.atOffset(file, "max table entries", headerOffset + 0x1c, needed
                    + " BAT entries needed, more than the limit of " + MAX_BAT_ENTRIES);
        }
        long tableOffset = header.tableOffset();
        if (tableOffset < 0 || tableOffset > dataEnd || needed * 4 > dataEnd - tableOffset) {
            throw BadInputException.atOffset(file, "table offset", headerOffset + 0x10, "BAT of " + needed
                    + " entries at 0x" + Long.toHexString(tableOffset) + " runs past the end of the file");
        }
        int bitmapBytes = (int) (((blockSize / VhdDevice.SECTOR / 8) + 511L) & ~511L);
        int[] bat = new int[(int) needed];
        src.readStruct(tableOffset, bat.length * 4, "BAT").asIntBuffer().get(bat);
        long span = (long) bitmapBytes + blockSize;
        for (int i = 0; i < bat.length; i++) {
            if (bat[i] == VhdDevice.UNALLOCATED) {
                continue;
            }
            long at = Integer.toUnsignedLong(bat[i]) * VhdDevice.SECTOR;
            if (at + span > dataEnd) {
                throw BadInputException.atOffset(file, "BAT entry " + i, tableOffset + 4L * i, "block at 0x"
                        + Long.toHexString(at) + " (" + span + " bytes with its bitmap) ends past the data end 0x"
                        + Long.toHexString(dataEnd) + " of the file (truncated?)");
            }
        }

        String subformat = type == VhdFooter.TYPE_DYNAMIC ? "dynamic" : "differencing";
        if (type == VhdFooter.TYPE_DYNAMIC) {
            VhdDevice dev = new VhdDevice(src, footer, size, blockSize, bitmapBytes, bat, null);
            return new OpenedImage(name(), subformat, file, List.of(file), dev, Optional.empty());
        }
        OpenedImage parent = openParent(src, headerOffset, header, context);
        try {
            VhdDevice dev = new VhdDevice(src, footer, size, blockSize, bitmapBytes, bat, parent.device());
            return new OpenedImage(name(), subformat, file, List.of(file), dev, Optional.of(parent));
        } catch (RuntimeException e) {
            parent.close();
            throw e;
        }
    }

    /**
     * The virtual size as qemu computes it: the geometry for Virtual PC and old qemu images (their
     * current size is often larger than what the guest saw), else the current size.
     */
    static long virtualSize(VhdFooter footer) {
        String app = footer.creatorApp();
        boolean useGeometry = app.equals("vpc ") || app.equals("qemu");
        long geometrySectors = (long) footer.cylinders() * footer.heads() * footer.sectorsPerTrack();
        if (!useGeometry || geometrySectors == MAX_GEOMETRY_SECTORS) {
            return footer.currentSize() / VhdDevice.SECTOR * VhdDevice.SECTOR;
        }
        return geometrySectors * VhdDevice.SECTOR;
    }

    /** A parent candidate: a name to look up, and where it came from (for messages). */
    private record Candidate(String name, String field, long offset) {}

    private OpenedImage openParent(SourceFile src, long headerOffset, VhdDynamicHeader header, OpenContext context)
            throws IOException {
        Path file = src.path();
        List<Candidate> candidates = new ArrayList<>();
        // Relative locators first: they survive a chain being moved as a whole.
        for (int pass = 0; pass < 2; pass++) {
            for (VhdDynamicHeader.ParentLocator loc : header.parentLocators()) {
                int code = loc.platformCode();
                boolean wanted = pass == 0 ? code == VhdDynamicHeader.ParentLocator.W2RU
                        : code == VhdDynamicHeader.ParentLocator.W2KU;
                if (!wanted) {
                    continue;
                }
                long entryOffset = headerOffset + VhdDynamicHeader.LOCATORS_OFFSET
                        + (long) loc.index() * VhdDynamicHeader.LOCATOR_SIZE;
                String field = "parent locator " + loc.index() + " (" + loc.platformName() + ")";
                int length = loc.dataLength();
                if (length <= 0 || length > MAX_LOCATOR_BYTES || (length & 1) != 0) {
                    throw BadInputException.atOffset(file, field + " data length", entryOffset + 0x08, "length "
                            + Integer.toUnsignedString(length) + " is not an even number of bytes between 2 and "
                            + MAX_LOCATOR_BYTES);
                }
                long at = loc.dataOffset();
                if (at < 0 || at > src.size() - length) {
                    throw BadInputException.atOffset(file, field + " data offset", entryOffset + 0x10,
                            "path data at 0x" + Long.toHexString(at) + " lies outside the file");
                }
                byte[] raw = new byte[length];
                src.readStruct(at, length, field).get(raw);
                String path = VhdDynamicHeader.utf16(raw, StandardCharsets.UTF_16LE);
                candidates.add(new Candidate(path, field, at));
            }
        }
        if (!header.parentUnicodeName().isEmpty()) {
            candidates.add(new Candidate(header.parentUnicodeName(), "parent unicode name", headerOffset + 0x40));
        }
        if (candidates.isEmpty()) {
            throw BadInputException.atOffset(file, "parent locators", headerOffset + VhdDynamicHeader.LOCATORS_OFFSET,
                    "differencing disk names no parent (no W2ru/W2ku locator, empty parent name)");
        }
        Path parentPath = null;
        Candidate chosen = null;
        BadInputException refused = null;
        List<String> tried = new ArrayList<>();
        for (Candidate c : candidates) {
            String local = localName(c.name());
            if (local.isEmpty()) {
                continue;
            }
            Path p;
            try {
                p = context.guard().resolve(file, local, c.field(), "offset 0x" + Long.toHexString(c.offset()));
            } catch (BadInputException e) {
                if (refused == null) {
                    refused = e;
                }
                continue;
            }
            tried.add("'" + c.name() + "'");
            if (Files.isRegularFile(p)) {
                parentPath = p;
                chosen = c;
                break;
            }
        }
        if (parentPath == null) {
            if (refused != null) {
                throw refused;
            }
            throw BadInputException.atOffset(file, candidates.getFirst().field(), candidates.getFirst().offset(),
                    "parent disk not found (tried " + String.join(", ", tried) + " beside the file)");
        }
        OpenContext next;
        try {
            next = context.forBacking(file, parentPath);
        } catch (BadInputException e) {
            // a loop or too deep a chain: say which locator led there
            String problem = e.getMessage().startsWith(file + ": ")
                    ? e.getMessage().substring(file.toString().length() + 2) : e.getMessage();
            throw BadInputException.atOffset(file, chosen.field(), chosen.offset(), problem);
        }
        OpenedImage parent = open(parentPath, next);
        VhdFooter parentFooter = ((VhdDevice) parent.device()).footer();
        if (!Arrays.equals(parentFooter.uniqueId(), header.parentUniqueId())) {
            parent.close();
            throw BadInputException.atOffset(file, "parent unique id", headerOffset + 0x28, "expects parent "
                    + header.parentUniqueIdHex() + " but " + parentPath + " has unique id "
                    + parentFooter.uniqueIdHex() + " (the parent was replaced or changed)");
        }
        return parent;
    }

    /**
     * A Windows path from a locator as a name to look up here: a relative path keeps its folders,
     * an absolute one (drive letter, UNC, \\?\) cannot name a file on this machine, so only its file
     * name is looked up beside the child.
     */
    static String localName(String windowsPath) {
        String p = windowsPath.replace('\\', '/');
        if (p.startsWith("//?/")) {
            p = p.substring(4);
        }
        boolean absolute = p.startsWith("/") || (p.length() >= 2 && p.charAt(1) == ':');
        if (absolute) {
            int slash = p.lastIndexOf('/');
            p = p.substring(slash + 1);
            if (p.length() >= 2 && p.charAt(1) == ':') {
                p = p.substring(2);
            }
        }
        return p;
    }

    private static BadInputException checksumError(Path file, String field, long offset, int stored, int computed) {
        return BadInputException.atOffset(file, field, offset, "stored 0x" + Integer.toHexString(stored)
                + " but the content sums to 0x" + Integer.toHexString(computed) + " (damaged)");
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return b.toString();
    }

}
