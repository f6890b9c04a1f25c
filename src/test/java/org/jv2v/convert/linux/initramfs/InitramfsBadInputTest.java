package org.jv2v.convert.linux.initramfs;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jv2v.BadInputException;
import org.jv2v.testing.Tools;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Broken and hostile images, made from archives GNU cpio and the compressors wrote: each gives one
 * line naming the image, the part and the offset, and nothing unpacks past the caps.
 */
class InitramfsBadInputTest {
    @TempDir
    static Path dir;
    static byte[] cpio;
    static byte[] gz;

    @BeforeAll
    static void archives() throws Exception {
        Tools.require("cpio", "gzip", "xz", "zstd", "lz4");
        Path root = dir.resolve("root");
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/motd"), "hello from a tiny initramfs\n");
        Files.writeString(root.resolve("init"), "#!/bin/sh\n");
        InitramfsFixtures.shell("cd '" + root + "' && find . | LC_ALL=C sort | cpio --quiet -o -H newc > ../tiny.cpio");
        InitramfsFixtures.shell("gzip -n -c < '" + dir.resolve("tiny.cpio") + "' > '" + dir.resolve("tiny.cpio.gz") + "'");
        cpio = Files.readAllBytes(dir.resolve("tiny.cpio"));
        gz = Files.readAllBytes(dir.resolve("tiny.cpio.gz"));
        // The fixtures themselves are fine.
        assertThat(InitramfsImage.parse(cpio, "tiny", InitramfsLimits.DEFAULT).read("etc/motd")).isPresent();
        assertThat(InitramfsImage.parse(gz, "tiny.gz", InitramfsLimits.DEFAULT).read("etc/motd")).isPresent();
    }

    @Test
    void truncatedGzip() {
        assertBad(Arrays.copyOf(gz, gz.length - 20), "initrd.img: gzip part at offset 0x0: gzip data is truncated");
    }

    @Test
    void gzipCrcMismatch() {
        byte[] b = gz.clone();
        b[b.length - 8] ^= 0x55;
        assertBad(b, "gzip CRC32 at offset +0x");
    }

    @Test
    void nameLengthTwoToTheThirtyFirst() {
        byte[] b = cpio.clone();
        put(b, 0x5e, "80000000");
        assertBad(b, "initrd.img: uncompressed cpio archive, offset 0x5e: cpio c_namesize 2147483648 is impossible");
    }

    @Test
    void fileSizePastTheEnd() {
        byte[] b = cpio.clone();
        int motd = indexOf(b, "etc/motd") - 110;
        put(b, motd + 0x36, "7FFFFFFF");
        assertBad(b, "cpio c_filesize 2147483647 of 'etc/motd' runs past the end of the data");
    }

    @Test
    void notHex() {
        byte[] b = cpio.clone();
        put(b, 0x06, "0000XYZ1");
        assertBad(b, "offset 0x6: cpio c_ino \"0000XYZ1\" is not 8 hex digits");
    }

    @Test
    void archiveWithoutTrailer() {
        int trailer = indexOf(cpio, "TRAILER!!!") - 110;
        assertBad(Arrays.copyOf(cpio, trailer), "the cpio archive ends without its TRAILER!!! entry");
    }

    @Test
    void oldCpioFormat() throws Exception {
        InitramfsFixtures.shell("cd '" + dir.resolve("root") + "' && find . | cpio --quiet -o -H odc > ../odc.cpio");
        assertBad(Files.readAllBytes(dir.resolve("odc.cpio")), "\"070707\" is the old binary-ASCII format");
    }

    @Test
    void junkAfterTheArchive() {
        byte[] b = Arrays.copyOf(cpio, cpio.length + 8);
        Arrays.fill(b, cpio.length, b.length, (byte) 'Z');
        assertBad(b, "initrd.img: data at offset 0x" + Integer.toHexString(cpio.length)
                + " is neither a cpio archive nor a compression the kernel knows");
    }

    @Test
    void junkInsideACompressedPart() throws Exception {
        Path junk = dir.resolve("junk");
        Files.writeString(junk, "this is not a cpio archive\n".repeat(10));
        InitramfsFixtures.shell("gzip -n -c < '" + junk + "' > '" + junk + ".gz'");
        assertBad(Files.readAllBytes(Path.of(junk + ".gz")),
                "initrd.img: gzip part at offset 0x0, unpacked offset 0x0: junk after a cpio archive (byte 0x74)");
    }

    @Test
    void xzBombStopsAtTheCap() throws Exception {
        Path bomb = dir.resolve("bomb.xz");
        InitramfsFixtures.shell("head -c 64M /dev/zero | xz --check=crc32 -1 -c > '" + bomb + "'");
        byte[] b = Files.readAllBytes(bomb);
        assertThat(b.length).isLessThan(1 << 20);
        assertBadWith(b, new InitramfsLimits(1 << 30, 8 << 20, 1000),
                "initrd.img: xz part at offset 0x0: unpacks to more than 8388608 bytes");
    }

    @Test
    void gzipAndZstdBombsStopAtTheCap() throws Exception {
        for (String tool : new String[] {"gzip -n -9", "zstd -q -19"}) {
            Path bomb = dir.resolve("bomb");
            InitramfsFixtures.shell("head -c 64M /dev/zero | " + tool + " -c > '" + bomb + "'");
            byte[] b = Files.readAllBytes(bomb);
            assertThat(b.length).isLessThan(1 << 20);
            assertBadWith(b, new InitramfsLimits(1 << 30, 8 << 20, 1000),
                    "part at offset 0x0: unpacks to more than 8388608 bytes");
        }
    }

    /** "../" in a name, as GNU cpio writes it when asked to archive such a path. */
    @Test
    void dotDotInANameIsRefused() throws Exception {
        Path d = dir.resolve("dotdot/a");
        Files.createDirectories(d);
        Files.writeString(dir.resolve("dotdot/evil"), "x\n");
        InitramfsFixtures.shell("cd '" + d + "' && printf '../evil\\n' | cpio --quiet -o -H newc > ../../dotdot.cpio");
        byte[] b = Files.readAllBytes(dir.resolve("dotdot.cpio"));
        assertThat(new String(b, StandardCharsets.ISO_8859_1)).contains("../evil");
        assertBad(b, "initrd.img: uncompressed cpio archive, offset 0x6e: cpio name '../evil' has a '..' component");
        byte[] inside = cpio.clone();
        int at = indexOf(inside, "etc/motd");
        put(inside, at, "../motdx");  // as long as "etc/motd": the header stays right
        assertBad(inside, "cpio name '../motdx' has a '..' component");
    }

    @Test
    void noMagicAtAll() {
        assertBad("PK\u0003\u0004 a zip file, not an initramfs".getBytes(StandardCharsets.ISO_8859_1),
                "initrd.img: data at offset 0x0 is neither a cpio archive nor a compression the kernel knows");
    }

    @Test
    void truncatedZstd() throws Exception {
        InitramfsFixtures.shell("zstd -q -c < '" + dir.resolve("tiny.cpio") + "' > '" + dir.resolve("tiny.zst") + "'");
        byte[] z = Files.readAllBytes(dir.resolve("tiny.zst"));
        assertBad(Arrays.copyOf(z, z.length - 10), "initrd.img: zstd part at offset 0x0: zstd data is truncated");
    }

    @Test
    void lz4ChunkLargerThanTheData() throws Exception {
        InitramfsFixtures.shell("lz4 -q -l -c < '" + dir.resolve("tiny.cpio") + "' > '" + dir.resolve("tiny.lz4") + "'");
        byte[] z = Files.readAllBytes(dir.resolve("tiny.lz4"));
        z[4] = (byte) 0xff;
        z[5] = (byte) 0xff;
        assertBad(z, "initrd.img: lz4 part at offset 0x0: lz4 chunk size");
    }

    @Test
    void lzoIsRefusedByName() {
        byte[] b = {(byte) 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0};
        assertBad(b, "LZO compression is not supported by jv2v");
    }

    @Test
    void tooManyEntries() {
        assertBadWith(cpio, new InitramfsLimits(1 << 20, 1 << 20, 3), "more than 3 cpio entries");
    }

    @Test
    void imageTooLarge() {
        assertBadWith(gz, new InitramfsLimits(100, 1 << 20, 100), "an initramfs may have here");
    }

    private static void assertBad(byte[] image, String expected) {
        assertBadWith(image, InitramfsLimits.DEFAULT, expected);
    }

    private static void assertBadWith(byte[] image, InitramfsLimits limits, String expected) {
        assertThatThrownBy(() -> InitramfsImage.parse(image, "initrd.img", limits))
                .isInstanceOf(BadInputException.class)
                .hasMessageContaining(expected)
                .hasMessageStartingWith("initrd.img")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    private static void put(byte[] b, int off, String ascii) {
        byte[] s = ascii.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(s, 0, b, off, s.length);
    }

    private static int indexOf(byte[] b, String s) {
        String all = new String(b, StandardCharsets.ISO_8859_1);
        int i = all.indexOf(s);
        assertThat(i).as(s).isPositive();
        return i;
    }
}
