package org.jv2v.convert.linux.kmod;

import org.jv2v.BadInputException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * kmod's binary index files ({@code modules.dep.bin}, {@code modules.alias.bin},
 * {@code modules.symbols.bin}, {@code modules.builtin.bin}, {@code modules.builtin.alias.bin}):
 * a radix trie of 7-bit ASCII keys, each key holding values ordered by a priority.
 *
 * <p>Layout, all integers big-endian: {@code 0x00} magic 0xB007F457, {@code 0x04} version
 * 0x00020001, {@code 0x08} offset of the root node. A node offset carries flags in its top nibble
 * saying which parts the node has, in this order: a NUL-terminated prefix (0x80000000); a child
 * table, first and last child character then one offset per character in between, 0 for none
 * (0x20000000); a value count then (priority, NUL-terminated string) pairs (0x40000000). depmod
 * writes children before their parent, so every child lies below its parent in the file.
 */
public final class KmodIndex {
    static final int MAGIC = 0xB007F457;
    static final int VERSION = 0x00020001;
    static final int FLAG_PREFIX = 0x80000000;
    static final int FLAG_VALUES = 0x40000000;
    static final int FLAG_CHILDREN = 0x20000000;
    static final int OFFSET_MASK = 0x0FFFFFFF;
    /** Keys and values are 7-bit ASCII: depmod refuses anything else. */
    static final int CHILD_MAX = 128;

    private KmodIndex() {}

    /** One value of a key. */
    public record Value(int priority, String value) {}

    // ------------------------------------------------------------------ writing

    /** Builds an index the way depmod does, so that the same insertions give the same bytes. */
    public static final class Builder {
        private final Node root = new Node(new byte[0]);

        /**
         * Adds a value under a key. Values of one key are kept sorted by priority; among equal
         * priorities the newest comes first (as depmod inserts).
         */
        public Builder add(String key, String value, int priority) {
            byte[] k = ascii(key);
            byte[] v = ascii(value);
            Node node = root;
            int i = 0;
            while (true) {
                int j = 0;
                for (; j < node.prefix.length; j++) {
                    int ch = node.prefix[j];
                    if (i + j >= k.length || k[i + j] != ch) {
                        node.splitAt(j);
                        break;
                    }
                }
                i += j;
                if (i == k.length) {
                    node.addValue(v, priority);
                    return this;
                }
                int ch = k[i];
                Node child = node.children[ch];
                if (child == null) {
                    child = new Node(java.util.Arrays.copyOfRange(k, i + 1, k.length));
                    child.addValue(v, priority);
                    node.setChild(ch, child);
                    return this;
                }
                node = child;
                i++;
            }
        }

        /** The index file's bytes. */
        public byte[] toBytes() {
            Out out = new Out();
            out.u32(MAGIC);
            out.u32(VERSION);
            out.u32(0);                             // 0x08 root offset, patched below
            int rootOffset = root.write(out);
            byte[] b = out.toByteArray();
            putU32(b, 8, rootOffset);
            return b;
        }

        private static byte[] ascii(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == 0 || c >= CHILD_MAX) {
                    throw new IllegalArgumentException("kmod index key or value '" + s
                            + "' is not 7-bit ASCII (depmod refuses it too)");
                }
            }
            return s.getBytes(StandardCharsets.US_ASCII);
        }
    }

    private static final class Node {
        byte[] prefix;
        final List<Value> values = new ArrayList<>(1);
        Node[] children = new Node[CHILD_MAX];
        int first = CHILD_MAX;
        int last = -1;

        Node(byte[] prefix) {
            this.prefix = prefix;
        }

        /** Keeps prefix[0, j) here and moves the rest of this node below character prefix[j]. */
        void splitAt(int j) {
            Node moved = new Node(java.util.Arrays.copyOfRange(prefix, j + 1, prefix.length));
            moved.values.addAll(values);
            moved.children = children;
            moved.first = first;
            moved.last = last;
            int ch = prefix[j];
            prefix = java.util.Arrays.copyOf(prefix, j);
            values.clear();
            children = new Node[CHILD_MAX];
            first = CHILD_MAX;
            last = -1;
            setChild(ch, moved);
        }

        void setChild(int ch, Node child) {
            children[ch] = child;
            first = Math.min(first, ch);
            last = Math.max(last, ch);
        }

        void addValue(byte[] v, int priority) {
            int pos = 0;
            while (pos < values.size() && Integer.compareUnsigned(values.get(pos).priority(), priority) < 0) {
                pos++;
            }
            values.add(pos, new Value(priority, new String(v, StandardCharsets.US_ASCII)));
        }

        /** Writes the children, then this node; returns this node's offset with its flags. */
        int write(Out out) {
            int[] childOffsets = null;
            if (last >= first) {
                childOffsets = new int[last - first + 1];
                for (int c = first; c <= last; c++) {
                    childOffsets[c - first] = children[c] == null ? 0 : children[c].write(out);
                }
            }
            int offset = out.size();
            if (offset > OFFSET_MASK) {
                throw new IllegalStateException("kmod index larger than 256 MiB");
            }
            if (prefix.length > 0) {
                out.write(prefix, 0, prefix.length);
                out.write(0);
                offset |= FLAG_PREFIX;
            }
            if (childOffsets != null) {
                out.write(first);
                out.write(last);
                for (int o : childOffsets) {
                    out.u32(o);
                }
                offset |= FLAG_CHILDREN;
            }
            if (!values.isEmpty()) {
                out.u32(values.size());
                for (int i = 0; i < values.size(); i++) {
                    out.u32(values.get(i).priority());
                    byte[] v = values.get(i).value().getBytes(StandardCharsets.US_ASCII);
                    out.write(v, 0, v.length);
                    out.write(0);
                }
                offset |= FLAG_VALUES;
            }
            return offset;
        }
    }

    private static final class Out extends ByteArrayOutputStream {
        void u32(int v) {
            write(v >>> 24);
            write(v >>> 16);
            write(v >>> 8);
            write(v);
        }
    }

    private static void putU32(byte[] b, int p, int v) {
        b[p] = (byte) (v >>> 24);
        b[p + 1] = (byte) (v >>> 16);
        b[p + 2] = (byte) (v >>> 8);
        b[p + 3] = (byte) v;
    }

    // ------------------------------------------------------------------ reading

    /**
     * Every key of an index with its values, in key order. {@code file} names the index in errors.
     * Offsets are checked (in range, each child below its parent, so there is no loop) and the
     * walk visits at most one node per byte of the file.
     */
    public static Map<String, List<Value>> read(byte[] b, String file) {
        if (b.length < 12 || getU32(b, 0) != MAGIC) {
            throw BadInputException.of(file + ": magic at offset 0x0 is not 0xb007f457: not a kmod index");
        }
        int version = getU32(b, 4);
        if (version >>> 16 != 2) {
            throw BadInputException.of(file + ": version at offset 0x4 is 0x" + Integer.toHexString(version)
                    + " (only major version 2 exists)");
        }
        Map<String, List<Value>> all = new LinkedHashMap<>();
        Reader r = new Reader(b, file);
        r.walk(getU32(b, 8), Integer.MAX_VALUE, new StringBuilder(), all);
        return all;
    }

    /** The values of one key, or an empty list. */
    public static List<Value> lookup(byte[] index, String file, String key) {
        return read(index, file).getOrDefault(key, List.of());
    }

    private static final class Reader {
        private final byte[] b;
        private final String file;
        private long budget;

        Reader(byte[] b, String file) {
            this.b = b;
            this.file = file;
            this.budget = b.length;
        }

        void walk(int ref, int parentOffset, StringBuilder key, Map<String, List<Value>> out) {
            int off = ref & OFFSET_MASK;
            boolean empty = ref == off;             // no flags: a node with nothing in it (an empty index's root)
            if (off < 12 || off > b.length || (off == b.length && !empty) || off >= parentOffset) {
                throw bad(off, "node offset 0x" + Integer.toHexString(off) + " is out of place (outside the file,"
                        + " or not below its parent: a loop)");
            }
            if (--budget < 0) {
                throw bad(off, "more nodes than the file has bytes: nodes are shared (a crafted file)");
            }
            int keyLength = key.length();
            int p = off;
            if ((ref & FLAG_PREFIX) != 0) {
                int end = nul(p);
                key.append(new String(b, p, end - p, StandardCharsets.ISO_8859_1));
                p = end + 1;
            }
            int first = 0;
            int last = -1;
            int childTable = 0;
            if ((ref & FLAG_CHILDREN) != 0) {
                need(p, 2);
                first = b[p] & 0xff;
                last = b[p + 1] & 0xff;
                if (last < first || last >= CHILD_MAX) {
                    throw bad(p, "child range " + first + ".." + last + " is impossible");
                }
                childTable = p + 2;
                p = childTable + 4 * (last - first + 1);
                need(childTable, 4 * (last - first + 1));
            }
            if ((ref & FLAG_VALUES) != 0) {
                need(p, 4);
                long count = getU32(b, p) & 0xffffffffL;
                p += 4;
                if (count > (b.length - p) / 5) {
                    throw bad(p - 4, "value count " + count + " does not fit in the file");
                }
                List<Value> values = new ArrayList<>((int) count);
                for (long i = 0; i < count; i++) {
                    need(p, 4);
                    int priority = getU32(b, p);
                    int end = nul(p + 4);
                    values.add(new Value(priority, new String(b, p + 4, end - p - 4, StandardCharsets.ISO_8859_1)));
                    p = end + 1;
                }
                out.put(key.toString(), values);
            }
            for (int c = first; c <= last; c++) {
                int child = getU32(b, childTable + 4 * (c - first));
                if (child != 0) {
                    key.append((char) c);
                    walk(child, off, key, out);
                    key.setLength(key.length() - 1);
                }
            }
            key.setLength(keyLength);
        }

        private int nul(int p) {
            for (int i = p; i < b.length; i++) {
                if (b[i] == 0) {
                    return i;
                }
            }
            throw bad(p, "string runs past the end of the file");
        }

        private void need(int p, int n) {
            if ((long) p + n > b.length) {
                throw bad(p, "node runs past the end of the file");
            }
        }

        private BadInputException bad(int off, String problem) {
            return BadInputException.of(file + ": node at offset 0x" + Integer.toHexString(off) + ": " + problem);
        }
    }

    static int getU32(byte[] b, int p) {
        return (b[p] & 0xff) << 24 | (b[p + 1] & 0xff) << 16 | (b[p + 2] & 0xff) << 8 | (b[p + 3] & 0xff);
    }
}
