package org.jv2v.image.vmdk;

import org.jv2v.BadInputException;
import org.jv2v.image.OpenContext;
import org.jv2v.image.PathGuard;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A VMDK descriptor: the text that names a disk's extents, its content ID and its parent. It lives
 * either in its own small text file ({@code disk.vmdk} beside {@code disk-flat.vmdk}) or inside a
 * hosted sparse extent (monolithicSparse, streamOptimized), at {@link #offset()}.
 *
 * <p>This is what the .vmx reader asks to learn a disk's size, files and parent chain without
 * opening the data: {@code VmdkDescriptor.read(path)}, then {@link #virtualSize()},
 * {@link #extentPaths(PathGuard)}, {@link #parentPath(PathGuard)}; or
 * {@link #chain(Path, OpenContext)} for the whole snapshot chain at once.
 *
 * @param file               the file the descriptor was read from
 * @param offset             byte offset of the descriptor in {@code file}: 0 for a text file
 * @param version            the {@code version=} line (1 to 3)
 * @param cid                content ID, 32 bits
 * @param parentCid          the parent's content ID when this disk was made; {@link #NO_PARENT} if none
 * @param createType         the variant, e.g. "monolithicSparse", "vmfs", "vmfsSparse", "seSparse"
 * @param parentFileNameHint the parent's file name as written, for delta disks
 * @param extents            the extent lines, in disk order
 * @param ddb                the disk database ({@code ddb.adapterType} ...), keys without the prefix
 *                           stripped, in file order
 * @param lines              the line number of each header key and ddb key, for messages
 */
public record VmdkDescriptor(Path file, long offset, int version, long cid, long parentCid, String createType,
                             Optional<String> parentFileNameHint, List<ExtentLine> extents,
                             Map<String, String> ddb, Map<String, Integer> lines) {

    /** The parentCID of a disk without a parent. */
    public static final long NO_PARENT = 0xffffffffL;

    /**
     * Largest descriptor accepted. qemu reads at most 1 MiB of it; a real one is a few KiB (a 62 TiB
     * twoGbMaxExtentFlat disk needs about 32k extent lines, under 1.5 MiB, and nobody makes those).
     */
    public static final int MAX_BYTES = 1 << 20;

    /** Largest disk: VMFS-6 caps a VMDK at 62 TiB and SEsparse just under 64 TiB. */
    public static final long MAX_SECTORS = 1L << 37;

    public enum Access { RW, RDONLY, NOACCESS }

    /** The type word of an extent line. */
    public enum ExtentKind {
        FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, SESPARSE, VMFSRDM, VMFSRAW, VMFSPASSTHROUGHRAW;

        /** Data stored as-is in a file (a byte range of it). */
        public boolean isFlat() {
            return this == FLAT || this == VMFS;
        }

        /** A grain-mapped extent with its own header (hosted sparse, COWD or SEsparse). */
        public boolean isSparse() {
            return this == SPARSE || this == VMFSSPARSE || this == SESPARSE;
        }

        /** A raw device mapping: the data lives on a LUN, not in a file. */
        public boolean isDevice() {
            return this == VMFSRDM || this == VMFSRAW || this == VMFSPASSTHROUGHRAW;
        }
    }

    /**
     * One extent line: {@code RW 4192256 SPARSE "disk-s001.vmdk"} or {@code RW 2048 FLAT "d-flat.vmdk" 0}.
     *
     * @param offset start of the extent's data in its file, in sectors (FLAT and VMFS only)
     * @param line   line number in the descriptor
     */
    public record ExtentLine(Access access, long sectors, ExtentKind kind, Optional<String> fileName,
                             long offset, int line) {
        public long bytes() {
            return sectors * 512;
        }
    }

    /** The BIOS geometry from {@code ddb.geometry.*}. */
    public record Geometry(long cylinders, int heads, int sectors) {}

    static final int SPARSE_MAGIC = 0x564d444b;   // "KDMV" read little-endian
    static final int COWD_MAGIC = 0x44574f43;     // "COWD" read little-endian
    static final long SESPARSE_MAGIC = 0xcafebabeL;

    private static final Pattern EXTENT = Pattern.compile(
            "(RW|RDONLY|NOACCESS)\\s+(\\d{1,19})\\s+([A-Za-z]+)(?:\\s+\"([^\"]*)\"(?:\\s+(\\d{1,19}))?)?");
    private static final Pattern SETTING = Pattern.compile("([A-Za-z][A-Za-z0-9_.-]*)\\s*=\\s*(.*)");

    public VmdkDescriptor {
        extents = List.copyOf(extents);
        ddb = Collections.unmodifiableMap(new LinkedHashMap<>(ddb));
        lines = Map.copyOf(lines);
    }

    /**
     * Reads the descriptor of {@code file}: the whole file if it is a text descriptor, or the one
     * embedded in a hosted sparse extent (monolithicSparse, streamOptimized). The file is opened
     * read-only.
     */
    public static VmdkDescriptor read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer head = ByteBuffer.allocate((int) Math.min(size, SparseHeader.SIZE)).order(ByteOrder.LITTLE_ENDIAN);
            Io.readFully(ch, head, 0, file, "header");
            head.flip();
            if (head.remaining() >= 4 && head.getInt(0) == SPARSE_MAGIC) {
                SparseHeader h = SparseHeader.read(head.order(ByteOrder.LITTLE_ENDIAN), Source.of(file, ch), 0);
                if (h.descriptorOffset() == 0) {
                    throw BadInputException.atOffset(file, "descriptorOffset", 0x1c,
                            "this sparse extent has no embedded descriptor (a piece of a split disk?): "
                                    + "open the descriptor file that names it");
                }
                return readEmbedded(Source.of(file, ch), h);
            }
            if (head.remaining() >= 4 && head.getInt(0) == COWD_MAGIC) {
                throw BadInputException.inFile(file, "is a vmfsSparse (COWD) delta extent without a descriptor: "
                        + "open the descriptor file (.vmdk) that names it");
            }
            if (head.remaining() >= 8 && head.getLong(0) == SESPARSE_MAGIC) {
                throw BadInputException.inFile(file, "is an SEsparse delta extent without a descriptor: "
                        + "open the descriptor file (.vmdk) that names it");
            }
            return readText(ch, file, size);
        } catch (NoSuchFileException e) {
            throw BadInputException.inFile(file, "no such file");
        }
    }

    static VmdkDescriptor readText(FileChannel ch, Path file, long size) throws IOException {
        if (size > MAX_BYTES) {
            throw BadInputException.inFile(file, "descriptor is " + size + " bytes, more than the "
                    + MAX_BYTES + " a VMDK descriptor may have: not a VMDK descriptor");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) size);
        Io.readFully(ch, buf, 0, file, "descriptor");
        return parse(file, 0, decode(buf.array(), textLength(buf.array())));
    }

    static VmdkDescriptor readEmbedded(Source src, SparseHeader h) throws IOException {
        long bytes = h.descriptorSize() * 512;
        long at = h.descriptorOffset() * 512;
        if (h.descriptorSize() <= 0 || bytes > MAX_BYTES) {
            throw src.bad("descriptorSize", 0x24, "embedded descriptor of " + h.descriptorSize()
                    + " sectors (at most " + MAX_BYTES / 512 + " allowed)");
        }
        if (h.descriptorOffset() > src.size() / 512 || at + bytes > src.size()) {
            throw src.bad("descriptorOffset", 0x1c, "embedded descriptor at 0x" + Long.toHexString(at) + " (+"
                    + bytes + ") lies past the end of the file (" + src.size() + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) bytes);
        Io.readFully(src, buf, at, "embedded descriptor");
        return parse(src.file(), src.start() + at, decode(buf.array(), textLength(buf.array())));
    }

    /** Descriptors end at the first NUL: tools pad them to whole sectors. */
    private static int textLength(byte[] a) {
        int len = 0;
        while (len < a.length && a[len] != 0) {
            len++;
        }
        return len;
    }

    /** Decodes with the charset the descriptor names ({@code encoding="..."}), UTF-8 by default. */
    private static String decode(byte[] bytes, int len) {
        String latin = new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
        Matcher m = Pattern.compile("(?m)^\\s*encoding\\s*=\\s*\"([^\"]+)\"").matcher(latin);
        Charset cs = StandardCharsets.UTF_8;
        if (m.find()) {
            try {
                cs = Charset.forName(m.group(1));
            } catch (IllegalArgumentException e) {
                cs = StandardCharsets.UTF_8;    // unknown charset: file names may look odd, nothing worse
            }
        }
        return new String(bytes, 0, len, cs);
    }

    /**
     * Parses descriptor text read from {@code file} at byte {@code offset} (0 for a text file).
     * Problems are reported with their line.
     */
    public static VmdkDescriptor parse(Path file, long offset, String text) {
        if (text.length() > MAX_BYTES) {
            throw BadInputException.inFile(file, "descriptor longer than " + MAX_BYTES + " bytes");
        }
        Map<String, String> header = new LinkedHashMap<>();
        Map<String, String> ddb = new LinkedHashMap<>();
        Map<String, Integer> lines = new LinkedHashMap<>();
        List<ExtentLine> extents = new ArrayList<>();
        String[] raw = text.split("\n", -1);
        long total = 0;
        for (int i = 0; i < raw.length; i++) {
            int lineNo = i + 1;
            String line = raw[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher em = EXTENT.matcher(line);
            if (line.matches("(RW|RDONLY|NOACCESS)\\s.*")) {
                if (!em.matches()) {
                    throw error(file, offset, lineNo, "malformed extent line '" + clip(line) + "'");
                }
                ExtentLine e = extentLine(file, offset, lineNo, em);
                total += e.sectors();
                if (total > MAX_SECTORS) {
                    throw error(file, offset, lineNo, "extents add up to more than " + MAX_SECTORS + " sectors");
                }
                extents.add(e);
                continue;
            }
            Matcher sm = SETTING.matcher(line);
            if (!sm.matches()) {
                throw error(file, offset, lineNo, "not a VMDK descriptor line: '" + clip(line) + "'");
            }
            String key = sm.group(1);
            String value = unquote(sm.group(2).strip());
            if (key.startsWith("ddb.")) {
                ddb.put(key.substring(4), value);
            } else {
                header.put(key, value);
            }
            lines.put(key, lineNo);
        }
        int version = 1;
        if (header.containsKey("version")) {
            String v = header.get("version");
            if (!v.matches("[123]")) {
                throw error(file, offset, lines.get("version"), "unsupported descriptor version '" + clip(v) + "'");
            }
            version = Integer.parseInt(v);
        }
        long cid = cid(file, offset, header, lines, "CID");
        long parentCid = cid(file, offset, header, lines, "parentCID");
        String createType = header.get("createType");
        if (createType == null || createType.isEmpty()) {
            throw BadInputException.inFile(file, where(offset) + "descriptor has no createType");
        }
        Optional<String> hint = Optional.ofNullable(header.get("parentFileNameHint")).filter(s -> !s.isEmpty());
        return new VmdkDescriptor(file, offset, version, cid, parentCid, createType, hint, extents, ddb, lines);
    }

    private static ExtentLine extentLine(Path file, long offset, int lineNo, Matcher m) {
        Access access = Access.valueOf(m.group(1));
        long sectors;
        try {
            sectors = Long.parseLong(m.group(2));
        } catch (NumberFormatException e) {
            throw error(file, offset, lineNo, "extent size '" + m.group(2) + "' is not a number");
        }
        if (sectors <= 0 || sectors > MAX_SECTORS) {
            throw error(file, offset, lineNo, "extent size " + sectors + " sectors is out of range (1.."
                    + MAX_SECTORS + ")");
        }
        ExtentKind kind;
        try {
            kind = ExtentKind.valueOf(m.group(3).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw error(file, offset, lineNo, "unknown extent type '" + clip(m.group(3)) + "'");
        }
        Optional<String> name = Optional.ofNullable(m.group(4));
        long start = 0;
        if (m.group(5) != null) {
            try {
                start = Long.parseLong(m.group(5));
            } catch (NumberFormatException e) {
                start = -1;
            }
            if (start < 0 || start > MAX_SECTORS) {
                throw error(file, offset, lineNo, "extent offset '" + m.group(5) + "' is out of range");
            }
        }
        if (kind == ExtentKind.ZERO) {
            if (name.isPresent()) {
                throw error(file, offset, lineNo, "a ZERO extent names no file");
            }
        } else if (name.isEmpty() || name.get().isEmpty()) {
            throw error(file, offset, lineNo, kind + " extent without a file name");
        } else if (kind == ExtentKind.FLAT && m.group(5) == null) {
            throw error(file, offset, lineNo, "FLAT extent without its offset");
        } else if (!kind.isFlat() && m.group(5) != null) {
            throw error(file, offset, lineNo, kind + " extent with an offset");
        }
        return new ExtentLine(access, sectors, kind, name, start, lineNo);
    }

    private static long cid(Path file, long offset, Map<String, String> header, Map<String, Integer> lines,
                            String key) {
        String v = header.get(key);
        if (v == null) {
            throw BadInputException.inFile(file, where(offset) + "descriptor has no " + key);
        }
        if (!v.matches("[0-9A-Fa-f]{1,8}")) {
            throw error(file, offset, lines.get(key), key + " '" + clip(v) + "' is not a 32-bit hex number");
        }
        return Long.parseLong(v, 16);
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }

    private static String clip(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    private static String where(long offset) {
        return offset == 0 ? "" : "embedded descriptor at offset 0x" + Long.toHexString(offset) + ": ";
    }

    static BadInputException error(Path file, long offset, int line, String problem) {
        if (offset == 0) {
            return BadInputException.atLine(file, line, problem);
        }
        return BadInputException.atOffset(file, "embedded descriptor line " + line, offset, problem);
    }

    /**
     * The descriptors of {@code file} and of its parents, top first, as the .vmx reader needs them
     * to list a disk's files: parents are found through {@code parentFileNameHint}, checked by the
     * context's guard, and a loop or a chain deeper than {@link OpenContext#MAX_CHAIN_DEPTH} is an
     * error. CIDs are not compared here ({@link VmdkFormat#open} does).
     */
    public static List<VmdkDescriptor> chain(Path file, OpenContext context) throws IOException {
        List<VmdkDescriptor> out = new ArrayList<>();
        Path current = file;
        OpenContext ctx = context;
        while (true) {
            VmdkDescriptor d = read(current);
            out.add(d);
            Optional<Path> parent = d.parentPath(ctx.guard());
            if (parent.isEmpty()) {
                return out;
            }
            ctx = ctx.forBacking(current, parent.get());
            current = parent.get();
        }
    }

    /** True when read from inside a sparse extent rather than from a text file. */
    public boolean embedded() {
        return offset != 0;
    }

    /** The disk size the extent lines add up to, in bytes. */
    public long virtualSize() {
        return extents.stream().mapToLong(ExtentLine::bytes).sum();
    }

    /** {@code ddb.adapterType}: "ide", "buslogic", "lsilogic", "legacyESX", "pvscsi", ... */
    public Optional<String> adapterType() {
        return Optional.ofNullable(ddb.get("adapterType"));
    }

    public Optional<Geometry> geometry() {
        try {
            String c = ddb.get("geometry.cylinders");
            String h = ddb.get("geometry.heads");
            String s = ddb.get("geometry.sectors");
            if (c == null || h == null || s == null) {
                return Optional.empty();
            }
            return Optional.of(new Geometry(Long.parseLong(c), Integer.parseInt(h), Integer.parseInt(s)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** True when this is a delta disk (a snapshot) over a parent. */
    public boolean hasParent() {
        return parentFileNameHint.isPresent();
    }

    /**
     * The parent's path, resolved against this descriptor's folder and checked by {@code guard}. An
     * absolute datastore path ({@code /vmfs/volumes/...}) or Windows path that does not exist here
     * falls back to the same file name beside this descriptor, where a copied VM folder has it.
     */
    public Optional<Path> parentPath(PathGuard guard) {
        if (parentFileNameHint.isEmpty()) {
            return Optional.empty();
        }
        String hint = parentFileNameHint.get();
        String where = where(line("parentFileNameHint"));
        boolean foreign = hint.startsWith("/vmfs/volumes/") || hint.matches("(?s)[A-Za-z]:\\\\.*")
                || hint.startsWith("\\\\");
        if (foreign && !Files.exists(Path.of(hint))) {
            String base = hint.substring(Math.max(hint.lastIndexOf('/'), hint.lastIndexOf('\\')) + 1);
            if (!base.isEmpty()) {
                return Optional.of(guard.resolve(file, base, "parentFileNameHint", where));
            }
        }
        return Optional.of(guard.resolve(file, hint, "parentFileNameHint", where));
    }

    /**
     * The files holding the data, in extent order ({@code ZERO} extents have none). An embedded
     * descriptor's data is the file that holds it, whatever name its extent line still carries
     * (the line keeps the name the disk was created with).
     */
    public List<Path> extentPaths(PathGuard guard) {
        if (embedded()) {
            return List.of(file);
        }
        List<Path> out = new ArrayList<>();
        for (ExtentLine e : extents) {
            if (e.fileName().isPresent()) {
                out.add(guard.resolve(file, e.fileName().get(), "extent file", where(e.line())));
            }
        }
        return out;
    }

    int line(String key) {
        return lines.getOrDefault(key, 0);
    }

    String where(int line) {
        return offset == 0 ? "line " + line
                : "embedded descriptor at offset 0x" + Long.toHexString(offset) + ", line " + line;
    }
}
