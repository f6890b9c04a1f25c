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
}
