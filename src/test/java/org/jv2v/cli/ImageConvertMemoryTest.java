package org.jv2v.cli;

import org.jv2v.testing.QemuImg;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jv2v.testing.Jv2vRun.javaCommand;

/**
 * Issue 3: the copier works "with bounded memory ... whatever the disk size". bin/jv2v runs with
 * a 256 MiB heap; here {@code image convert} runs in a JVM with {@value #HEAP} of heap and
 * {@value #DIRECT} of direct buffers on multi-TiB thin disks, whose tables alone would not fit if a
 * reader or writer held them all (a 4 TiB hosted sparse VMDK has 256 MiB of grain tables; an 8 TiB
 * qcow2 target would need 128 MiB of L2 tables and its refcounts). The copies must succeed and be
 * what qemu-img reads from the source. (Peak RSS against the 256 MiB goal is measured by
 * bench/convert.sh thin and bench/qcow2-memory.sh.)
 */
class ImageConvertMemoryTest {
    private static final String HEAP = "-Xmx48m";
    private static final String DIRECT = "-XX:MaxDirectMemorySize=32m";
    private static final long GIB = 1L << 30;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private JsonNode convert(Path src, String format, Path dst) throws Exception {
        List<String> cmd = new ArrayList<>(javaCommand(List.of("image", "convert", "--machine-readable", "-O",
                format, src.toString(), dst.toString())));
        int heap = cmd.indexOf("-Xmx256m");
        assertThat(heap).isPositive();
        cmd.set(heap, HEAP);
        cmd.add(heap + 1, DIRECT);
        Run.Result r = Run.run(cmd, dir, java.util.Map.of(), 300);
        assertThat(r.exitCode()).as(r.all()).isZero();
        return JSON.readTree(r.stdout().strip().lines().reduce((a, b) -> b).orElseThrow());
    }

    @Test
    void anEightTebibyteThinQcow2ConvertsToQcow2AndRawInASmallHeap() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src")).resolve("thin.qcow2");
        long size = 8192 * GIB;
        QemuImg.create(src, "qcow2", size);
        QemuImg.io(src, "qcow2", List.of("write -P 0x41 0 1M", "write -P 0x42 4T 1M",
                "write -P 0x43 " + (size - (1 << 20)) + " 1M"));
        for (String format : List.of("qcow2", "raw")) {
            Path dst = dir.resolve("out." + format);
            JsonNode result = convert(src, format, dst);
            assertThat(result.get("written-bytes").asLong()).isEqualTo(3L << 20);
            Run.Result cmp = Run.run(List.of("qemu-img", "compare", "-f", "qcow2", "-F", format, src.toString(),
                    dst.toString()));
            assertThat(cmp.exitCode()).as(cmp.all()).isZero();
            if (format.equals("qcow2")) {
                Tools.run("qemu-img", "check", "-q", dst.toString());
            }
            Files.delete(dst);
        }
    }

    /**
     * A 4 TiB hosted sparse VMDK with 64 KiB written every 64 GiB (64 grain tables in use). qemu-img
     * compare would walk all of its grain tables for minutes, so the copy is checked by qemu-io
     * reading each pattern back from it, qemu-img map counting its data, and qemu-img check.
     */
    @Test
    void aFourTebibyteThinVmdkConvertsToQcow2InASmallHeap() throws Exception {
        Tools.require("qemu-img", "qemu-io");
        Path src = Files.createDirectories(dir.resolve("src")).resolve("thin.vmdk");
        QemuImg.create(src, "vmdk", 4096 * GIB, "subformat=monolithicSparse");
        List<String> writes = new ArrayList<>();
        List<String> reads = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            String at = (i * 64L) + "G";
            writes.add("write -P " + (0x10 + i) + " " + at + " 64k");
            reads.add("read -P " + (0x10 + i) + " " + at + " 64k");
        }
        QemuImg.io(src, "vmdk", writes);
        Path dst = dir.resolve("out.qcow2");
        JsonNode result = convert(src, "qcow2", dst);
        assertThat(result.get("virtual-size").asLong()).isEqualTo(4096 * GIB);
        assertThat(result.get("written-bytes").asLong()).isEqualTo(64L * 65536);
        Tools.run("qemu-img", "check", "-q", dst.toString());
        QemuImg.io(dst, "qcow2", reads); // fails on a pattern mismatch
        long data = QemuImg.map(dst, "qcow2").stream().filter(QemuImg.MapEntry::data)
                .mapToLong(QemuImg.MapEntry::length).sum();
        assertThat(data).isEqualTo(64L * 65536);
    }
}
