package org.jv2v.cli;

import org.jv2v.copy.Copier;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jv2v.cli.ImageCommandTest.jv2v;

/**
 * Issue 3's malicious and broken images, given to {@code jv2v image convert} as a user would: each
 * is refused with exit status 1 and ONE line naming the file, the field and its offset (or the
 * descriptor's line), no stack trace, no target or .part file left, and the source unchanged. (The
 * readers' own tests go through many more damages; this proves what reaches the user.)
 */
class ImageConvertBadInputTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    /**
     * A damage: how to make the image in {@code src}, and what the message must contain besides
     * "jv2v: error: FILE" where FILE is the image named {@code blamed} (relative to {@code src}).
     */
    record Damage(String name, Maker maker, String blamed, List<String> parts) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Maker {
        Path make(Path src) throws Exception;
    }

    static List<Damage> damages() {
        return List.of(
                new Damage("vmdk grain table entry pointing past the end of the file", src -> {
                    Path v = sparseVmdk(src, "gte.vmdk", "monolithicSparse");
                    putLe32(v, gteOffset(v, 17), 0x7ffffff0);
                    return v;
                }, "gte.vmdk", List.of("grain table entry 17", "at offset 0x", "past the end of the file")),
                new Damage("qcow2 virtual size of 2^40 bytes with a one-entry L1 table", src -> {
                    Path q = qcow2(src, "huge.qcow2");
                    putBe64(q, 0x18, 1L << 40);
                    return q;
                }, "huge.qcow2", List.of("at offset 0x")),
                new Damage("qcow2 l1_size of 2^32-1 entries", src -> {
                    Path q = qcow2(src, "l1.qcow2");
                    putBe32(q, 0x24, 0xffff_ffff);
                    return q;
                }, "l1.qcow2", List.of("l1_size at offset 0x24")),
                new Damage("vmdk extent path ../../etc/shadow", src -> {
                    return flatDescriptor(src.resolve("escape.vmdk"), "../../etc/shadow");
                }, "escape.vmdk", List.of("../../etc/shadow", "line 8", "outside")),
                new Damage("vmdk extent named plainly but a symbolic link out of the folder", src -> {
                    Path secret = outsideFile(src);
                    Files.createSymbolicLink(src.resolve("disk-flat.vmdk"), secret);
                    return flatDescriptor(src.resolve("link.vmdk"), "disk-flat.vmdk");
                }, "link.vmdk", List.of("'disk-flat.vmdk'", "line 8", "outside the allowed folders")),
                new Damage("qcow2 backing file named plainly but a symbolic link out of the folder", src -> {
                    Path secret = outsideFile(src);
                    Files.createSymbolicLink(src.resolve("base.raw"), secret);
                    Path top = src.resolve("top.qcow2");
                    Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", top.toString());
                    return top;
                }, "top.qcow2", List.of("'base.raw'", "outside the allowed folders")),
                new Damage("qcow2 backing file loop", src -> {
                    Path a = src.resolve("a.qcow2");
                    Path b = src.resolve("b.qcow2");
                    QemuImg.create(a, "qcow2", MIB);
                    Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b.toString());
                    Tools.run("qemu-img", "rebase", "-u", "-b", "b.qcow2", "-F", "qcow2", a.toString());
                    return b;
                }, "", List.of("backing file loop")),
                new Damage("vmdk snapshot chain looping back to itself", src -> {
                    Path base = sparseVmdk(src, "base.vmdk", "monolithicSparse");
                    Path top = src.resolve("top.vmdk");
                    Tools.run("qemu-img", "create", "-q", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", top.toString());
                    // base's embedded descriptor now names top as its parent
                    replaceInFile(base, "parentCID=ffffffff", "parentCID=00000000");
                    replaceInFile(base, "createType=\"monolithicSparse\"",
                            "parentFileNameHint=\"top.vmdk\"\ncreateType=\"monolithicSparse\"");
                    return top;
                }, "base.vmdk", List.of("embedded descriptor line", "at offset 0x", "parent 'top.vmdk'",
                        "backing file loop")),
                new Damage("truncated qcow2 (its last data cluster cut off)", src -> {
                    Path q = qcow2(src, "cut.qcow2");
                    try (FileChannel ch = FileChannel.open(q, StandardOpenOption.WRITE)) {
                        ch.truncate(ch.size() - 64 * 1024);
                    }
                    return q;
                }, "cut.qcow2", List.of("at offset 0x", "past the end of the file")),
                new Damage("truncated monolithicSparse vmdk", src -> {
                    Path v = sparseVmdk(src, "cut.vmdk", "monolithicSparse");
                    try (FileChannel ch = FileChannel.open(v, StandardOpenOption.WRITE)) {
                        ch.truncate(ch.size() - 64 * 1024);
                    }
                    return v;
                }, "cut.vmdk", List.of("at offset 0x")),
                new Damage("streamOptimized grain of length zero", src -> {
                    Path v = sparseVmdk(src, "zero.vmdk", "streamOptimized");
                    long marker = Integer.toUnsignedLong(getLe32(v, gteOffset(v, 17))) * 512;
                    putLe32(v, marker + 8, 0);
                    return v;
                }, "zero.vmdk", List.of("grain marker size at offset 0x", "compressed size 0")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("damages")
    void isRefusedInOneLineNamingFileFieldAndOffset(Damage d) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path image = d.maker().make(src);
        Map<String, String> before = Checksums.of(src);
        for (String format : List.of("raw", "qcow2")) {
            Path dst = dir.resolve("out." + format);
            ImageCommandTest.Out o = jv2v("image", "convert", "-O", format, image.toString(), dst.toString());
            assertThat(o.code()).as(o.stderr()).isEqualTo(Main.EXIT_ERROR);
            String err = o.stderr();
            assertThat(err).as("one line").hasLineCount(1).endsWith("\n");
            assertThat(err).startsWith("jv2v: error: " + (d.blamed().isEmpty() ? src : src.resolve(d.blamed())))
                    .doesNotContain("\tat ", "Exception");
            for (String p : d.parts()) {
                assertThat(err).contains(p);
            }
            assertThat(Files.exists(dst)).isFalse();
            assertThat(Files.exists(Copier.partFile(dst))).as("no .part left").isFalse();
            assertThat(Files.exists(Copier.journalFile(dst))).isFalse();
        }
        assertThat(Checksums.of(src)).as("the source files are unchanged").isEqualTo(before);
    }

    /** A monolithicFlat descriptor whose one extent (line 8) is {@code extent}. */
    private static Path flatDescriptor(Path descriptor, String extent) throws IOException {
        Files.writeString(descriptor, """
                # Disk DescriptorFile
                version=1
                CID=fffffffe
                parentCID=ffffffff
                createType="monolithicFlat"

                # Extent description
                RW 2048 FLAT "%s" 0
                """.formatted(extent));
        return descriptor;
    }

    /** A 1 MiB file beside {@code src}, not in it: what a symbolic link inside must not reach. */
    static Path outsideFile(Path src) throws IOException {
        Path outside = Files.createDirectories(src.getParent().resolve("outside"));
        return Files.write(outside.resolve("secret.bin"), new byte[MIB]);
    }

    /** 4 MiB, data in the first 2 MiB (grains 0-31) and at 3 MiB. */
    static Path sparseVmdk(Path src, String name, String subformat) throws Exception {
        Path raw = src.getParent().resolve(name + ".raw");
        QemuImg.create(raw, "raw", 4L * MIB);
        QemuImg.io(raw, "raw", List.of("write -P 0x5c 0 2M", "write -P 0x5d 3M 64k"));
        Path v = src.resolve(name);
        Tools.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=" + subformat,
                raw.toString(), v.toString());
        Files.delete(raw);
        return v;
    }

    static Path qcow2(Path src, String name) throws Exception {
        Path q = src.resolve(name);
        QemuImg.create(q, "qcow2", 4L * MIB);
        QemuImg.io(q, "qcow2", List.of("write -P 0x6c 0 256k", "write -P 0x6d 3M 64k"));
        return q;
    }

    /** File offset of the grain table entry of {@code grain} (hosted sparse header: 0x38 gdOffset, 512 GTEs/table). */
    static long gteOffset(Path vmdk, long grain) throws IOException {
        long gd = getLe64(vmdk, 0x38) * 512;
        long gt = Integer.toUnsignedLong(getLe32(vmdk, gd + (grain / 512) * 4)) * 512;
        return gt + (grain % 512) * 4;
    }

    private static ByteBuffer read(Path f, long at, int n, ByteOrder order) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(n).order(order);
            ch.read(b, at);
            return b.flip();
        }
    }

    private static void write(Path f, long at, ByteBuffer b) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(b.flip(), at);
        }
    }

    static long getLe64(Path f, long at) throws IOException {
        return read(f, at, 8, ByteOrder.LITTLE_ENDIAN).getLong();
    }

    static int getLe32(Path f, long at) throws IOException {
        return read(f, at, 4, ByteOrder.LITTLE_ENDIAN).getInt();
    }

    static void putLe32(Path f, long at, int v) throws IOException {
        write(f, at, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v));
    }

    static void putBe32(Path f, long at, int v) throws IOException {
        write(f, at, ByteBuffer.allocate(4).putInt(v));
    }

    static void putBe64(Path f, long at, long v) throws IOException {
        write(f, at, ByteBuffer.allocate(8).putLong(v));
    }

    /** Replaces text in a file in place, keeping its length (an embedded descriptor has a fixed area). */
    static void replaceInFile(Path f, String from, String to) throws IOException {
        byte[] all = Files.readAllBytes(f);
        String s = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = s.indexOf(from);
        assertThat(at).as(from + " in " + f).isNotNegative();
        byte[] repl = to.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        // the descriptor area is padded with zeros: shifting its tail right by the growth stays inside it
        int grow = repl.length - from.length();
        int end = s.indexOf('\0', at);
        byte[] out = all.clone();
        System.arraycopy(all, at + from.length(), out, at + repl.length, end - at - from.length());
        System.arraycopy(repl, 0, out, at, repl.length);
        assertThat(grow).isNotNegative();
        Files.write(f, out);
    }
}
