package org.jv2v.source.ova;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.jv2v.BadInputException;
import org.jv2v.image.PathGuard;
import org.jv2v.model.DiskLocation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The files of an OVA: members of an uncompressed tar (located by offset, never extracted), or
 * files of a folder. Member names are checked: none may leave the archive or the folder.
 */
final class OvaArchive implements AutoCloseable {
    /** OVAs hold an OVF, a manifest, a certificate and a few disks; 10k members is far beyond any. */
    static final int MAX_MEMBERS = 10_000;
    /** A folder OVA is searched this deep for the OVF (VMware puts it at the top or one level down). */
    static final int MAX_DEPTH = 4;

    /** A file of the OVA. {@code offset} is -1 for folder files. */
    record Member(String name, long offset, long size, Path file) {}

    private final Path path;
    private final boolean folder;
    private final FileChannel channel; // tar only
    private final Map<String, Member> members;

    private OvaArchive(Path path, boolean folder, FileChannel channel, Map<String, Member> members) {
        this.path = path;
        this.folder = folder;
        this.channel = channel;
        this.members = Collections.unmodifiableMap(members);
    }

    Path path() {
        return path;
    }

    boolean isFolder() {
        return folder;
    }

    Map<String, Member> members() {
        return members;
    }

    static OvaArchive open(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw BadInputException.inFile(path, "no such file or folder");
        }
        if (Files.isDirectory(path)) {
            return openFolder(path.toAbsolutePath().normalize());
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            ByteBuffer head = ByteBuffer.allocate(512);
            ch.read(head, 0);
            byte[] h = head.array();
            int n = head.position();
            if (n >= 2 && (h[0] & 0xff) == 0x1f && (h[1] & 0xff) == 0x8b
                    || n >= 6 && (h[0] & 0xff) == 0xfd && h[1] == '7' && h[2] == 'z' && h[3] == 'X' && h[4] == 'Z'
                    || n >= 4 && h[0] == 'P' && h[1] == 'K' && h[2] == 3 && h[3] == 4) {
                throw BadInputException.inFile(path, "compressed OVA archives (gzip, xz, zip) are not supported: "
                        + "extract it into a folder (tar -xf / unzip) and give the folder to -i ova");
            }
            if (n < 512 || !new String(h, 257, 5, java.nio.charset.StandardCharsets.ISO_8859_1).equals("ustar")) {
                throw BadInputException.atOffset(path, "tar magic", 257, "not an OVA: no tar (ustar) header");
            }
            OvaArchive a = new OvaArchive(path.toAbsolutePath(), false, ch, scanTar(path, ch));
            ch = null;
            return a;
        } finally {
            if (ch != null) {
                ch.close();
            }
        }
    }

    /** Lists the tar's regular files with the offset of their data; nothing is extracted. */
    private static Map<String, Member> scanTar(Path path, FileChannel ch) throws IOException {
        Map<String, Member> out = new LinkedHashMap<>();
        CountingChannelStream counting = new CountingChannelStream(ch);
        try (TarArchiveInputStream tar = new TarArchiveInputStream(counting)) {
            TarArchiveEntry e;
            int count = 0;
            while ((e = tar.getNextEntry()) != null) {
                if (++count > MAX_MEMBERS) {
                    throw BadInputException.inFile(path, "more than " + MAX_MEMBERS + " members: not an OVA");
                }
                if (!e.isFile()) {
                    continue;
                }
                if (e.isSparse()) {
                    throw BadInputException.inFile(path, "member '" + e.getName() + "' is a sparse tar file, "
                            + "which an OVA never holds");
                }
                String name = checkName(path, e.getName());
                long offset = counting.position();
                if (e.getSize() < 0 || offset + e.getSize() > ch.size()) {
                    throw BadInputException.atOffset(path, "size of member '" + name + "'", offset - 512,
                            "extends past the end of the archive (truncated OVA?)");
                }
                if (out.putIfAbsent(name, new Member(name, offset, e.getSize(), null)) != null) {
                    throw BadInputException.inFile(path, "member '" + name + "' appears twice");
                }
            }
        } catch (IOException ex) {
            if (ex instanceof NoSuchFileException) {
                throw ex;
            }
            throw BadInputException.inFile(path, "not a readable tar archive: " + ex.getMessage());
        }
        return out;
    }

    /** Member names are relative, with no "..": an OVA must not name files outside itself. */
    static String checkName(Path archive, String raw) {
        String name = raw;
        while (name.startsWith("./")) {
            name = name.substring(2);
        }
        if (name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.indexOf('\0') >= 0) {
            throw BadInputException.inFile(archive, "member name '" + raw + "' is not a relative path");
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw BadInputException.inFile(archive, "member name '" + raw + "' escapes the archive");
            }
        }
        return name;
    }

    private static OvaArchive openFolder(Path dir) throws IOException {
        Map<String, Member> out = new LinkedHashMap<>();
        try (Stream<Path> files = Files.walk(dir, MAX_DEPTH)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!Files.isRegularFile(f)) {
                    continue;
                }
                if (out.size() >= MAX_MEMBERS) {
                    throw BadInputException.inFile(dir, "more than " + MAX_MEMBERS + " files: not an OVA folder");
                }
                String name = dir.relativize(f).toString().replace('\\', '/');
                out.put(name, new Member(name, -1, Files.size(f), f));
            }
        }
        // symbolic links inside the folder must not lead outside it
        PathGuard guard = PathGuard.folderOf(dir.resolve("x"));
        for (Member m : out.values()) {
            guard.check(m.file(), () -> dir + ": '" + m.name() + "' leads outside the OVA folder");
        }
        return new OvaArchive(dir, true, null, out);
    }

    Optional<Member> member(String name) {
        return Optional.ofNullable(members.get(name));
    }

    List<Member> membersEndingWith(String suffix) {
        List<Member> out = new ArrayList<>();
        for (Member m : members.values()) {
            if (m.name().toLowerCase(java.util.Locale.ROOT).endsWith(suffix)) {
                out.add(m);
            }
        }
        return out;
    }

    /** Reads a member's data (positional reads on the read-only channel for a tar). */
    InputStream open(Member m) throws IOException {
        if (folder) {
            return Channels.newInputStream(FileChannel.open(m.file(), StandardOpenOption.READ));
        }
        return new RangeStream(channel, m.offset(), m.size());
    }

    byte[] readSmall(Member m, long max, String what) throws IOException {
        if (m.size() > max) {
            throw BadInputException.inFile(path, what + " '" + m.name() + "' is " + m.size() + " bytes, more than the "
                    + max + " bytes allowed");
        }
        try (InputStream in = open(m)) {
            return in.readNBytes((int) m.size());
        }
    }

    DiskLocation location(Member m, String compression) {
        if (folder) {
            if (compression.equals("none")) {
                return new DiskLocation.LocalFile(m.file());
            }
            return new DiskLocation.ArchiveMember(m.file(), m.file().getFileName().toString(), 0, m.size(), compression);
        }
        return new DiskLocation.ArchiveMember(path, m.name(), m.offset(), m.size(), compression);
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
    }

    /** An InputStream over a FileChannel that knows its position and seeks to skip. */
    private static final class CountingChannelStream extends InputStream {
        private final FileChannel ch;
        private long pos;

        CountingChannelStream(FileChannel ch) {
            this.ch = ch;
        }

        long position() {
            return pos;
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            int n = read(b, 0, 1);
            return n <= 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = ch.read(ByteBuffer.wrap(b, off, len), pos);
            if (n > 0) {
                pos += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long k = Math.max(0, Math.min(n, ch.size() - pos));
            pos += k;
            return k;
        }

        @Override
        public void close() {
            // the archive owns the channel
        }
    }

    /** The bytes [offset, offset + size) of a channel. */
    private static final class RangeStream extends InputStream {
        private final FileChannel ch;
        private long pos;
        private final long end;

        RangeStream(FileChannel ch, long offset, long size) {
            this.ch = ch;
            this.pos = offset;
            this.end = offset + size;
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            int n = read(b, 0, 1);
            return n <= 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (pos >= end) {
                return -1;
            }
            int want = (int) Math.min(len, end - pos);
            int n = ch.read(ByteBuffer.wrap(b, off, want), pos);
            if (n < 0) {
                throw new IOException("unexpected end of archive");
            }
            pos += n;
            return n;
        }
    }
}
