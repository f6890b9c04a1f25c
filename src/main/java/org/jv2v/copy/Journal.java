package org.jv2v.copy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;

/**
 * The journal of a resumable copy, {@code DST.part.journal}: which chunks of {@code DST.part} are
 * safely written. It is only ever written after the target was flushed, and replaced atomically
 * (write a temporary file, fsync, rename), so what it lists is durable and it is never half
 * written. A text file, for people who look:
 * <pre>
 * jv2v-copy-journal 1
 * key 3f2a...            (hash of source, size, target format and copy options)
 * chunk-size 8388608
 * chunks 256
 * done 0 17              (chunks 0..16 are done)
 * done 19 3
 * end
 * </pre>
 * A journal whose key differs (another source or options) or that does not parse is ignored and
 * the copy starts over: it is jv2v's own scratch file, not user input.
 */
final class Journal {
    static final String MAGIC = "jv2v-copy-journal 1";
    /** A journal longer than this is not ours (even 2^24 chunks in alternating runs stay below it). */
    private static final long MAX_JOURNAL_BYTES = 512L << 20;

    private final Path path;
    /** What the key is made of; hashed on first need, since most copies never checkpoint. */
    private final Supplier<String> identity;
    private String key;
    private final int chunkSize;
    private final long chunks;
    /** fsync before the rename (with a durable target); otherwise the identity names the boot. */
    private final boolean durable;

    Journal(Path path, Supplier<String> identity, int chunkSize, long chunks, boolean durable) {
        this.durable = durable;
        this.path = path;
        this.identity = identity;
        this.chunkSize = chunkSize;
        this.chunks = chunks;
    }

    Path path() {
        return path;
    }

    /** The chunks a matching journal lists as done, or null when there is no usable journal. */
    AtomicBits load() throws IOException {
        List<String> lines;
        try {
            if (Files.size(path) > MAX_JOURNAL_BYTES) {
                return null;
            }
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        }
        if (lines.size() < 5 || !lines.getFirst().equals(MAGIC) || !lines.getLast().equals("end")
                || !lines.get(1).equals("key " + key()) || !lines.get(2).equals("chunk-size " + chunkSize)
                || !lines.get(3).equals("chunks " + chunks)) {
            return null;
        }
        AtomicBits done = new AtomicBits(chunks);
        for (String line : lines.subList(4, lines.size() - 1)) {
            String[] f = line.split(" ");
            if (f.length != 3 || !f[0].equals("done")) {
                return null;
            }
            long first;
            long count;
            try {
                first = Long.parseLong(f[1]);
                count = Long.parseLong(f[2]);
            } catch (NumberFormatException e) {
                return null;
            }
            if (first < 0 || count <= 0 || first > chunks || count > chunks - first) {
                return null;
            }
            for (long c = first; c < first + count; c++) {
                done.set(c);
            }
        }
        return done;
    }

    /** Replaces the journal with {@code done}, atomically. Call only after flushing the target. */
    void write(AtomicBits done) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(MAGIC).append('\n').append("key ").append(key()).append('\n')
                .append("chunk-size ").append(chunkSize).append('\n').append("chunks ").append(chunks).append('\n');
        long c = 0;
        while (c < chunks) {
            if (!done.get(c)) {
                c++;
                continue;
            }
            long first = c;
            while (c < chunks && done.get(c)) {
                c++;
            }
            sb.append("done ").append(first).append(' ').append(c - first).append('\n');
        }
        sb.append("end\n");
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            var buf = java.nio.ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            if (durable) {
                ch.force(true);
            }
        }
        try {
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    void delete() throws IOException {
        Files.deleteIfExists(path);
        Files.deleteIfExists(path.resolveSibling(path.getFileName() + ".tmp"));
    }

    private synchronized String key() {
        if (key == null) {
            key = sha256(identity.get());
        }
        return key;
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
