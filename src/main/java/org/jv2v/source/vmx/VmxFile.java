package org.jv2v.source.vmx;

import org.jv2v.BadInputException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
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
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A parsed {@code .vmx} file: {@code key = "value"} lines, keys case-insensitive, values with VMware's
 * {@code |XX} escapes decoded, in the file's {@code .encoding}.
 *
 * <p>Keys form a tree on their dots ({@code ethernet0.networkName} is {@code networkName} under
 * {@code ethernet0}); {@code X.present = "FALSE"} switches off everything under {@code X}, and the
 * accessors here hide such keys. Duplicate keys keep the first value, with a warning, like VMware.
 */
final class VmxFile {
    /** Real .vmx files are a few KiB to ~100 KiB; 4 MiB is far above any VMware writes. */
    static final long MAX_FILE_BYTES = 4L << 20;
    /** ESXi VMs with every device populated have ~3000 lines; 100k leaves room without risk. */
    static final int MAX_LINES = 100_000;
    /** The longest values are annotations (vSphere limits them to 64 KiB) escaped up to 3x. */
    static final int MAX_LINE_BYTES = 256 * 1024;

    /** One {@code key = "value"} line. */
    record Entry(String key, String value, int line, boolean quoted) {}

    private final Path file;
    private final Charset charset;
    private final Map<String, Entry> entries;

    private VmxFile(Path file, Charset charset, Map<String, Entry> entries) {
        this.file = file;
        this.charset = charset;
        this.entries = entries;
    }

    Path file() {
        return file;
    }

    Charset charset() {
        return charset;
    }

    /** Reads and parses {@code file}; problems that are not fatal go to {@code warn}. */
    static VmxFile read(Path file, Consumer<String> warn) throws IOException {
        byte[] bytes;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > MAX_FILE_BYTES) {
                // read no more than the cap, to name the line where the file outgrows any real .vmx
                ByteBuffer head = ByteBuffer.allocate((int) MAX_FILE_BYTES);
                while (head.hasRemaining() && ch.read(head) >= 0) {
                    // fill
                }
                int line = 1;
                for (int i = 0; i < head.position(); i++) {
                    if (head.get(i) == '\n') {
                        line++;
                    }
                }
                throw BadInputException.atLine(file, line, "the file goes on past " + MAX_FILE_BYTES + " bytes ("
                        + size + " in all): not a VMX file VMware would write");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // read it all
            }
            bytes = buf.array();
        } catch (NoSuchFileException e) {
            throw BadInputException.inFile(file, "no such file");
        }
        return parse(file, bytes, warn);
    }

    static VmxFile parse(Path file, byte[] bytes, Consumer<String> warn) {
        checkLooksLikeText(file, bytes);
        int start = 0;
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF) {
            start = 3; // UTF-8 byte order mark, as some Windows editors add
        }
        List<int[]> lines = splitLines(file, bytes, start);
        Charset charset = detectEncoding(file, bytes, lines, warn);

        Map<String, Entry> entries = new LinkedHashMap<>();
        int unquoted = 0;
        int firstUnquoted = 0;
        for (int i = 0; i < lines.size(); i++) {
            int lineNo = i + 1;
            int[] span = lines.get(i);
            String text = decode(file, lineNo, bytes, span[0], span[1], charset);
            Entry e = parseLine(file, lineNo, text, charset);
            if (e == null) {
                continue;
            }
            if (!e.quoted()) {
                if (unquoted++ == 0) {
                    firstUnquoted = lineNo;
                }
            }
            String lower = e.key().toLowerCase(Locale.ROOT);
            Entry first = entries.putIfAbsent(lower, e);
            if (first != null) {
                warn.accept(file + ":" + lineNo + ": duplicate key '" + e.key() + "': the first value (line "
                        + first.line() + ") is kept, as VMware does");
            }
        }
        if (unquoted > 0) {
            warn.accept(file + ":" + firstUnquoted + ": " + unquoted + " value" + (unquoted == 1 ? " is" : "s are")
                    + " not in double quotes (as Packer writes them); read as written");
        }
        if (entries.isEmpty()) {
            throw BadInputException.inFile(file, "not a VMX file: it has no key = \"value\" lines");
        }
        if (!entries.containsKey("config.version") && !entries.containsKey("virtualhw.version")) {
            throw BadInputException.inFile(file, "not a VMX file: it has neither config.version nor "
                    + "virtualHW.version, which every VMware product writes");
        }
        return new VmxFile(file, charset, Collections.unmodifiableMap(entries));
    }

    /** Rejects binary files (disk images, archives) before trying to read lines. */
    private static void checkLooksLikeText(Path file, byte[] bytes) {
        if (bytes.length == 0) {
            throw BadInputException.inFile(file, "not a VMX file: the file is empty");
        }
        if (startsWith(bytes, "KDMV") || startsWith(bytes, "COWD")) {
            throw BadInputException.inFile(file, "not a VMX file: this is a VMDK disk image");
        }
        if (startsWith(bytes, "QFI\u00fb")) {
            throw BadInputException.inFile(file, "not a VMX file: this is a qcow2 disk image");
        }
        String head = new String(bytes, 0, Math.min(bytes.length, 512), StandardCharsets.ISO_8859_1);
        if (head.startsWith("# Disk DescriptorFile") || head.contains("\ncreateType=")) {
            throw BadInputException.inFile(file, "not a VMX file: this is a VMDK descriptor (give the .vmx that "
                    + "uses it, or use -i disk)");
        }
        if (head.stripLeading().startsWith("<")) {
            throw BadInputException.inFile(file, "not a VMX file: this is XML (for an OVF use -i ova, for libvirt "
                    + "XML -i libvirtxml)");
        }
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                throw BadInputException.atOffset(file, "byte", i, "not a VMX file: binary data (NUL byte)");
            }
        }
    }

    private static boolean startsWith(byte[] b, String magic) {
        if (b.length < magic.length()) {
            return false;
        }
        for (int i = 0; i < magic.length(); i++) {
            if ((b[i] & 0xff) != magic.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Line spans [start, end) without the line terminator; caps the count and length first. */
    private static List<int[]> splitLines(Path file, byte[] bytes, int start) {
        List<int[]> lines = new ArrayList<>();
        int s = start;
        for (int i = start; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == '\n') {
                if (i == bytes.length && s == i) {
                    break;
                }
                int e = i;
                if (e > s && bytes[e - 1] == '\r') {
                    e--;
                }
                if (lines.size() >= MAX_LINES) {
                    throw BadInputException.atLine(file, lines.size() + 1, "more than " + MAX_LINES
                            + " lines: not a VMX file VMware would write");
                }
                if (e - s > MAX_LINE_BYTES) {
                    throw BadInputException.atLine(file, lines.size() + 1, "line longer than " + MAX_LINE_BYTES
                            + " bytes");
                }
                lines.add(new int[] {s, e});
                s = i + 1;
            }
        }
        return lines;
    }

    /**
     * The charset named by {@code .encoding} (VMware writes it first; the line is ASCII in every
     * charset VMware uses), else UTF-8, falling back to windows-1252 for old files that are not UTF-8.
     */
    private static Charset detectEncoding(Path file, byte[] bytes, List<int[]> lines, Consumer<String> warn) {
        for (int i = 0; i < lines.size(); i++) {
            int[] span = lines.get(i);
            String ascii = new String(bytes, span[0], span[1] - span[0], StandardCharsets.ISO_8859_1).strip();
            if (!ascii.regionMatches(true, 0, ".encoding", 0, ".encoding".length())) {
                continue;
            }
            Entry e = parseLine(file, i + 1, ascii, StandardCharsets.ISO_8859_1);
            if (e == null || !e.key().equalsIgnoreCase(".encoding")) {
                continue;
            }
            String name = e.value().strip();
            try {
                return Charset.forName(name);
            } catch (IllegalCharsetNameException | UnsupportedCharsetException ex) {
                throw BadInputException.atLine(file, i + 1, ".encoding: unknown character encoding '" + name + "'");
            }
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            utf8.decode(ByteBuffer.wrap(bytes));
            return StandardCharsets.UTF_8;
        } catch (CharacterCodingException e) {
            warn.accept(file + ": no .encoding line and the file is not valid UTF-8: reading it as windows-1252");
            return Charset.forName("windows-1252");
        }
    }

    private static String decode(Path file, int line, byte[] bytes, int from, int to, Charset cs) {
        CharsetDecoder d = cs.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return d.decode(ByteBuffer.wrap(bytes, from, to - from)).toString();
        } catch (CharacterCodingException e) {
            throw BadInputException.atLine(file, line, "bytes that are not valid " + cs.name()
                    + " (the file's encoding); is the file truncated or not a VMX?");
        }
    }

    /** One line: blank, a comment, or {@code key = value}; returns null for blank lines and comments. */
    static Entry parseLine(Path file, int line, String text, Charset cs) {
        String s = text.strip();
        if (s.isEmpty() || s.startsWith("#")) {
            return null; // includes a "#!/usr/bin/vmware" first line
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 && c != '\t') {
                throw BadInputException.atLine(file, line, "control character 0x" + Integer.toHexString(c)
                        + ": not a VMX file");
            }
        }
        int eq = s.indexOf('=');
        if (eq < 0) {
            throw BadInputException.atLine(file, line, "expected key = \"value\", found no '='");
        }
        String key = s.substring(0, eq).strip();
        if (key.isEmpty()) {
            throw BadInputException.atLine(file, line, "empty key before '='");
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            // VMware keys are words joined by '.', ':' and the like, and even wildcards
            // ("pciPassthru*.present"); whitespace and quotes never appear in them.
            if (Character.isWhitespace(c) || c == '"' || Character.isISOControl(c)) {
                throw BadInputException.atLine(file, line, "invalid character '" + c + "' in key '" + key + "'");
            }
        }
        String rest = s.substring(eq + 1).strip();
        String raw;
        boolean quoted;
        if (rest.startsWith("\"")) {
            int close = rest.indexOf('"', 1);
            if (close < 0) {
                throw BadInputException.atLine(file, line, key + ": value has no closing '\"' (truncated file?)");
            }
            raw = rest.substring(1, close);
            String after = rest.substring(close + 1).strip();
            if (!after.isEmpty() && !after.startsWith("#")) {
                throw BadInputException.atLine(file, line, key + ": unexpected text after the closing '\"': '"
                        + abbreviate(after) + "'");
            }
            quoted = true;
        } else {
            int hash = rest.indexOf(" #");
            raw = (hash >= 0 ? rest.substring(0, hash) : rest).strip();
            if (raw.indexOf('"') >= 0) {
                throw BadInputException.atLine(file, line, key + ": misplaced '\"' in value");
            }
            quoted = false;
        }
        return new Entry(key, unescape(file, line, key, raw, cs), line, quoted);
    }

    /**
     * Decodes VMware's {@code |XX} escapes (XX two hex digits: a byte of the file's encoding). A
     * {@code |} not followed by two hex digits is not something VMware writes: an error.
     */
    static String unescape(Path file, int line, String key, String raw, Charset cs) {
        if (raw.indexOf('|') < 0) {
            return raw;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
        int i = 0;
        while (i < raw.length()) {
            char c = raw.charAt(i);
            if (c == '|') {
                if (i + 2 >= raw.length()) {
                    throw BadInputException.atLine(file, line, key + ": escape '|' at the end of the value "
                            + "(VMware writes |XX with two hex digits)");
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw BadInputException.atLine(file, line, key + ": invalid escape '" + raw.substring(i, i + 3)
                            + "' (VMware writes |XX with two hex digits)");
                }
                out.write(hi * 16 + lo);
                i += 3;
            } else {
                int end = i;
                while (end < raw.length() && raw.charAt(end) != '|') {
                    end++;
                }
                out.writeBytes(raw.substring(i, end).getBytes(cs));
                i = end;
            }
        }
        CharsetDecoder d = cs.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CharBuffer chars = d.decode(ByteBuffer.wrap(out.toByteArray()));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw BadInputException.atLine(file, line, key + ": escaped bytes are not valid " + cs.name());
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    // ---------------------------------------------------------------- access

    /** Whether {@code lowerKey} lies under a namespace switched off by {@code X.present = "FALSE"}. */
    boolean disabled(String lowerKey) {
        int dot = lowerKey.indexOf('.');
        while (dot > 0) {
            String ns = lowerKey.substring(0, dot);
            Entry p = entries.get(ns + ".present");
            if (p != null && isFalse(p.value()) && !lowerKey.equals(ns + ".present")) {
                return true;
            }
            dot = lowerKey.indexOf('.', dot + 1);
        }
        return false;
    }

    Optional<Entry> entry(String key) {
        String lower = key.toLowerCase(Locale.ROOT);
        Entry e = entries.get(lower);
        if (e == null || disabled(lower)) {
            return Optional.empty();
        }
        return Optional.of(e);
    }

    Optional<String> get(String key) {
        return entry(key).map(Entry::value);
    }

    boolean has(String key) {
        return entry(key).isPresent();
    }

    int line(String key) {
        return entry(key).map(Entry::line).orElse(0);
    }

    /** TRUE/FALSE (any case; also yes/no, 1/0 as VMware accepts); anything else is an error. */
    Optional<Boolean> getBool(String key) {
        Optional<Entry> e = entry(key);
        if (e.isEmpty()) {
            return Optional.empty();
        }
        String v = e.get().value().strip();
        if (isTrue(v)) {
            return Optional.of(true);
        }
        if (isFalse(v)) {
            return Optional.of(false);
        }
        throw BadInputException.atLine(file, e.get().line(), e.get().key() + ": expected TRUE or FALSE, found '"
                + abbreviate(v) + "'");
    }

    boolean isTrue(String key, boolean dflt) {
        return getBool(key).orElse(dflt);
    }

    OptionalLong getLong(String key) {
        Optional<Entry> e = entry(key);
        if (e.isEmpty()) {
            return OptionalLong.empty();
        }
        String v = e.get().value().strip();
        try {
            return OptionalLong.of(Long.parseLong(v));
        } catch (NumberFormatException ex) {
            throw BadInputException.atLine(file, e.get().line(), e.get().key() + ": expected a whole number, found '"
                    + abbreviate(v) + "'");
        }
    }

    /** The first dotted component of every live key, lower case ("scsi0:1", "ethernet0"); switched-off ones excluded. */
    TreeSet<String> namespaces() {
        TreeSet<String> out = new TreeSet<>();
        for (var e : entries.entrySet()) {
            String k = e.getKey();
            int dot = k.indexOf('.');
            if (dot > 0 && !disabled(k) && !(k.equals(k.substring(0, dot) + ".present") && isFalse(e.getValue().value()))) {
                out.add(k.substring(0, dot));
            }
        }
        return out;
    }

    static boolean isTrue(String v) {
        String s = v.strip();
        return s.equalsIgnoreCase("true") || s.equalsIgnoreCase("yes") || s.equals("1");
    }

    static boolean isFalse(String v) {
        String s = v.strip();
        return s.equalsIgnoreCase("false") || s.equalsIgnoreCase("no") || s.equals("0");
    }
}
