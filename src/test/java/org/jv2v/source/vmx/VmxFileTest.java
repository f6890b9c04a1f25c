package org.jv2v.source.vmx;

import org.jv2v.BadInputException;
import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The VMX syntax and its quirks, one at a time. */
class VmxFileTest {
    private static final Path FILE = Path.of("/vms/g/g.vmx");
    private final List<String> warnings = new ArrayList<>();

    private VmxFile parse(String text) {
        return parse(text.getBytes(StandardCharsets.UTF_8));
    }

    private VmxFile parse(byte[] bytes) {
        return VmxFile.parse(FILE, bytes, warnings::add);
    }

    private static final String HEAD = "config.version = \"8\"\nvirtualHW.version = \"19\"\n";

    @Test
    void keysAreCaseInsensitiveAndValuesKeepTheirCase() {
        VmxFile v = parse(HEAD + "DisplayName = \"My VM\"\nSCSI0:0.FILENAME = \"Disk.VMDK\"\n");
        assertThat(v.get("displayname")).contains("My VM");
        assertThat(v.get("scsi0:0.fileName")).contains("Disk.VMDK");
        assertThat(v.entry("scsi0:0.filename").get().key()).isEqualTo("SCSI0:0.FILENAME");
        assertThat(warnings).isEmpty();
    }

    @Test
    void escapesAreDecoded() {
        VmxFile v = parse(HEAD + "annotation = \"a |7Cpipe|7C and |22quotes|22|0Anew line\"\n");
        assertThat(v.get("annotation")).contains("a |pipe| and \"quotes\"\nnew line");
    }

    @Test
    void escapedNonAsciiBytesAreInTheFileEncoding() {
        // "é" in UTF-8 is C3 A9; VMware may escape both bytes
        VmxFile v = parse(".encoding = \"UTF-8\"\n" + HEAD + "displayName = \"caf|C3|A9\"\n");
        assertThat(v.get("displayName")).contains("café");
    }

    @Test
    void commentsBlankLinesAndHashBangAreSkipped() {
        VmxFile v = parse("#!/usr/bin/vmware\n\n# a comment\n" + HEAD + "   # indented comment\n"
                + "memsize = \"1024\"  # trailing comment\n");
        assertThat(v.getLong("memsize")).hasValue(1024);
    }

    @Test
    void windows1252EncodingIsHonoured() {
        byte[] bytes = (".encoding = \"windows-1252\"\n" + HEAD + "displayName = \"Caf\u00e9 \u20ac\"\n")
                .getBytes(Charset.forName("windows-1252"));
        VmxFile v = parse(bytes);
        assertThat(v.get("displayName")).contains("Café €");
        assertThat(v.charset().name()).isEqualTo("windows-1252");
    }

    @Test
    void shiftJisEncodingIsHonoured() {
        // 表 is 0x95 0x5C in Shift_JIS: its trail byte is a backslash in ASCII
        byte[] bytes = (".encoding = \"Shift_JIS\"\n" + HEAD + "displayName = \"仮想マシン表\"\n")
                .getBytes(Charset.forName("Shift_JIS"));
        VmxFile v = parse(bytes);
        assertThat(v.get("displayName")).contains("仮想マシン表");
    }

    @Test
    void fileWithoutEncodingThatIsNotUtf8IsReadAsWindows1252WithAWarning() {
        byte[] bytes = (HEAD + "displayName = \"Caf\u00e9\"\n").getBytes(StandardCharsets.ISO_8859_1);
        VmxFile v = parse(bytes);
        assertThat(v.get("displayName")).contains("Café");
        assertThat(warnings).singleElement().asString().contains("windows-1252");
    }

    @Test
    void unknownEncodingIsAnErrorAtItsLine() {
        assertThatThrownBy(() -> parse(".encoding = \"klingon-8\"\n" + HEAD))
                .isInstanceOf(BadInputException.class)
                .hasMessage(FILE + ":1: .encoding: unknown character encoding 'klingon-8'");
    }

    @Test
    void duplicateKeysKeepTheFirstValueWithAWarning() {
        VmxFile v = parse(HEAD + "memsize = \"1024\"\nMemSize = \"2048\"\n");
        assertThat(v.getLong("memsize")).hasValue(1024);
        assertThat(warnings).singleElement().asString()
                .isEqualTo(FILE + ":4: duplicate key 'MemSize': the first value (line 3) is kept, as VMware does");
    }

    @Test
    void presentFalseSwitchesOffTheSubtree() {
        VmxFile v = parse(HEAD + "ethernet0.present = \"FALSE\"\nethernet0.networkName = \"VM Network\"\n"
                + "ethernet0.dvs.switchId = \"x\"\nethernet1.present = \"TRUE\"\nethernet1.networkName = \"LAN\"\n"
                + "sound.present = \"false\"\nsound.virtualDev = \"hdaudio\"\n");
        assertThat(v.get("ethernet0.networkName")).isEmpty();
        assertThat(v.get("ethernet0.dvs.switchId")).isEmpty();
        assertThat(v.getBool("ethernet0.present")).contains(false);
        assertThat(v.get("ethernet1.networkName")).contains("LAN");
        assertThat(v.get("sound.virtualDev")).isEmpty();
        assertThat(v.namespaces()).contains("ethernet1").doesNotContain("sound");
    }

    @Test
    void unquotedValuesAreReadWithOneWarning() {
        VmxFile v = parse(HEAD + "numvcpus = 2\nmemsize = 2048\ndisplayName = \"quoted\"\n");
        assertThat(v.getLong("numvcpus")).hasValue(2);
        assertThat(v.getLong("memsize")).hasValue(2048);
        assertThat(warnings).singleElement().asString()
                .isEqualTo(FILE + ":3: 2 values are not in double quotes (as Packer writes them); read as written");
    }

    @Test
    void crlfLineEndingsAndByteOrderMark() {
        byte[] body = (HEAD + "displayName = \"win\"\r\n").replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[body.length + 3];
        bytes[0] = (byte) 0xEF;
        bytes[1] = (byte) 0xBB;
        bytes[2] = (byte) 0xBF;
        System.arraycopy(body, 0, bytes, 3, body.length);
        assertThat(parse(bytes).get("displayName")).contains("win");
    }

    @Test
    void lineWithoutEqualsIsAnErrorNamingTheLine() {
        assertThatThrownBy(() -> parse(HEAD + "displayName \"x\"\n"))
                .isInstanceOf(BadInputException.class)
                .hasMessage(FILE + ":3: expected key = \"value\", found no '='");
    }

    @Test
    void escapeAtEndOfValueIsAnError() {
        assertThatThrownBy(() -> parse(HEAD + "annotation = \"bad |7\"\n"))
                .isInstanceOf(BadInputException.class)
                .hasMessage(FILE + ":3: annotation: escape '|' at the end of the value (VMware writes |XX with two hex digits)");
    }

    @Test
    void invalidEscapeIsAnError() {
        assertThatThrownBy(() -> parse(HEAD + "annotation = \"bad |zz here\"\n"))
                .isInstanceOf(BadInputException.class)
                .hasMessageStartingWith(FILE + ":3: annotation: invalid escape '|zz'");
    }

    @Test
    void unterminatedQuoteIsAnError() {
        assertThatThrownBy(() -> parse(HEAD + "displayName = \"trunc"))
                .isInstanceOf(BadInputException.class)
                .hasMessage(FILE + ":3: displayName: value has no closing '\"' (truncated file?)");
    }

    @Test
    void truncatedMultiByteCharacterIsAnError() {
        byte[] full = (HEAD + "displayName = \"caf\u00e9\"").getBytes(StandardCharsets.UTF_8);
        byte[] cut = java.util.Arrays.copyOf(full, full.length - 2); // inside the é
        assertThatThrownBy(() -> VmxFile.parse(FILE, prependEncoding(cut), w -> { }))
                .isInstanceOf(BadInputException.class)
                .hasMessageStartingWith(FILE + ":4: ");
    }

    private static byte[] prependEncoding(byte[] b) {
        byte[] enc = ".encoding = \"UTF-8\"\n".getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[enc.length + b.length];
        System.arraycopy(enc, 0, out, 0, enc.length);
        System.arraycopy(b, 0, out, enc.length, b.length);
        return out;
    }

    @Test
    void binaryDataIsRejected() {
        byte[] junk = new byte[600];
        new java.util.Random(42).nextBytes(junk);
        junk[10] = 0;
        assertThatThrownBy(() -> parse(junk)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("not a VMX file");
    }

    @Test
    void vmdkImagesAndDescriptorsAreRecognised() {
        assertThatThrownBy(() -> parse("KDMV\u0001\u0000\u0000\u0000".getBytes(StandardCharsets.ISO_8859_1)))
                .hasMessage(FILE + ": not a VMX file: this is a VMDK disk image");
        assertThatThrownBy(() -> parse("# Disk DescriptorFile\nversion=1\nCID=fffffffe\ncreateType=\"monolithicSparse\"\n"))
                .hasMessageStartingWith(FILE + ": not a VMX file: this is a VMDK descriptor");
    }

    @Test
    void textWithoutVmxKeysIsRejected() {
        assertThatThrownBy(() -> parse("name = \"x\"\n"))
                .hasMessageStartingWith(FILE + ": not a VMX file: it has neither config.version nor virtualHW.version");
        assertThatThrownBy(() -> parse(new byte[0])).hasMessage(FILE + ": not a VMX file: the file is empty");
    }

    @Test
    void longLinesAndManyLinesAreCappedBeforeParsing() {
        String longLine = HEAD + "annotation = \"" + "x".repeat(VmxFile.MAX_LINE_BYTES) + "\"\n";
        assertThatThrownBy(() -> parse(longLine)).hasMessage(FILE + ":3: line longer than " + VmxFile.MAX_LINE_BYTES
                + " bytes");
        String many = "\n".repeat(VmxFile.MAX_LINES + 1);
        assertThatThrownBy(() -> parse(many)).hasMessageContaining("more than " + VmxFile.MAX_LINES + " lines");
    }

    @Test
    void badBooleanAndNumberNameTheirLine() {
        VmxFile v = parse(HEAD + "memsize = \"lots\"\nethernet0.present = \"maybe\"\n");
        assertThatThrownBy(() -> v.getLong("memsize")).hasMessage(FILE + ":3: memsize: expected a whole number, found 'lots'");
        assertThatThrownBy(() -> v.getBool("ethernet0.present"))
                .hasMessage(FILE + ":4: ethernet0.present: expected TRUE or FALSE, found 'maybe'");
    }

    @Test
    void wildcardKeysFromTheWildAreAccepted() {
        assertThat(parse(HEAD + "pciPassthru*.present = \"FALSE\"\n").has("pciPassthru*.present")).isTrue();
    }
}
