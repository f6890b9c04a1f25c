package org.jv2v.registry;

import org.jv2v.BadInputException;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.Deque;
import java.util.Optional;

/**
 * A Windows registry hive file (regf), read-only: base block (checksum verified), hive bins and
 * cells, keys and values of every type with inline, cell and big-data storage.
 *
 * <p>Typical use by the inspector:
 * <pre>{@code
 * Hive software = Hive.open(ntfs, "/Windows/System32/config/SOFTWARE");
 * String product = software.key("\\Microsoft\\Windows NT\\CurrentVersion")
 *         .flatMap(k -> k.value("ProductName")).map(RegistryValue::asString).orElse(null);
 * }</pre>
 *
 * <p>A hive whose sequence numbers differ ({@link #dirty()}) was not synced: newer data may sit in
 * its .LOG1/.LOG2 transaction logs, which this reader does not apply (it reads the primary file as
 * it is, like hivex).
 */
public final class Hive {
    /** Windows caps a hive at 2 GiB (its cell offsets are 32-bit); a hive file is mapped, not read. */
    public static final int MAX_HIVE_BYTES = Integer.MAX_VALUE;
    /**
     * A hive inside a guest filesystem is read into memory: real SOFTWARE hives are a few hundred
     * MiB at most (files with more are mostly free space left by tools such as hivex).
     */
    public static final int MAX_IN_MEMORY_BYTES = 1 << 30;
    /** Windows limits the key tree to 512 levels. */
    static final int MAX_DEPTH = 512;

    private final String name;
    private final BaseBlock base;
    final Cells cells;

    private Hive(String name, ByteBuffer file) {
        this.name = name;
        file = file.order(ByteOrder.LITTLE_ENDIAN);
        if (file.capacity() < BaseBlock.SIZE + Cells.BIN_ALIGN) {
            throw BadInputException.of(name + ": " + file.capacity() + " bytes is too small for a registry hive");
        }
        if (!"regf".equals(Cells.ascii(file, 0, 4))) {
            throw Cells.bad(name, "base block signature", 0, "not \"regf\": not a registry hive");
        }
        this.base = BaseBlock.read(file);
        if (!BaseBlock.checksumMatches(file, base.checksum())) {
            throw Cells.bad(name, "base block checksum", BaseBlock.CHECKSUM_OFFSET, "0x" + Integer.toHexString(base.checksum())
                    + " is not the XOR of the first 508 bytes (0x" + Integer.toHexString(BaseBlock.checksum(file)) + ")");
        }
        if (base.major() != 1) {
            throw Cells.bad(name, "major version", 0x14, base.major() + " (only 1 exists)");
        }
        if (base.fileType() != 0) {
            throw Cells.bad(name, "file type", 0x1C, base.fileType() + ": a transaction log, not a primary hive");
        }
        this.cells = Cells.scan(name, file, base);
        NkCell root = NkCell.read(cells, base.rootCell(), 0x24);
        if (root.parent() == base.rootCell()) {
            throw Cells.bad(name, "root key parent", Cells.fileOffset(base.rootCell()) + 0x10, "the root is its own parent");
        }
    }

    /** Opens a hive file: opened read-only and mapped (the mapping stays valid after the channel closes). */
    public static Hive open(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > MAX_HIVE_BYTES) {
                throw BadInputException.inFile(file, size + " bytes: more than the 2 GiB a hive may have");
            }
            return new Hive(file.toString(), ch.map(FileChannel.MapMode.READ_ONLY, 0, size));
        }
    }

    /** A hive already in memory; {@code name} is used in messages. */
    public static Hive open(byte[] bytes, String name) {
        return new Hive(name, ByteBuffer.wrap(bytes));
    }

    /** A hive file inside a guest filesystem, e.g. "/Windows/System32/config/SYSTEM". */
    public static Hive open(FileSystem fs, String path) throws IOException {
        FileStat st = fs.stat(path);
        String name = fs.type() + ":" + path;
        if (st.size() > MAX_IN_MEMORY_BYTES) {
            throw BadInputException.of(name + ": " + st.size() + " bytes: more than the " + MAX_IN_MEMORY_BYTES
                    + " jv2v reads of a hive inside a guest");
        }
        return new Hive(name, ByteBuffer.wrap(fs.readAll(path, MAX_IN_MEMORY_BYTES)));
    }

    public String name() {
        return name;
    }

    /** True when the sequence numbers differ: the last write did not complete and transaction logs were not applied. */
    public boolean dirty() {
        return !base.synced();
    }

    public Instant lastWritten() {
        return filetime(base.lastWritten());
    }

    /** "1.3", "1.5" ... */
    public String version() {
        return base.major() + "." + base.minor();
    }

    /** The name the hive records for itself (the end of its original path), e.g. "\SystemRoot\System32\Config\SOFTWARE". */
    public String embeddedFileName() {
        return base.fileName();
    }

    public RegistryKey root() {
        return new RegistryKey(this, base.rootCell(), NkCell.read(cells, base.rootCell(), 0x24), "\\");
    }

    /**
     * The key at {@code path} below the root, components separated by backslashes and compared
     * case-insensitively ("\ControlSet001\Services\viostor"; the leading backslash is optional).
     */
    public Optional<RegistryKey> key(String path) {
        RegistryKey k = root();
        for (String c : path.split("\\\\")) {
            if (c.isEmpty()) {
                continue;
            }
            Optional<RegistryKey> next = k.subkey(c);
            if (next.isEmpty()) {
                return Optional.empty();
            }
            k = next.get();
        }
        return Optional.of(k);
    }

    /**
     * In a SYSTEM hive, the control set Windows boots with: "\Select" value "Current" names
     * ControlSet00N (CurrentControlSet is only a link made at boot, absent from the file).
     */
    public Optional<RegistryKey> currentControlSet() {
        Optional<RegistryValue> current = key("\\Select").flatMap(k -> k.value("Current"));
        if (current.isEmpty()) {
            return Optional.empty();
        }
        return key(String.format("\\ControlSet%03d", current.get().asNumber()));
    }

    /** Visits every key, parents before children; a key reached twice is a loop and an error. */
    public void walk(KeyVisitor visitor) throws IOException {
        BitSet seen = new BitSet();
        Deque<RegistryKey> stack = new ArrayDeque<>();
        Deque<Integer> depth = new ArrayDeque<>();
        stack.push(root());
        depth.push(0);
        while (!stack.isEmpty()) {
            RegistryKey k = stack.pop();
            int d = depth.pop();
            if (seen.get(k.cellOffset() / 4)) {
                throw Cells.bad(name, "key (nk)", Cells.fileOffset(k.cellOffset()), k.path()
                        + " is reached twice: the key tree has a loop");
            }
            seen.set(k.cellOffset() / 4);
            if (d > MAX_DEPTH) {
                throw Cells.bad(name, "key (nk)", Cells.fileOffset(k.cellOffset()), "deeper than " + MAX_DEPTH + " levels");
            }
            visitor.visit(k);
            var subs = k.subkeys();
            for (int i = subs.size() - 1; i >= 0; i--) {
                stack.push(subs.get(i));
                depth.push(d + 1);
            }
        }
    }

    @FunctionalInterface
    public interface KeyVisitor {
        void visit(RegistryKey key) throws IOException;
    }

    /** Registry names compare case-insensitively (Windows upper-cases each UTF-16 unit). */
    static boolean sameName(String a, String b) {
        if (a.length() != b.length()) {
            return false;
        }
        for (int i = 0; i < a.length(); i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y && Character.toUpperCase(x) != Character.toUpperCase(y)) {
                return false;
            }
        }
        return true;
    }

    static Instant filetime(long ft) {
        long secs = Math.floorDiv(ft, 10_000_000L) - 11_644_473_600L;
        return Instant.ofEpochSecond(secs, Math.floorMod(ft, 10_000_000L) * 100);
    }
}
