package org.jv2v.fs.ext;

import org.jv2v.fs.ByteRange;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** e2fsprogs as the oracle: mkfs, dumpe2fs's free-block lists, debugfs, image patching. */
final class ExtTools {
    private ExtTools() {}

    static void mkfs(Path image, Path tree, String size, List<String> options) throws Exception {
        Tools.require("mkfs.ext4");
        List<String> cmd = new ArrayList<>(List.of("mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0"));
        cmd.addAll(options);
        if (tree != null) {
            cmd.addAll(List.of("-d", tree.toString()));
        }
        cmd.addAll(List.of(image.toString(), size));
        Run.checked(cmd);
    }

    static String debugfs(Path image, String request) throws Exception {
        Tools.require("debugfs");
        return Run.checked(List.of("debugfs", "-R", request, image.toString())).stdout();
    }

    static void debugfsWrite(Path image, String request) throws Exception {
        Tools.require("debugfs");
        Run.checked(List.of("debugfs", "-w", "-R", request, image.toString()));
    }

    /**
     * Blocks dumpe2fs lists as free, over the whole filesystem. With bigalloc it names each free
     * cluster by its first block, so a range ends {@code clusterBlocks - 1} blocks later.
     */
    static BitSet freeBlocks(Path image, long clusterBlocks) throws Exception {
        Tools.require("dumpe2fs");
        String out = Run.checked(List.of("dumpe2fs", image.toString())).stdout();
        BitSet free = new BitSet();
        Matcher m = Pattern.compile("(?m)^\\s+Free blocks: (.*)$").matcher(out);
        while (m.find()) {
            for (String r : m.group(1).split(",\\s*")) {
                if (r.isBlank()) {
                    continue;
                }
                String[] ab = r.trim().split("-");
                int a = Integer.parseInt(ab[0]);
                int b = ab.length > 1 ? Integer.parseInt(ab[1]) : a;
                free.set(a, b + (int) clusterBlocks);
            }
        }
        return free;
    }

    static BitSet usedBlocks(List<ByteRange> ranges, long blockSize) {
        BitSet used = new BitSet();
        for (ByteRange r : ranges) {
            used.set((int) (r.offset() / blockSize), (int) ((r.end() + blockSize - 1) / blockSize));
        }
        return used;
    }

    static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new AssertionError("no match for " + regex + " in:\n" + text);
        }
        return Long.parseLong(m.group(1));
    }

    /** Overwrites bytes of an image file (to corrupt it on purpose). */
    static void patch(Path image, long offset, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    static byte[] le16(int v) {
        return new byte[] {(byte) v, (byte) (v >> 8)};
    }

    static byte[] le32(long v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }

    /** Byte offset of an inode in the image, from debugfs imap. */
    static long inodeOffset(Path image, String path) throws Exception {
        String out = debugfs(image, "imap " + path);
        long block = number(out, "located at block (\\d+)");
        Matcher m = Pattern.compile("offset 0x([0-9a-f]+)").matcher(out);
        if (!m.find()) {
            throw new AssertionError(out);
        }
        long bs = number(debugfs(image, "stats"), "Block size:\\s+(\\d+)");
        return block * bs + Long.parseLong(m.group(1), 16);
    }

    /** Lines a clean e2fsck -fn prints: its version, the pass names and the summary. */
    private static final Pattern FSCK_NORMAL = Pattern.compile(
            "e2fsck \\d.*|Pass \\d[A-Z]?: .*|.*: \\d+/\\d+ files \\(.*\\), \\d+/\\d+ blocks");

    /** e2fsck -fn finds nothing: exit status 0 and no message beyond the pass names and the summary. */
    static void assertFsckClean(Path image) throws Exception {
        Tools.require("e2fsck");
        Run.Result r = Run.run(List.of("e2fsck", "-fn", image.toString()), null, java.util.Map.of(), 120);
        if (r.all().contains("last write time is in the future.\n\t(by less than a day")) {
            // jv2v writes s_wtime from the precise clock; e2fsck compares it with time(), the coarse
            // one, which can still show the second before for a few milliseconds: look again once
            // that second has passed (a time really in the future is still reported then)
            Thread.sleep(1100);
            r = Run.run(List.of("e2fsck", "-fn", image.toString()), null, java.util.Map.of(), 120);
        }
        List<String> odd = r.all().lines().filter(l -> !l.isBlank() && !FSCK_NORMAL.matcher(l).matches()).toList();
        org.assertj.core.api.Assertions.assertThat(odd).as("e2fsck -fn %s:%n%s", image, r.all()).isEmpty();
        org.assertj.core.api.Assertions.assertThat(r.exitCode()).as("e2fsck -fn %s:%n%s", image, r.all()).isZero();
    }

    /** Runs debugfs requests in one go (from a command file); stdout only. */
    static String debugfsBatch(Path image, Path dir, List<String> requests) throws Exception {
        Tools.require("debugfs");
        Path cmds = java.nio.file.Files.createTempFile(dir, "debugfs", ".cmds");
        java.nio.file.Files.writeString(cmds, String.join("\n", requests) + "\n");
        try {
            return Run.checked(List.of("debugfs", "-f", cmds.toString(), image.toString())).stdout();
        } finally {
            java.nio.file.Files.delete(cmds);
        }
    }

    /** debugfs's dump of one file, as bytes. */
    static byte[] debugfsCat(Path image, Path dir, String path) throws Exception {
        Path out = dir.resolve("dump-" + Integer.toHexString(path.hashCode()));
        java.nio.file.Files.deleteIfExists(out);
        Run.checked(List.of("debugfs", "-R", "dump " + path + " " + out, image.toString()));
        byte[] b = java.nio.file.Files.readAllBytes(out);
        java.nio.file.Files.delete(out);
        return b;
    }
}
