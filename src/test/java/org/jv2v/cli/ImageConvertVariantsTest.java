package org.jv2v.cli;

import org.jv2v.image.BlockDevice;
import org.jv2v.image.Extent;
import org.jv2v.image.Images;
import org.jv2v.image.OpenContext;
import org.jv2v.image.OpenedImage;
import org.jv2v.image.PathGuard;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.OpenFiles;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jv2v.cli.ImageCommandTest.jv2v;

/**
 * Issue 3's first proof: every disk layout qemu-img and qemu-io can make (snapshot chains included)
 * converts with {@code jv2v image convert} to raw and to qcow2, and qemu-img compare finds the copy
 * identical to the source, qemu-img check finds the qcow2 clean, and the source files are unchanged.
 * (The ESXi layouts qemu-img reads but cannot make are converted in VmdkEsxiTest.)
 */
class ImageConvertVariantsTest {
    private static final int MIB = 1 << 20;
    private static final long GIB = 1L << 30;

    @TempDir
    Path dir;

    /** A layout: how to make it in {@code src} from the common content; the format name qemu-img reads it as. */
    record Variant(String name, String format, Maker maker) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Maker {
        /** Makes the image in {@code src} (its own folder) from {@code base}, a raw file outside it; returns the file to convert. */
        Path make(Path src, Path base) throws Exception;
    }

    static List<Variant> variants() {
        List<Variant> v = new ArrayList<>();
        v.add(new Variant("raw", "raw", (src, base) -> copy(base, src.resolve("disk.img"))));
        for (String sub : List.of("monolithicSparse", "monolithicFlat", "streamOptimized")) {
            v.add(new Variant("vmdk " + sub, "vmdk", (src, base) -> convert(base, src.resolve("disk.vmdk"), "vmdk",
                    "-o", "subformat=" + sub)));
        }
        for (String sub : List.of("twoGbMaxExtentSparse", "twoGbMaxExtentFlat")) {
            v.add(new Variant("vmdk " + sub + " (4 GiB, 3 extents)", "vmdk", (src, base) -> big(src, sub)));
        }
        v.add(new Variant("vmdk vmfs (flat, as ESXi names it)", "vmdk", ImageConvertVariantsTest::vmfs));
        v.add(new Variant("vmdk multi-extent descriptor (FLAT at an offset, SPARSE)", "vmdk",
                ImageConvertVariantsTest::multiExtent));
        v.add(new Variant("vmdk hosted sparse snapshot chain (3 levels)", "vmdk", ImageConvertVariantsTest::vmdkChain));
        v.add(new Variant("qcow2 v2 (compat=0.10)", "qcow2", (src, base) -> convert(base, src.resolve("disk.qcow2"),
                "qcow2", "-o", "compat=0.10")));
        v.add(new Variant("qcow2 v3 with zero clusters and discards", "qcow2", (src, base) -> {
            Path q = convert(base, src.resolve("disk.qcow2"), "qcow2", "-o", "compat=1.1");
            QemuImg.io(q, "qcow2", List.of("write -z 0 64k", "discard 2M 128k", "write -z -u 7M 64k"));
            return q;
        }));
        v.add(new Variant("qcow2 zlib-compressed clusters", "qcow2", (src, base) -> convert(base,
                src.resolve("disk.qcow2"), "qcow2", "-c")));
        v.add(new Variant("qcow2 zstd-compressed clusters", "qcow2", (src, base) -> convert(base,
                src.resolve("disk.qcow2"), "qcow2", "-c", "-o", "compression_type=zstd")));
        v.add(new Variant("qcow2 backing chain over raw, longer than its backing", "qcow2",
                ImageConvertVariantsTest::qcow2Chain));
        v.add(new Variant("qcow2 over a vmdk backing file", "qcow2", (src, base) -> {
            Path b = convert(base, src.resolve("base.vmdk"), "vmdk");
            Path top = src.resolve("top.qcow2");
            Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.vmdk", "-F", "vmdk", top.toString());
            QemuImg.io(top, "qcow2", List.of("write -P 0x71 3M 192k", "write -z 1M 64k"));
            return top;
        }));
        v.add(new Variant("vhd fixed", "vpc", (src, base) -> convert(base, src.resolve("disk.vhd"), "vpc",
                "-o", "subformat=fixed,force_size=on")));
        v.add(new Variant("vhd dynamic", "vpc", (src, base) -> convert(base, src.resolve("disk.vhd"), "vpc",
                "-o", "subformat=dynamic")));
        v.add(new Variant("vhdx dynamic", "vhdx", (src, base) -> {
            Path x = convert(base, src.resolve("disk.vhdx"), "vhdx", "-o", "block_size=1M");
            QemuImg.io(x, "vhdx", List.of("write -P 0x72 5M 8k"));
            return x;
        }));
        v.add(new Variant("vhdx fixed", "vhdx", (src, base) -> convert(base, src.resolve("disk.vhdx"), "vhdx",
                "-o", "subformat=fixed")));
        return v;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void convertsToRawAndToQcow2Identically(Variant v) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path base = content(dir.resolve("content.raw"));
        Path src = Files.createDirectories(dir.resolve("src"));
        Path image = v.maker().make(src, base);
        Files.delete(base);
        Map<String, String> before = sparseChecksums(src);
        assertOpenedReadOnly(image, src);
        assertInfoLikeQemuImg(image, v.format());

        for (String out : List.of("raw", "qcow2")) {
            Path dst = dir.resolve("out." + out);
            OpenFiles.Watch watch = OpenFiles.watch(src);
            Out o;
            try (watch) {
                o = run("image", "convert", "--verify", "-O", out, image.toString(), dst.toString());
            }
            assertThat(o.code()).as(v + " -> " + out + ": " + o.stderr()).isZero();
            watch.assertSawOnlyReadOnly();
            Run.Result cmp = Run.run(List.of("qemu-img", "compare", "-f", v.format(), "-F", out, image.toString(),
                    dst.toString()));
            assertThat(cmp.exitCode()).as(v + " -> " + out + ": qemu-img compare: " + cmp.all()).isZero();
            assertThat(cmp.stdout()).contains("Images are identical");
            if (out.equals("qcow2")) {
                Run.Result check = Run.run(List.of("qemu-img", "check", "-f", "qcow2", dst.toString()));
                assertThat(check.exitCode()).as(v + ": qemu-img check: " + check.all()).isZero();
                assertThat(check.stdout()).contains("No errors were found");
            }
            assertThat(virtualSize(dst, out)).as("virtual size").isEqualTo(virtualSize(image, v.format()));
        }
        assertThat(sparseChecksums(src)).as("the source files are unchanged").isEqualTo(before);
    }

    /**
     * The source is opened read-only at the operating-system level: with the image open through
     * {@link Images#open} and a piece of every extent read (so lazily opened extent files are open
     * too), every descriptor on a file under {@code src} is O_RDONLY, and there is at least one per
     * layer of the chain (the check saw the files it is about).
     */
    static void assertOpenedReadOnly(Path image, Path src) throws Exception {
        try (OpenedImage img = Images.open(image, OpenContext.of(PathGuard.folderOf(image)))) {
            BlockDevice d = img.device();
            ByteBuffer b = ByteBuffer.allocate(65536);
            for (long pos = 0; pos < d.size(); ) {
                List<Extent> st = d.blockStatus(pos, d.size() - pos);
                for (Extent e : st) {
                    d.read(b.clear().limit((int) Math.min(b.capacity(), e.length())), e.offset());
                }
                pos = st.getLast().end();
            }
            assertThat(OpenFiles.assertReadOnly(src)).as("source files open").hasSizeGreaterThanOrEqualTo(
                    img.chain().size());
        }
        assertThat(OpenFiles.under(src)).as("all closed again").isEmpty();
    }

    /**
     * Like {@link Checksums#of} (SHA-256 of every file under {@code root}) without reading holes: a
     * file's hash covers its size and the offset and bytes of each of its non-zero 4 KiB blocks, a
     * pure function of its content (how the file system splits data and holes, which changes as it
     * writes back, does not enter). The data runs are found with SEEK_DATA, so the 4 GiB split flat
     * variant no longer costs minutes of hashing zeros.
     */
    static Map<String, String> sparseChecksums(Path root) throws IOException {
        final int block = 4096;
        byte[] zero = new byte[block];
        Map<String, String> out = new java.util.TreeMap<>();
        try (var files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                java.security.MessageDigest md;
                try {
                    md = java.security.MessageDigest.getInstance("SHA-256");
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new AssertionError(e);
                }
                long size = Files.size(f);
                md.update(ByteBuffer.allocate(8).putLong(size).flip());
                long next = 0; // the first block not hashed yet
                try (var sparse = org.jv2v.image.raw.SparseFile.open(f, false);
                     FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    byte[] b = new byte[block];
                    for (long pos = 0; pos < size; ) {
                        List<org.jv2v.image.Extent> runs = sparse.dataExtents(pos, size - pos, size);
                        for (org.jv2v.image.Extent e : runs) {
                            if (e.type() != org.jv2v.image.ExtentType.DATA) {
                                continue;
                            }
                            for (long k = Math.max(next, e.offset() / block); k * block < e.end(); k++) {
                                ByteBuffer bb = ByteBuffer.wrap(b, 0, (int) Math.min(block, size - k * block));
                                java.util.Arrays.fill(b, (byte) 0);
                                while (bb.hasRemaining() && ch.read(bb, k * block + bb.position()) > 0) {
                                    // fill the block
                                }
                                if (!java.util.Arrays.equals(b, zero)) {
                                    md.update(ByteBuffer.allocate(8).putLong(k).flip());
                                    md.update(b);
                                }
                                next = k + 1;
                            }
                        }
                        pos = runs.getLast().end();
                    }
                }
                out.put(root.relativize(f).toString(), java.util.HexFormat.of().formatHex(md.digest()));
            }
        }
        return out;
    }

    /**
     * image info agrees with qemu-img info --backing-chain on every layer: format (qemu's vpc is
     * jv2v's vhd), virtual size, and the backing file each layer names.
     */
    private static void assertInfoLikeQemuImg(Path image, String format) throws Exception {
        var json = tools.jackson.databind.json.JsonMapper.builder().build();
        var qemu = json.readTree(Tools.run("qemu-img", "info", "--backing-chain", "--output=json", "-f", format,
                image.toString()).stdout());
        ImageCommandTest.Out info = jv2v("image", "info", "--output=json", image.toString());
        assertThat(info.code()).as(info.stderr()).isZero();
        var ours = json.readTree(info.stdout());
        List<tools.jackson.databind.JsonNode> layers = new ArrayList<>(List.of(ours));
        ours.get("backing-chain").forEach(layers::add);
        assertThat(layers).as("layers").hasSize(qemu.size());
        for (int i = 0; i < layers.size(); i++) {
            var l = layers.get(i);
            var q = qemu.get(i);
            assertThat(l.get("format").asString()).as("layer %d format", i)
                    .isEqualTo(q.get("format").asString().replace("vpc", "vhd"));
            assertThat(l.get("virtual-size").asLong()).as("layer %d size", i).isEqualTo(q.get("virtual-size").asLong());
            assertThat(Path.of(l.get("filename").asString()).toRealPath()).as("layer %d file", i)
                    .isEqualTo(Path.of(q.get("filename").asString()).toRealPath());
        }
    }

    /** qemu-img info -f FMT: a fixed VHD's footer is at its end, where qemu-img's probe does not look. */
    private static long virtualSize(Path image, String format) throws Exception {
        String json = Tools.run("qemu-img", "info", "--output=json", "-f", format, image.toString()).stdout();
        return tools.jackson.databind.json.JsonMapper.builder().build().readTree(json).get("virtual-size").asLong();
    }

    /** A thin flat VMDK (a sparse -flat file, as qemu-img makes it): the holes are neither read nor written. */
    @org.junit.jupiter.api.Test
    void holesInAFlatExtentAreNotRead() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path flat = src.resolve("thin.vmdk");
        QemuImg.create(flat, "vmdk", 64L * MIB, "subformat=monolithicFlat");
        QemuImg.io(flat, "vmdk", List.of("write -P 0x44 8M 1M", "write -P 0x45 40M 64k"));
        Path dst = dir.resolve("thin.raw");
        ImageCommandTest.Out o = jv2v("image", "convert", "--machine-readable", "-O", "raw", flat.toString(),
                dst.toString());
        assertThat(o.code()).as(o.stderr()).isZero();
        var result = tools.jackson.databind.json.JsonMapper.builder().build().readTree(o.stdout().strip());
        // file systems allocate in blocks of a few KiB: allow one 64 KiB slack per data run
        assertThat(result.get("read-bytes").asLong()).isBetween((long) MIB + 65536, (long) MIB + 3 * 65536);
        assertThat(QemuImg.compare(flat, dst).exitCode()).isZero();
    }

    private record Out(int code, String stderr) {}

    private static Out run(String... args) {
        ImageCommandTest.Out o = jv2v(args);
        return new Out(o.code(), o.stderr());
    }

    /**
     * 9 MiB + 3 sectors, like a small disk: random (incompressible) data, text (compressible),
     * explicitly written zeros, holes, data at unaligned offsets and in the last sector.
     */
    static Path content(Path file) throws Exception {
        long size = 9L * MIB + 3 * 512;
        QemuImg.create(file, "raw", size);
        Random r = new Random(42);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            byte[] rnd = new byte[MIB];
            r.nextBytes(rnd);
            ch.write(ByteBuffer.wrap(rnd), 0);
            StringBuilder text = new StringBuilder();
            while (text.length() < MIB) {
                text.append("line ").append(text.length()).append(": the quick brown fox jumps over the lazy dog\n");
            }
            ch.write(ByteBuffer.wrap(text.substring(0, MIB).getBytes(StandardCharsets.US_ASCII)), 2L * MIB);
            ch.write(ByteBuffer.wrap(new byte[MIB]), 4L * MIB); // allocated zeros
            byte[] odd = new byte[65536 + 1000];
            r.nextBytes(odd);
            ch.write(ByteBuffer.wrap(odd), 7L * MIB + 4096 + 512);
            byte[] last = new byte[512];
            r.nextBytes(last);
            ch.write(ByteBuffer.wrap(last), size - 512);
        }
        return file;
    }

    static Path copy(Path from, Path to) throws IOException {
        Files.copy(from, to);
        return to;
    }

    static Path convert(Path from, Path to, String format, String... opts) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "convert", "-q", "-f", "raw", "-O", format));
        cmd.addAll(List.of(opts));
        cmd.add(from.toString());
        cmd.add(to.toString());
        Tools.run(cmd.toArray(String[]::new));
        return to;
    }

    /** Split VMDKs need more than 2 GiB to split: 4 GiB + 1 MiB, data across the extents' seams. */
    static Path big(Path src, String sub) throws Exception {
        Path img = src.resolve("big.vmdk");
        QemuImg.create(img, "vmdk", 4 * GIB + MIB, "subformat=" + sub);
        QemuImg.io(img, "vmdk", List.of("write -P 0x31 0 1M", "write -P 0x32 2047M 2M", "write -P 0x33 4095M 1536k",
                "write -P 0x34 4194816k 4k"));
        return img;
    }

    /** A monolithicFlat made by qemu-img, relabelled as ESXi writes it: createType vmfs, VMFS extent. */
    static Path vmfs(Path src, Path base) throws Exception {
        Path desc = convert(base, src.resolve("disk.vmdk"), "vmdk", "-o", "subformat=monolithicFlat");
        String d = Files.readString(desc).replace("createType=\"monolithicFlat\"", "createType=\"vmfs\"")
                .replaceAll("RW (\\d+) FLAT (\"[^\"]+\") 0", "RW $1 VMFS $2");
        assertThat(d).contains("createType=\"vmfs\"").contains(" VMFS \"");
        Files.writeString(desc, d);
        return desc;
    }

    /**
     * One descriptor over two kinds of extent: 5 MiB FLAT read from 1 MiB into a file (whose first
     * MiB must not be seen), then 4 MiB of a qemu-made hosted SPARSE extent. (No ZERO extent: qemu
     * skips extent lines without a file name, so it would read a shorter disk than VMware does.)
     */
    static Path multiExtent(Path src, Path base) throws Exception {
        Path flat = src.resolve("part-flat.bin");
        try (FileChannel out = FileChannel.open(flat, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             FileChannel in = FileChannel.open(base, StandardOpenOption.READ)) {
            byte[] junk = new byte[MIB];
            java.util.Arrays.fill(junk, (byte) 0xee);
            out.write(ByteBuffer.wrap(junk), 0);
            in.transferTo(0, 5L * MIB, out.position(MIB));
        }
        // the sparse extent: the -s001 file of a 4 MiB twoGbMaxExtentSparse qemu-img made and wrote
        Path parts = Files.createDirectories(src.getParent().resolve("parts"));
        Path split = parts.resolve("part.vmdk");
        QemuImg.create(split, "vmdk", 4L * MIB, "subformat=twoGbMaxExtentSparse");
        QemuImg.io(split, "vmdk", List.of("write -P 0x41 0 64k", "write -P 0x42 1M 1M", "write -P 0x43 4032k 64k"));
        Files.move(parts.resolve("part-s001.vmdk"), src.resolve("part-s001.vmdk"));
        Path desc = src.resolve("multi.vmdk");
        Files.writeString(desc, """
                # Disk DescriptorFile
                version=1
                CID=12345678
                parentCID=ffffffff
                createType="twoGbMaxExtentSparse"

                # Extent description
                RW 10240 FLAT "part-flat.bin" 2048
                RW 8192 SPARSE "part-s001.vmdk"

                # The Disk Data Base
                #DDB

                ddb.virtualHWVersion = "4"
                ddb.geometry.cylinders = "22"
                ddb.geometry.heads = "16"
                ddb.geometry.sectors = "63"
                ddb.adapterType = "ide"
                """);
        return desc;
    }

    /** base (monolithicSparse) <- mid <- top, deltas made by qemu-img create -b as Workstation does. */
    static Path vmdkChain(Path src, Path base) throws Exception {
        convert(base, src.resolve("base.vmdk"), "vmdk", "-o", "subformat=monolithicSparse");
        Path mid = src.resolve("mid.vmdk");
        Tools.run("qemu-img", "create", "-q", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", mid.toString());
        QemuImg.io(mid, "vmdk", List.of("write -P 0x5a 512k 64k", "write -P 0x5b 6M 1M", "write -z 2M 64k"));
        Path top = src.resolve("top.vmdk");
        Tools.run("qemu-img", "create", "-q", "-f", "vmdk", "-b", "mid.vmdk", "-F", "vmdk", top.toString());
        QemuImg.io(top, "vmdk", List.of("write -P 0x6b 6M 4k", "write -P 0x6c 9M 1k", "write -z 0 64k"));
        return top;
    }

    /** raw base <- qcow2 mid (longer than the base) <- qcow2 top with zeroed and discarded clusters. */
    static Path qcow2Chain(Path src, Path base) throws Exception {
        Path b = copy(base, src.resolve("base.raw"));
        Path mid = src.resolve("mid.qcow2");
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", b.getFileName().toString(), "-F", "raw",
                mid.toString(), "12M");
        QemuImg.io(mid, "qcow2", List.of("write -P 0x61 1M 128k", "write -P 0x62 10M 1M"));
        Path top = src.resolve("top.qcow2");
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", top.toString());
        QemuImg.io(top, "qcow2", List.of("write -z 0 128k", "write -P 0x63 2M 4k", "discard 10M 64k",
                "write -z 11M 512k"));
        return top;
    }
}
