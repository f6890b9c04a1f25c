package org.jv2v.convert.linux.initramfs;

import org.jv2v.BadInputException;
import org.jv2v.convert.linux.compress.Codecs;
import org.jv2v.convert.linux.compress.Compression;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An initramfs image read as the kernel reads it (init/initramfs.c, unpack_to_rootfs): a chain of
 * parts, each an uncompressed cpio archive (the early microcode one comes first), a compressed
 * stream holding cpio archives (told apart by magic bytes), or zero padding between them. Later
 * entries replace earlier ones of the same name, as when the kernel unpacks them in turn.
 */
public final class InitramfsImage {

    enum Kind { ZEROS, CPIO, COMPRESSED }

    /**
     * One part of the image at {@code image[offset, offset+length)}. For CPIO parts the archive lies
     * in the image itself ({@code data} is the image); for COMPRESSED parts {@code data} is the
     * unpacked stream and {@code archives} lie in it.
     */
    record Segment(Kind kind, int offset, int length, Compression compression, byte[] data,
                   List<CpioArchive> archives) {}

    /** A name in the unpacked tree: the entry that made it and, for a regular file, its content. */
    record Node(CpioEntry entry, int segment, int archive, CpioEntry contentFrom) {}

    private final byte[] image;
    private final String source;
    private final List<Segment> segments;
    private final Map<String, Node> tree;

    private InitramfsImage(byte[] image, String source, List<Segment> segments) {
        this.image = image;
        this.source = source;
        this.segments = List.copyOf(segments);
        this.tree = buildTree();
    }

    /**
     * Reads an image. {@code source} names it in errors ("/boot/initrd.img-6.1.0-57-amd64"); any
     * malformed or oversized part is a {@link BadInputException} of one line naming the part, the
     * field and the offset.
     */
    public static InitramfsImage parse(byte[] image, String source, InitramfsLimits limits) {
        if (image.length > limits.maxImageBytes()) {
            throw BadInputException.of(source + ": " + image.length + " bytes, more than the "
                    + limits.maxImageBytes() + " an initramfs may have here");
        }
        List<Segment> segs = new ArrayList<>();
        CpioArchive.Budget budget = new CpioArchive.Budget(limits.maxEntries());
        long unpackBudget = limits.maxUnpackedBytes();
        int pos = 0;
        while (pos < image.length) {
            if (image[pos] == 0) {
                int z = pos;
                while (pos < image.length && image[pos] == 0) {
                    pos++;
                }
                segs.add(new Segment(Kind.ZEROS, z, pos - z, Compression.NONE, image, List.of()));
                continue;
            }
            if (image[pos] == '0') {
                if ((pos & 3) != 0) {
                    throw BadInputException.of(source + ": uncompressed cpio archive at offset 0x"
                            + Integer.toHexString(pos) + " does not start on a 4-byte boundary (the kernel rejects it)");
                }
                CpioArchive a = CpioArchive.parse(image, pos, image.length,
                        off -> source + ": uncompressed cpio archive, offset 0x" + Long.toHexString(off), budget);
                segs.add(new Segment(Kind.CPIO, pos, a.end() - pos, Compression.NONE, image, List.of(a)));
                pos = a.end();
                continue;
            }
            Compression c = Compression.detect(image, pos, image.length - pos);
            if (c == null) {
                throw BadInputException.of(source + ": data at offset 0x" + Integer.toHexString(pos)
                        + " is neither a cpio archive nor a compression the kernel knows (junk in the image)");
            }
            int partOffset = pos;
            String where = source + ": " + c + " part at offset 0x" + Integer.toHexString(partOffset);
            Codecs.Decoded d = Codecs.decode(c, image, pos, image.length - pos, unpackBudget, where);
            unpackBudget -= d.data().length;
            List<CpioArchive> archives = archivesIn(d.data(), where, budget);
            segs.add(new Segment(Kind.COMPRESSED, pos, d.consumed(), c, d.data(), archives));
            pos += d.consumed();
        }
        if (segs.stream().noneMatch(s -> !s.archives().isEmpty())) {
            throw BadInputException.of(source + ": holds no cpio archive: not an initramfs");
        }
        return new InitramfsImage(image, source, segs);
    }

    /** The archives of an unpacked stream: archives and zero padding, nothing else, as the kernel demands. */
    private static List<CpioArchive> archivesIn(byte[] data, String where, CpioArchive.Budget budget) {
        List<CpioArchive> out = new ArrayList<>();
        CpioArchive.Where at = off -> where + ", unpacked offset 0x" + Long.toHexString(off);
        int p = 0;
        while (p < data.length) {
            if (data[p] == 0) {
                p++;
                continue;
            }
            if (data[p] != '0') {
                throw BadInputException.of(at.at(p) + ": junk after a cpio archive (byte 0x"
                        + Integer.toHexString(data[p] & 0xff) + ")");
            }
            if ((p & 3) != 0) {
                throw BadInputException.of(at.at(p) + ": cpio header not on a 4-byte boundary (broken padding)");
            }
            CpioArchive a = CpioArchive.parse(data, p, data.length, at, budget);
            out.add(a);
            p = a.end();
        }
        if (out.isEmpty()) {
            throw BadInputException.of(where + ": unpacks to no cpio archive");
        }
        return out;
    }

    /** Replays the archives in order: the tree the kernel would leave in its root. */
    private Map<String, Node> buildTree() {
        Map<String, Node> t = new LinkedHashMap<>();
        for (int s = 0; s < segments.size(); s++) {
            List<CpioArchive> archives = segments.get(s).archives();
            for (int a = 0; a < archives.size(); a++) {
                Map<List<Long>, CpioEntry> linkData = new HashMap<>();
                for (CpioEntry e : archives.get(a).entries()) {
                    if (e.isRegular() && e.nlink() >= 2 && e.fileSize() > 0) {
                        linkData.put(linkKey(e), e);   // newc puts a hard-linked file's data on its last name
                    }
                }
                for (CpioEntry e : archives.get(a).entries()) {
                    if (e.isTrailer()) {
                        continue;
                    }
                    CpioEntry content = e;
                    if (e.isRegular() && e.nlink() >= 2) {
                        content = linkData.getOrDefault(linkKey(e), e);
                    }
                    String path = normalize(e.name());
                    t.remove(path);                    // a replaced name moves to the end, as a new file would
                    t.put(path, new Node(e, s, a, content));
                }
            }
        }
        return t;
    }

    private static List<Long> linkKey(CpioEntry e) {
        return List.of(e.ino(), e.devMajor(), e.devMinor());
    }

    /** A cpio name as a path from the root: no "./" or "/" in front, no "/" behind; "" is the root. */
    static String normalize(String name) {
        String p = name;
        while (true) {
            if (p.startsWith("./")) {
                p = p.substring(2);
            } else if (p.startsWith("/")) {
                p = p.substring(1);
            } else {
                break;
            }
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p.equals(".") ? "" : p;
    }

    // ------------------------------------------------------------------ the unpacked tree

    /** Every path of the unpacked tree, in the order the entries came. */
    public List<String> paths() {
        return List.copyOf(tree.keySet());
    }

    /**
     * A path with symbolic links in its directories followed inside the tree ({@code lib/modules}
     * becomes {@code usr/lib/modules} when {@code lib -> usr/lib}); the last component is followed
     * too when {@code followLast}. Empty when a component does not exist.
     */
    public Optional<String> resolve(String path, boolean followLast) {
        List<String> todo = new ArrayList<>(List.of(normalize(path).split("/")));
        List<String> done = new ArrayList<>();
        int hops = 0;
        while (!todo.isEmpty()) {
            String c = todo.removeFirst();
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (!done.isEmpty()) {
                    done.removeLast();
                }
                continue;
            }
            done.add(c);
            String cur = String.join("/", done);
            Node n = tree.get(cur);
            if (n == null) {
                return Optional.empty();
            }
            if (n.entry().isSymlink() && (followLast || !todo.isEmpty())) {
                if (++hops > 40) {
                    throw BadInputException.of(source + ": '" + path + "': too many levels of symbolic links");
                }
                String target = n.entry().symlinkTarget();
                done.removeLast();
                if (target.startsWith("/")) {
                    done.clear();
                }
                List<String> next = new ArrayList<>(List.of(target.split("/")));
                next.addAll(todo);
                todo = next;
            }
        }
        return Optional.of(String.join("/", done));
    }

    /** The content of a regular file (symbolic links followed), or empty. */
    public Optional<byte[]> read(String path) {
        return resolve(path, true).map(tree::get).filter(n -> n.entry().isRegular())
                .map(n -> n.contentFrom().data());
    }

    public boolean isDirectory(String path) {
        return resolve(path, true).map(tree::get).map(n -> n.entry().isDirectory()).orElse(false);
    }

    /** The names directly inside a directory (already resolved), in entry order. */
    List<String> children(String dir) {
        String prefix = dir.isEmpty() ? "" : dir + "/";
        List<String> out = new ArrayList<>();
        for (String p : tree.keySet()) {
            if (p.startsWith(prefix) && !p.isEmpty() && p.indexOf('/', prefix.length()) < 0 && !p.equals(dir)) {
                out.add(p);
            }
        }
        return out;
    }

    /** Every path under a directory (already resolved), recursively, in entry order. */
    List<String> under(String dir) {
        String prefix = dir.isEmpty() ? "" : dir + "/";
        return tree.keySet().stream().filter(p -> p.startsWith(prefix) && !p.equals(dir)).toList();
    }

    Node node(String resolvedPath) {
        return tree.get(resolvedPath);
    }

    // ------------------------------------------------------------------ layout

    byte[] image() {
        return image;
    }

    String source() {
        return source;
    }

    List<Segment> segments() {
        return segments;
    }

    /** How the image is made, one line per part (for --plan and messages). */
    public List<String> describeLayout() {
        List<String> out = new ArrayList<>();
        for (Segment s : segments) {
            String range = String.format("0x%x-0x%x", s.offset(), s.offset() + s.length());
            switch (s.kind()) {
                case ZEROS -> out.add(range + ": " + s.length() + " bytes of zero padding");
                case CPIO -> {
                    CpioArchive a = s.archives().getFirst();
                    out.add(range + ": uncompressed cpio archive, " + (a.entries().size() - 1) + " entries"
                            + (isMicrocode(a) ? " (early microcode)" : ""));
                }
                case COMPRESSED -> out.add(range + ": " + s.compression() + "-compressed part, " + s.data().length
                        + " bytes unpacked, " + s.archives().stream().mapToInt(a -> a.entries().size() - 1).sum()
                        + " entries");
            }
        }
        return out;
    }

    static boolean isMicrocode(CpioArchive a) {
        return a.entries().stream().anyMatch(e -> normalize(e.name()).startsWith("kernel/x86/microcode/"));
    }
}
