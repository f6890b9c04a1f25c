package org.jv2v.cli;

import org.jv2v.testing.Checksums;
import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jv2v.cli.ImageCommandTest.jv2v;

/**
 * Issue 3: the format is found by probing the content, never from the file name. Each image here
 * is made by qemu-img under a name that says another format; {@code jv2v image info} must report
 * the format, virtual size and allocation qemu-img reports when told the real format, and {@code
 * jv2v image convert} must copy it so that qemu-img compare (told the real format) finds it
 * identical.
 */
class ImageProbeByContentTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    /** An image qemu-img makes as {@code qemuFormat} under the misleading {@code name}; jv2v calls the format {@code ours}. */
    record Misnamed(String name, String qemuFormat, String ours, List<String> createOptions) {
        @Override
        public String toString() {
            return qemuFormat + (createOptions.isEmpty() ? "" : " " + createOptions) + " named " + name;
        }
    }

    static List<Misnamed> images() {
        return List.of(
                new Misnamed("disk.raw", "qcow2", "qcow2", List.of()),
                new Misnamed("disk.img", "qcow2", "qcow2", List.of("-o", "compat=0.10")),
                new Misnamed("disk.vmdk", "vpc", "vhd", List.of("-o", "subformat=dynamic")),
                new Misnamed("disk.qcow2", "vpc", "vhd", List.of("-o", "subformat=fixed,force_size=on")),
                new Misnamed("disk.vhd", "vhdx", "vhdx", List.of()),
                new Misnamed("disk.qcow2", "vmdk", "vmdk", List.of("-o", "subformat=monolithicSparse")),
                new Misnamed("disk.vhdx", "vmdk", "vmdk", List.of("-o", "subformat=streamOptimized")),
                new Misnamed("disk.raw", "vmdk", "vmdk", List.of("-o", "subformat=monolithicFlat")),
                new Misnamed("disk.vmdk", "raw", "raw", List.of()),
                new Misnamed("disk.qcow2", "raw", "raw", List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void theFormatComesFromTheContent(Misnamed m) throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path content = dir.resolve("content.bin");
        QemuImg.create(content, "raw", 5L << 20);
        // data at the start too: a raw disk must not look like any format because of its first bytes
        QemuImg.io(content, "raw", List.of("write -P 0x3c 0 64k", "write -P 0x5e 2M 300k", "write -P 0x71 5116k 4k"));
        Path src = Files.createDirectories(dir.resolve("src"));
        Path image = src.resolve(m.name());
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "convert", "-q", "-f", "raw", "-O", m.qemuFormat()));
        cmd.addAll(m.createOptions());
        cmd.addAll(List.of(content.toString(), image.toString()));
        Tools.run(cmd.toArray(String[]::new));
        Map<String, String> before = Checksums.of(src);

        JsonNode qemu = JSON.readTree(Tools.run("qemu-img", "info", "--output=json", "-f", m.qemuFormat(),
                image.toString()).stdout());
        ImageCommandTest.Out info = jv2v("image", "info", "--output=json", image.toString());
        assertThat(info.code()).as(info.stderr()).isZero();
        JsonNode ours = JSON.readTree(info.stdout());
        assertThat(ours.get("format").asString()).isEqualTo(m.ours());
        assertThat(ours.get("virtual-size").asLong()).isEqualTo(qemu.get("virtual-size").asLong());
        if (!m.createOptions().contains("subformat=monolithicFlat")) {
            // a flat VMDK's allocation counts its -flat file too; qemu-img counts the descriptor only
            assertThat(ours.get("allocation").asLong()).isEqualTo(qemu.get("actual-size").asLong());
        }

        Path dst = dir.resolve("out.raw");
        ImageCommandTest.Out convert = jv2v("image", "convert", "-O", "raw", image.toString(), dst.toString());
        assertThat(convert.code()).as(convert.stderr()).isZero();
        Run.Result cmp = Run.run(List.of("qemu-img", "compare", "-f", m.qemuFormat(), "-F", "raw", image.toString(),
                dst.toString()));
        assertThat(cmp.exitCode()).as(cmp.all()).isZero();
        assertThat(Checksums.of(src)).isEqualTo(before);
    }

    /** A qcow2 named .img over a VHD named .vmdk: the chain's formats come from content at every level. */
    @org.junit.jupiter.api.Test
    void aMisnamedBackingFileIsProbedToo() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path base = src.resolve("base.vmdk");
        QemuImg.create(base, "vpc", 4L << 20);
        QemuImg.io(base, "vpc", List.of("write -P 0x11 0 1M"));
        Path top = src.resolve("top.img");
        // (a header without the backing format, where the reader must probe, is Qcow2ReaderTest's)
        Tools.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.vmdk", "-F", "vpc", top.toString(), "4M");
        QemuImg.io(top, "qcow2", List.of("write -P 0x22 512k 64k"));
        JsonNode ours = JSON.readTree(jv2v("image", "info", "--output=json", top.toString()).stdout());
        assertThat(ours.get("format").asString()).isEqualTo("qcow2");
        assertThat(ours.get("backing-chain")).hasSize(1);
        assertThat(ours.get("backing-chain").get(0).get("format").asString()).isEqualTo("vhd");
        Path dst = dir.resolve("out.raw");
        ImageCommandTest.Out convert = jv2v("image", "convert", "-O", "raw", top.toString(), dst.toString());
        assertThat(convert.code()).as(convert.stderr()).isZero();
        Run.Result cmp = Run.run(List.of("qemu-img", "compare", "-f", "qcow2", "-F", "raw", top.toString(),
                dst.toString()));
        assertThat(cmp.exitCode()).as(cmp.all()).isZero();
    }
}
