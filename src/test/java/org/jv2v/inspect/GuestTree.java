package org.jv2v.inspect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * A guest's file tree described in the test (files, symbolic links, folders), written to a host
 * folder for mkfs -d, tar or ntfscp, with a digest of the description so a cached image is rebuilt
 * when the description changes.
 */
final class GuestTree {
    private sealed interface Node permits FileNode, LinkNode, DirNode {}

    private record FileNode(byte[] content) implements Node {}

    private record LinkNode(String target) implements Node {}

    private record DirNode() implements Node {}

    /** Every file's time, so images built twice from the same description are the same. */
    static final long TIME = 1_700_000_000L;

    private final Map<String, Node> nodes = new TreeMap<>();

    GuestTree file(String path, String content) {
        return file(path, content.getBytes(StandardCharsets.UTF_8));
    }

    GuestTree file(String path, byte[] content) {
        nodes.put(path, new FileNode(content));
        return this;
    }

    /** A copy of a host file (a real executable, for the architecture). */
    GuestTree copy(String path, Path hostFile) throws IOException {
        return file(path, Files.readAllBytes(hostFile));
    }

    GuestTree link(String path, String target) {
        nodes.put(path, new LinkNode(target));
        return this;
    }

    /**
     * etc/{@code name}-release holding {@code text}, with etc/redhat-release and etc/system-release
     * linked to it, as the Red Hat family lays them out.
     */
    GuestTree redHatRelease(String name, String text) {
        return file("etc/" + name + "-release", text)
                .link("etc/redhat-release", name + "-release")
                .link("etc/system-release", name + "-release");
    }

    GuestTree dir(String... paths) {
        for (String p : paths) {
            nodes.put(p, new DirNode());
        }
        return this;
    }

    /** The regular files and their contents, keyed "etc/hostname". */
    Map<String, byte[]> files() {
        Map<String, byte[]> out = new TreeMap<>();
        nodes.forEach((p, n) -> {
            if (n instanceof FileNode f) {
                out.put(p, f.content());
            }
        });
        return out;
    }

    void writeTo(Path root) throws IOException {
        Files.createDirectories(root);
        for (Map.Entry<String, Node> e : nodes.entrySet()) {
            Path p = root.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            switch (e.getValue()) {
                case FileNode f -> Files.write(p, f.content());
                case LinkNode l -> Files.createSymbolicLink(p, Path.of(l.target()));
                case DirNode d -> Files.createDirectories(p);
            }
        }
        // fixed times, deepest first so a folder's time is not changed by its children afterwards
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (!Files.isSymbolicLink(p)) {
                    Files.setLastModifiedTime(p, FileTime.from(java.time.Instant.ofEpochSecond(TIME)));
                }
            }
        }
        Files.getLastModifiedTime(root, LinkOption.NOFOLLOW_LINKS);
    }

    /** SHA-256 of the description. */
    String digest() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            nodes.forEach((p, n) -> {
                md.update(p.getBytes(StandardCharsets.UTF_8));
                switch (n) {
                    case FileNode f -> md.update(f.content());
                    case LinkNode l -> md.update(("->" + l.target()).getBytes(StandardCharsets.UTF_8));
                    case DirNode d -> md.update((byte) '/');
                }
                md.update((byte) 0);
            });
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
