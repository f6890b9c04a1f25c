package org.jv2v.registry;

import org.jv2v.BadInputException;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Hives made at test time by hivexregedit (from .reg text, merged into a minimal hive) and by
 * chntpw's reged (which writes big-data "db" values and "lf" lists), read by jv2v and compared
 * with hivexregedit --export, hivexget and hivexml. hivex writes only "lh" lists, so the "ri"/"li"
 * forms are made by rewriting a hivex hive; hivex's export of the rewritten hive must not change.
 */
class HiveTest {
    @TempDir
    static Path tmp;
    static Path hivex;       // made by hivexregedit
    static Path chntpw;      // made by reged
    static Path indexed;     // hivex's hive with \Many's list rewritten as ri -> [li, lh], and a class name
    static final int MANY = 1500;
    static final byte[] BIG = new byte[20_000];
    static final byte[] BIGGER = new byte[40_000];

    /** One value as the .reg export shows it: type and data. */
    record Val(int type, String hex) {}

    @BeforeAll
    static void build() throws Exception {
        Tools.require("hivexregedit", "hivexget", "hivexml", "hivexsh", "reged");
        for (int i = 0; i < BIG.length; i++) {
            BIG[i] = (byte) (i * 7 + i / 256);
        }
        for (int i = 0; i < BIGGER.length; i++) {
            BIGGER[i] = (byte) (i * 13 + i / 100);
        }
        hivex = tmp.resolve("hivex.hive");
        Files.write(hivex, EmptyHive.bytes());
        Path reg = tmp.resolve("rich.reg");
        Files.writeString(reg, richReg(), StandardCharsets.UTF_8);
        Tools.run("hivexregedit", "--merge", hivex.toString(), reg.toString());

        chntpw = tmp.resolve("chntpw.hive");
        Files.write(chntpw, EmptyHive.bytes());
        Path reg2 = tmp.resolve("chntpw.reg");
        StringBuilder r = new StringBuilder("Windows Registry Editor Version 5.00\r\n\r\n");
        r.append("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Big]\r\n\"bigger\"=hex:").append(hexList(BIGGER)).append("\r\n");
        r.append("\"text\"=\"plain text by reged\"\r\n\"num\"=dword:0000002a\r\n\r\n");
        r.append("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Listf]\r\n\r\n");
        for (int i = 0; i < 40; i++) {
            r.append("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Listf\\sub").append(i).append("]\r\n\r\n");
        }
        Files.writeString(reg2, r.toString(), StandardCharsets.ISO_8859_1);
        // reged exits 2 after expanding the file, even when all went well: the export below is the proof.
        Run.run(List.of("reged", "-I", "-C", chntpw.toString(), "HKEY_LOCAL_MACHINE\\SOFTWARE", reg2.toString()));

        indexed = tmp.resolve("indexed.hive");
        Files.write(indexed, HiveSurgery.splitIntoRiAndAddClass(Files.readAllBytes(hivex), "\\Many", "\\Types", "MyClass"));
    }

    static String richReg() {
        StringBuilder r = new StringBuilder("Windows Registry Editor Version 5.00\r\n\r\n");
        r.append("[\\Types]\r\n");
        r.append("@=hex(1):").append(utf16z("default value")).append("\r\n");
        r.append("\"sz\"=hex(1):").append(utf16z("C:\\Windows")).append("\r\n");
        r.append("\"sz-no-nul\"=hex(1):").append(hexList("abc".getBytes(StandardCharsets.UTF_16LE))).append("\r\n");
        r.append("\"expand\"=hex(2):").append(utf16z("%SystemRoot%\\system32")).append("\r\n");
        r.append("\"multi\"=hex(7):").append(utf16z("one\0two\0")).append("\r\n");
        r.append("\"dword\"=dword:12345678\r\n");
        r.append("\"dword0\"=dword:00000000\r\n");
        r.append("\"dwbe\"=hex(5):12,34,56,78\r\n");
        r.append("\"qword\"=hex(b):01,02,03,04,05,06,07,88\r\n");
        r.append("\"bin-inline\"=hex(3):01,02,03\r\n");
        r.append("\"bin-4\"=hex(3):01,02,03,04\r\n");
        r.append("\"bin-5\"=hex(3):01,02,03,04,05\r\n");
        r.append("\"empty\"=hex(3):\r\n");
        r.append("\"none\"=hex(0):de,ad\r\n");
        r.append("\"link\"=hex(6):").append(hexList("\\Registry\\Machine\\System\\ControlSet001".getBytes(StandardCharsets.UTF_16LE))).append("\r\n");
        r.append("\"res\"=hex(8):01,00,00,00\r\n");
        r.append("\"frd\"=hex(9):02,00,00,00,05\r\n");
        r.append("\"rrl\"=hex(a):03,00,00,00,06,07\r\n");
        r.append("\"custom\"=hex(1234):ff,ee\r\n");
        r.append("\"Ünïcödé value\"=hex(1):").append(utf16z("latin-1 name")).append("\r\n");
        r.append("\"ключ\"=hex(1):").append(utf16z("значение")).append("\r\n\r\n");
        r.append("[\\Ünïcödé]\r\n\r\n");
        r.append("[\\名前 ключ]\r\n\"x\"=dword:00000001\r\n\r\n");
        for (String k : List.of("\\ControlSet001", "\\ControlSet001\\Services", "\\ControlSet001\\Services\\viostor",
                "\\Select", "\\Microsoft", "\\Microsoft\\Windows NT", "\\Microsoft\\Windows NT\\CurrentVersion", "\\Big", "\\Many")) {
            r.append("[").append(k).append("]\r\n");
            switch (k) {
                case "\\ControlSet001\\Services\\viostor" -> r.append("\"Start\"=dword:00000000\r\n\"ImagePath\"=hex(2):")
                        .append(utf16z("system32\\drivers\\viostor.sys")).append("\r\n");
                case "\\Select" -> r.append("\"Current\"=dword:00000001\r\n");
                case "\\Microsoft\\Windows NT\\CurrentVersion" -> r.append("\"ProductName\"=hex(1):")
                        .append(utf16z("Windows Server 2019 Standard")).append("\r\n\"CurrentMajorVersionNumber\"=dword:0000000a\r\n");
                case "\\Big" -> r.append("\"big\"=hex(3):").append(hexList(BIG)).append("\r\n");
                default -> { }
            }
            r.append("\r\n");
        }
        for (int i = 0; i < MANY; i++) {
            r.append(String.format("[\\Many\\k%04d]\r\n", i));
            if (i % 100 == 0) {
                r.append("\"n\"=dword:").append(String.format("%08x", i)).append("\r\n");
            }
            r.append("\r\n");
        }
        return r.toString();
    }

    static String utf16z(String s) {
        return hexList((s + "\0").getBytes(StandardCharsets.UTF_16LE));
    }

    static String hexList(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < b.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.toString();
    }

    /** hivexregedit --export as key path -> value name ("" = default) -> value. */
    static Map<String, Map<String, Val>> export(Path hive) throws Exception {
        String out = Exec.text("hivexregedit", "--export", hive.toString(), "\\");
        Map<String, Map<String, Val>> keys = new TreeMap<>();
        Map<String, Val> cur = null;
        for (String line : out.split("\r?\n")) {
            if (line.startsWith("[")) {
                cur = new TreeMap<>();
                keys.put(line.substring(1, line.length() - 1), cur);
            } else if (line.startsWith("@=") || line.startsWith("\"")) {
                String name;
                int rest;
                if (line.startsWith("@=")) {
                    name = "";
                    rest = 2;
                } else {
                    StringBuilder sb = new StringBuilder();
                    int i = 1;
                    for (; line.charAt(i) != '"'; i++) {
                        if (line.charAt(i) == '\\') {
                            i++;
                        }
                        sb.append(line.charAt(i));
                    }
                    name = sb.toString();
                    rest = i + 2;
                }
                cur.put(name, parseData(line.substring(rest)));
            }
        }
        return keys;
    }

    private static Val parseData(String d) {
        if (d.startsWith("dword:")) {
            int v = (int) Long.parseLong(d.substring(6), 16);
            return new Val(4, HexFormat.of().formatHex(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()));
        }
        int colon = d.indexOf(':');
        String head = d.substring(0, colon);
        int type = head.equals("hex") ? 3 : Integer.parseInt(head.substring(4, head.length() - 1), 16);
        return new Val(type, d.substring(colon + 1).replace(",", ""));
    }

    /** jv2v's view in the same shape. */
    static Map<String, Map<String, Val>> read(Hive h) throws IOException {
        Map<String, Map<String, Val>> keys = new TreeMap<>();
        h.walk(k -> {
            Map<String, Val> vals = new TreeMap<>();
            for (RegistryValue v : k.values()) {
                vals.put(v.name(), new Val(v.typeCode(), HexFormat.of().formatHex(v.data())));
            }
            keys.put(k.path(), vals);
        });
        return keys;
    }

    // ---- tests ---------------------------------------------------------------------------------

    @Test
    void everyKeyAndValueMatchesHivexExport() throws Exception {
        Map<String, Map<String, Val>> want = export(hivex);
        assertThat(want).hasSizeGreaterThan(MANY);
        String before = Checksums.sha256(hivex);
        Hive h = Hive.open(hivex);
        assertThat(read(h)).isEqualTo(want);
        assertThat(Checksums.sha256(hivex)).as("source untouched").isEqualTo(before);
        assertThat(h.dirty()).isFalse();
        assertThat(h.version()).isEqualTo("1.5");
        assertThat(h.root().name()).isEqualTo("ROOT");
        // the big value sits in a single cell here (hivex never writes "db")
        assertThat(h.key("\\Big").orElseThrow().value("big").orElseThrow().data()).isEqualTo(BIG);
    }

    @Test
    void typedAccessorsAgreeWithHivexget() throws Exception {
        Hive h = Hive.open(hivex);
        RegistryKey cv = h.key("\\Microsoft\\Windows NT\\CurrentVersion").orElseThrow();
        assertThat(cv.value("ProductName").orElseThrow().asString())
                .isEqualTo(hivexget(hivex, "\\Microsoft\\Windows NT\\CurrentVersion", "ProductName"))
                .isEqualTo("Windows Server 2019 Standard");
        assertThat(cv.value("currentmajorversionnumber").orElseThrow().asNumber()).isEqualTo(10);
        RegistryKey t = h.key("types").orElseThrow();
        assertThat(t.value("").orElseThrow().asString()).isEqualTo("default value");
        assertThat(t.value("sz").orElseThrow().asString()).isEqualTo(hivexget(hivex, "\\Types", "sz")).isEqualTo("C:\\Windows");
        assertThat(t.value("sz-no-nul").orElseThrow().asString()).isEqualTo("abc");
        assertThat(t.value("expand").orElseThrow().type()).isEqualTo(ValueType.EXPAND_SZ);
        assertThat(t.value("expand").orElseThrow().asString()).isEqualTo("%SystemRoot%\\system32");
        assertThat(t.value("multi").orElseThrow().asStrings()).containsExactly("one", "two");
        assertThat(t.value("dword").orElseThrow().asNumber()).isEqualTo(Long.parseLong(hivexget(hivex, "\\Types", "dword")))
                .isEqualTo(0x12345678L);
        assertThat(t.value("dwbe").orElseThrow().asNumber()).isEqualTo(0x12345678L);
        assertThat(t.value("dwbe").orElseThrow().type()).isEqualTo(ValueType.DWORD_BIG_ENDIAN);
        assertThat(t.value("qword").orElseThrow().asNumber()).isEqualTo(0x8807060504030201L);
        assertThat(t.value("link").orElseThrow().asString()).isEqualTo("\\Registry\\Machine\\System\\ControlSet001");
        assertThat(t.value("res").orElseThrow().type()).isEqualTo(ValueType.RESOURCE_LIST);
        assertThat(t.value("frd").orElseThrow().type()).isEqualTo(ValueType.FULL_RESOURCE_DESCRIPTOR);
        assertThat(t.value("rrl").orElseThrow().type()).isEqualTo(ValueType.RESOURCE_REQUIREMENTS_LIST);
        assertThat(t.value("none").orElseThrow().type()).isEqualTo(ValueType.NONE);
        assertThat(t.value("custom").orElseThrow().type()).isEqualTo(ValueType.UNKNOWN);
        assertThat(t.value("custom").orElseThrow().typeCode()).isEqualTo(0x1234);
        assertThat(t.value("ключ").orElseThrow().asString()).isEqualTo("значение");
        assertThat(t.value("ÜNÏCÖDÉ VALUE").orElseThrow().asString()).isEqualTo("latin-1 name");
        assertThatThrownBy(() -> t.value("dword").orElseThrow().asString())
                .isInstanceOf(BadInputException.class).hasMessageContaining("\\Types").hasMessageContaining("DWORD");
        assertThat(h.currentControlSet().orElseThrow().path()).isEqualTo("\\ControlSet001");
        assertThat(Hive.open(chntpw).currentControlSet()).isEmpty();
        // case-insensitive paths
        assertThat(h.key("\\CONTROLSET001\\services\\VioStor").orElseThrow().value("Start").orElseThrow().asNumber()).isZero();
        assertThat(h.key("\\nope")).isEmpty();
    }

    private static String hivexget(Path hive, String key, String value) throws Exception {
        return Exec.text("hivexget", hive.toString(), key, value).strip();
    }

    @Test
    void namesAreLatin1OrUtf16AsStored() throws Exception {
        Hive h = Hive.open(hivex);
        RegistryKey latin = h.key("\\ünïcödé").orElseThrow();
        RegistryKey wide = h.key("\\名前 КЛЮЧ").orElseThrow();
        assertThat(latin.name()).isEqualTo("Ünïcödé");
        assertThat(wide.name()).isEqualTo("名前 ключ");
        // hivex stores a name that fits Latin-1 "compressed" (one byte a character), others as UTF-16
        assertThat(NkCell.read(h.cells, latin.cellOffset(), 0).flags() & NkCell.KEY_COMP_NAME).isNotZero();
        assertThat(NkCell.read(h.cells, wide.cellOffset(), 0).flags() & NkCell.KEY_COMP_NAME).isZero();
    }

    @Test
    void lastWrittenTimesMatchHivexml() throws Exception {
        String xml = Exec.text("hivexml", hivex.toString());
        Hive h = Hive.open(hivex);
        // hivexml prints the hive's and each node's time to the second; the root's comes from the template
        assertThat(xml).contains("<mtime>2020-01-02T03:04:05Z</mtime><node name=\"ROOT\" root=\"1\"><mtime>2020-01-02T03:04:05Z</mtime>");
        assertThat(h.root().lastWritten()).isEqualTo(Instant.parse("2020-01-02T03:04:05.1234567Z"));
        assertThat(h.lastWritten()).isEqualTo(Instant.parse("2020-01-02T03:04:05.1234567Z"));
        int nodes = xml.split("<node ").length - 1;
        int[] count = {0};
        h.walk(k -> {
            count[0]++;
            assertThat(xml).contains("<node name=\"" + k.name().replace("&", "&amp;") + "\"" + (k.path().equals("\\") ? " root=\"1\"" : "")
                    + "><mtime>" + k.lastWritten().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "</mtime>");
        });
        assertThat(count[0]).isEqualTo(nodes);
    }

    @Test
    void bigDataAndLfListsFromChntpw() throws Exception {
        Map<String, Map<String, Val>> want = export(chntpw);
        Hive h = Hive.open(chntpw);
        assertThat(read(h)).isEqualTo(want);
        RegistryValue bigger = h.key("\\Big").orElseThrow().value("bigger").orElseThrow();
        assertThat(bigger.data()).isEqualTo(BIGGER);
        // reged stored it as big data: the value's cell is a "db" with 3 segments
        var bigKey = h.key("\\Big").orElseThrow();
        assertThat(bigger.type()).isEqualTo(ValueType.BINARY);
        assertThat(HiveSurgery.valueDataSignature(Files.readAllBytes(chntpw), bigKey.cellOffset(), "bigger")).isEqualTo("db");
        assertThat(HiveSurgery.listSignature(Files.readAllBytes(chntpw), h.key("\\Listf").orElseThrow().cellOffset())).isEqualTo("lf");
        assertThat(h.key("\\Listf").orElseThrow().subkeys()).hasSize(40);
        assertThat(h.key("\\Big").orElseThrow().value("text").orElseThrow().asString()).isEqualTo("plain text by reged");
        assertThat(h.key("\\Big").orElseThrow().value("num").orElseThrow().asNumber()).isEqualTo(42);
    }

    @Test
    void riAndLiListsAndClassNames() throws Exception {
        // hivex reads the rewritten hive exactly as the original: the rewrite is sound
        Map<String, Map<String, Val>> want = export(hivex);
        assertThat(export(indexed)).isEqualTo(want);
        Hive h = Hive.open(indexed);
        assertThat(read(h)).isEqualTo(want);
        RegistryKey many = h.key("\\Many").orElseThrow();
        assertThat(HiveSurgery.listSignature(Files.readAllBytes(indexed), many.cellOffset())).isEqualTo("ri");
        assertThat(many.subkeys()).hasSize(MANY);
        assertThat(many.subkeys().get(0).name()).isEqualTo("k0000");
        assertThat(many.subkeys().get(MANY - 1).name()).isEqualTo(String.format("k%04d", MANY - 1));
        assertThat(h.key("\\Many\\K1499").orElseThrow().path()).isEqualTo("\\Many\\k1499");
        assertThat(h.key("\\Types").orElseThrow().className()).contains("MyClass");
        assertThat(h.key("\\Many").orElseThrow().className()).isEmpty();
    }

    @Test
    void dirtyHiveIsReported() throws Exception {
        byte[] b = Files.readAllBytes(hivex);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(0x04, bb.getInt(0x08) + 1);
        HiveSurgery.fixChecksum(b);
        Path dirty = tmp.resolve("dirty.hive");
        Files.write(dirty, b);
        Run.Result r = Run.run(List.of("hivexsh", "-d", dirty.toString()));
        assertThat(r.all()).containsPattern("sequence nos\\s+(\\d+) (?!\\1)\\d+");
        Hive h = Hive.open(dirty);
        assertThat(h.dirty()).isTrue();
        assertThat(read(h)).isEqualTo(export(hivex));
    }

    @Test
    void hiveInsideAnNtfsVolume() throws Exception {
        Tools.require("mkntfs", "ntfscp");
        Path img = tmp.resolve("ntfs.img");
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(img.toFile(), "rw")) {
            raf.setLength(32L << 20);
        }
        Tools.run("mkntfs", "-F", "-Q", "-q", img.toString());
        Tools.run("ntfscp", "-q", img.toString(), hivex.toString(), "/SOFTWARE");
        try (var fs = org.jv2v.fs.ntfs.NtfsFileSystem.open(org.jv2v.testing.FileDevice.open(img))) {
            Hive h = Hive.open(fs, "/software");
            assertThat(h.name()).isEqualTo("ntfs:/software");
            assertThat(read(h)).isEqualTo(export(hivex));
            assertThat(h.key("\\Microsoft\\Windows NT\\CurrentVersion").flatMap(k -> k.value("ProductName"))
                    .map(RegistryValue::asString)).contains("Windows Server 2019 Standard");
        }
    }

    // ---- corrupt hives -----------------------------------------------------------------------

    private static Path corrupt(String name, java.util.function.Consumer<ByteBuffer> edit, boolean fixChecksum) throws IOException {
        byte[] b = Files.readAllBytes(hivex);
        edit.accept(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
        if (fixChecksum) {
            HiveSurgery.fixChecksum(b);
        }
        Path p = tmp.resolve(name + ".hive");
        Files.write(p, b);
        return p;
    }

    private static int keyCell(String path) throws IOException {
        return Hive.open(hivex).key(path).orElseThrow().cellOffset();
    }

    @Test
    void badChecksumIsRefusedLikeHivexDoes() throws Exception {
        Path p = corrupt("checksum", b -> b.put(0x30, (byte) 'X'), false);
        assertThat(Run.run(List.of("hivexsh", p.toString())).all()).contains("checksum");
        assertThatThrownBy(() -> Hive.open(p)).isInstanceOf(BadInputException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("checksum").hasMessageContaining("offset 0x1fc");
    }

    @Test
    void cellOffsetPastTheEndIsRefused() throws Exception {
        int types = keyCell("\\Types");
        long field = 0x1000 + types + 4 + 0x28;
        Path p = corrupt("pastend", b -> b.putInt((int) field, 0x7FFFFFF0), true);
        Hive h = Hive.open(p);
        assertThatThrownBy(() -> h.key("\\Types").orElseThrow().values()).isInstanceOf(BadInputException.class)
                .hasMessageContaining(p.toString())
                .hasMessageContaining("value list cell offset at offset 0x" + Long.toHexString(field))
                .hasMessageContaining("past the end");
    }

    @Test
    void subkeyListLoopIsAnErrorNotAHang() throws Exception {
        // \Many's first subkey entry points back at the root key
        int many = keyCell("\\Many");
        int root = Hive.open(hivex).root().cellOffset();
        byte[] raw = Files.readAllBytes(hivex);
        int list = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getInt(0x1000 + many + 4 + 0x1C);
        Path p = corrupt("loop", b -> b.putInt(0x1000 + list + 4 + 4, root), true);
        Hive h = Hive.open(p);
        assertThatThrownBy(() -> h.walk(k -> { })).isInstanceOf(BadInputException.class)
                .hasMessageContaining("loop");
        // an "ri" that lists itself
        byte[] ix = Files.readAllBytes(indexed);
        Hive hi = Hive.open(indexed);
        int ri = ByteBuffer.wrap(ix).order(ByteOrder.LITTLE_ENDIAN).getInt(0x1000 + hi.key("\\Many").orElseThrow().cellOffset() + 4 + 0x1C);
        ByteBuffer.wrap(ix).order(ByteOrder.LITTLE_ENDIAN).putInt(0x1000 + ri + 4 + 4, ri);
        Path p2 = tmp.resolve("riloop.hive");
        Files.write(p2, ix);
        assertThatThrownBy(() -> Hive.open(p2).key("\\Many").orElseThrow().subkeys()).isInstanceOf(BadInputException.class)
                .hasMessageContaining("reached twice");
    }

    @Test
    void absurdCountsAreRefusedBeforeAllocating() throws Exception {
        int types = keyCell("\\Types");
        Path values = corrupt("values", b -> b.putInt(0x1000 + types + 4 + 0x24, -1), true);
        assertThatThrownBy(() -> Hive.open(values).key("\\Types").orElseThrow().values()).isInstanceOf(BadInputException.class)
                .hasMessageContaining("4294967295 values do not fit");
        int many = keyCell("\\Many");
        Path subs = corrupt("subkeys", b -> b.putInt(0x1000 + many + 4 + 0x14, -1), true);
        assertThatThrownBy(() -> Hive.open(subs).key("\\Many").orElseThrow().subkeys()).isInstanceOf(BadInputException.class)
                .hasMessageContaining("says 4294967295");
        Path bins = corrupt("bins", b -> b.putInt(0x28, 0x7FFFF000), true);
        assertThatThrownBy(() -> Hive.open(bins)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("hive bins data size");
        int big = keyCell("\\Big");
        Path data = corrupt("datasize", b -> {
            int vlist = b.getInt(0x1000 + big + 4 + 0x28);
            int vk = b.getInt(0x1000 + vlist + 4);
            b.putInt(0x1000 + vk + 4 + 0x04, 0x7FFFFFF0);
        }, true);
        assertThatThrownBy(() -> Hive.open(data).key("\\Big").orElseThrow().values()).isInstanceOf(BadInputException.class)
                .hasMessageContaining("more than the whole hive");
    }
}
