package org.jv2v.fs.xfs;

import org.jv2v.fs.FileKind;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A generated tree of files described for mkfs.xfs's protofile (-p): what goes in, so the tests can
 * check that jv2v reads back exactly that. File contents live in host files under {@code data/}.
 */
final class SourceTree {

    /** One file of the tree. {@code content} is the host file for regular files. */
    record Node(String path, FileKind kind, int mode, int uid, int gid, Path content, String target,
                int major, int minor) {
        String name() {
            return path.substring(path.lastIndexOf('/') + 1);
        }

        String parent() {
            int i = path.lastIndexOf('/');
            return i == 0 ? "/" : path.substring(0, i);
        }
    }

    /** Entries by path, parents before children, in protofile order. */
    final Map<String, Node> nodes = new LinkedHashMap<>();
    private final Path dataDir;
    private final Random random;
    private int dataFiles;
    private Path empty;

    SourceTree(Path dir, long seed) throws IOException {
        this.dataDir = Files.createDirectories(dir.resolve("data"));
        this.random = new Random(seed);
        nodes.put("/", new Node("/", FileKind.DIRECTORY, 0755, 0, 0, null, null, 0, 0));
    }

    Node dir(String path, int mode, int uid, int gid) {
        return add(new Node(path, FileKind.DIRECTORY, mode, uid, gid, null, null, 0, 0));
    }

    Node file(String path, int mode, int uid, int gid, byte[] content) throws IOException {
        Path host;
        if (content.length == 0) {
            if (empty == null) {
                empty = Files.write(dataDir.resolve("empty"), content);
            }
            host = empty;
        } else {
            host = Files.write(dataDir.resolve("f" + dataFiles++), content);
        }
        return add(new Node(path, FileKind.REGULAR, mode, uid, gid, host, null, 0, 0));
    }

    Node randomFile(String path, int maxSize) throws IOException {
        int size = switch (random.nextInt(6)) {
            case 0 -> 0;
            case 1 -> 4096 * (1 + random.nextInt(4)); // exact blocks
            default -> random.nextInt(maxSize + 1);
        };
        byte[] b = new byte[size];
        random.nextBytes(b);
        return file(path, 0644, 1000, 1000, b);
    }

    Node symlink(String path, String target) {
        return add(new Node(path, FileKind.SYMLINK, 0777, 0, 0, null, target, 0, 0));
    }

    Node device(String path, FileKind kind, int mode, int major, int minor) {
        return add(new Node(path, kind, mode, 0, 6, null, null, major, minor));
    }

    private Node add(Node n) {
        if (!nodes.containsKey(n.parent()) || nodes.get(n.parent()).kind() != FileKind.DIRECTORY) {
            throw new IllegalArgumentException("no parent directory for " + n.path());
        }
        if (nodes.putIfAbsent(n.path(), n) != null) {
            throw new IllegalArgumentException("duplicate " + n.path());
        }
        return n;
    }

    List<Node> children(String dir) {
        List<Node> out = new ArrayList<>();
        for (Node n : nodes.values()) {
            if (!n.path().equals("/") && n.parent().equals(dir)) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * The standard test tree: files of random sizes, directories sized for each directory form
     * (shortform, block, leaf, node), a deep chain, symbolic links short and long, devices, odd
     * modes and owners, non-ASCII names. {@code remoteSymlink}: add a link too long for the inode
     * (mkfs.xfs 6.1 writes those without their v5 header, so only v4 images get one).
     */
    static SourceTree standard(Path dir, long seed, boolean remoteSymlink) throws IOException {
        SourceTree t = new SourceTree(dir, seed);
        t.dir("/etc", 0755, 0, 0);
        t.file("/etc/hostname", 0644, 0, 0, "xfs-guest\n".getBytes(StandardCharsets.UTF_8));
        t.file("/etc/shadow", 0640, 0, 42, "root:*:19000:0:99999:7:::\n".getBytes(StandardCharsets.UTF_8));
        t.dir("/files", 0755, 1000, 1000);
        for (int i = 0; i < 60; i++) {
            t.randomFile("/files/f" + i, 300_000);
        }
        byte[] big = new byte[3 << 20];
        t.random.nextBytes(big);
        t.file("/files/big", 0600, 1000, 1000, big);
        t.file("/files/setuid", 04755, 0, 0, "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8));
        t.file("/files/setgid", 02711, 0, 100, "x".getBytes(StandardCharsets.UTF_8));
        t.file("/files/café-ü-日本", 0444, 12345, 54321, "utf-8 name\n".getBytes(StandardCharsets.UTF_8));
        t.file("/files/nobody", 0000, 65534, 65534, new byte[] {1, 2, 3});

        // one directory per directory form; the test checks with xfs_db that each really has that form
        t.dir("/forms", 0755, 0, 0);
        int[] counts = {4, 40, 300, 3000};
        String[] names = {"short", "block", "leaf", "node"};
        for (int d = 0; d < counts.length; d++) {
            String base = "/forms/" + names[d];
            t.dir(base, 0750, 0, 0);
            for (int i = 0; i < counts[d]; i++) {
                String name = "entry-" + "x".repeat(t.random.nextInt(20)) + i;
                if (i % 97 == 5) {
                    t.dir(base + "/" + name, 0700, 0, 0);
                } else if (i % 89 == 3) {
                    t.symlink(base + "/" + name, "../" + i);
                } else {
                    t.file(base + "/" + name, 0644, 0, 0, new byte[0]);
                }
            }
        }

        StringBuilder deep = new StringBuilder("/deep");
        t.dir(deep.toString(), 0755, 0, 0);
        for (int i = 0; i < 40; i++) {
            deep.append("/d").append(i);
            t.dir(deep.toString(), 0755, 0, 0);
        }
        t.file(deep + "/bottom", 0644, 0, 0, "the bottom\n".getBytes(StandardCharsets.UTF_8));

        t.dir("/links", 0755, 0, 0);
        t.symlink("/links/relative", "../etc/hostname");
        t.symlink("/links/absolute", "/etc/hostname");
        t.symlink("/links/todir", "../files");
        t.symlink("/links/dangling", "/no/such/file");
        t.symlink("/links/loop1", "loop2");
        t.symlink("/links/loop2", "loop1");
        t.symlink("/links/chain", "relative");
        StringBuilder longTarget = new StringBuilder("/deep");
        while (longTarget.length() < 1000) {
            longTarget.append("/..");
        }
        longTarget.append("/etc/hostname");
        if (remoteSymlink) {
            t.symlink("/links/long", longTarget.toString()); // too long for the inode: a remote symlink
        }
        t.symlink("/links/medium", "/" + "m".repeat(200) + "/x");

        t.dir("/dev", 0755, 0, 0);
        t.device("/dev/sda1", FileKind.BLOCK_DEVICE, 0660, 8, 1);
        t.device("/dev/null", FileKind.CHAR_DEVICE, 0666, 1, 3);
        t.device("/dev/big", FileKind.CHAR_DEVICE, 0600, 511, 200000);
        t.device("/dev/fifo", FileKind.FIFO, 0620, 0, 0);
        return t;
    }

    /** The mkfs.xfs protofile that builds this tree. */
    String protofile() {
        StringBuilder sb = new StringBuilder("jv2v-test\n0 0\n");
        sb.append(modeToken(nodes.get("/"))).append(" 0 0\n");
        appendChildren(sb, "/", 1);
        sb.append("$\n");
        return sb.toString();
    }

    private void appendChildren(StringBuilder sb, String dir, int depth) {
        for (Node n : children(dir)) {
            String indent = " ".repeat(depth);
            sb.append(indent).append(n.name()).append(' ').append(modeToken(n)).append(' ').append(n.uid()).append(' ')
                    .append(n.gid());
            switch (n.kind()) {
                case REGULAR -> sb.append(' ').append(n.content().toAbsolutePath());
                case SYMLINK -> sb.append(' ').append(n.target());
                case BLOCK_DEVICE, CHAR_DEVICE -> sb.append(' ').append(n.major()).append(' ').append(n.minor());
                default -> { }
            }
            sb.append('\n');
            if (n.kind() == FileKind.DIRECTORY) {
                appendChildren(sb, n.path(), depth + 1);
                sb.append(indent).append("$\n");
            }
        }
    }

    private static String modeToken(Node n) {
        char type = switch (n.kind()) {
            case REGULAR -> '-';
            case DIRECTORY -> 'd';
            case SYMLINK -> 'l';
            case BLOCK_DEVICE -> 'b';
            case CHAR_DEVICE -> 'c';
            case FIFO -> 'p';
            default -> throw new IllegalArgumentException(n.kind() + " cannot be made by a protofile");
        };
        return "" + type + ((n.mode() & 04000) != 0 ? 'u' : '-') + ((n.mode() & 02000) != 0 ? 'g' : '-')
                + String.format("%03o", n.mode() & 0777);
    }
}
