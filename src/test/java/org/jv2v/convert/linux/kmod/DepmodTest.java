package org.jv2v.convert.linux.kmod;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jv2v.testing.Checksums;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * jv2v's depmod against kmod's depmod on the same modules: every file must come out byte for
 * byte identical, and kmod's own tools (modprobe, modinfo) must answer the same from either set.
 */
class DepmodTest {

    /** The whole Debian tree (4000 modules), linked in read-only: all ten files identical. */
    @Test
    void wholeGuestTreeGivesDepmodsBytes(@TempDir Path tmp) throws Exception {
        Path guest = GuestKernel.moduleDir();
        String kver = guest.getFileName().toString();
        Map<String, String> before = Checksums.of(guest.resolve("kernel/drivers/virtio"));
        Path dir = tmp.resolve("lib/modules/" + kver);
        Files.createDirectories(dir);
        Files.createSymbolicLink(dir.resolve("kernel"), guest.resolve("kernel"));
        for (String f : List.of("modules.order", "modules.builtin", "modules.builtin.modinfo")) {
            Files.copy(guest.resolve(f), dir.resolve(f));
        }
        try {
            ModuleFixtures.depmod(tmp, kver);

            Map<String, byte[]> ours = Depmod.generate(ModuleFixtures.inputOf(dir));

            assertThat(ours.keySet()).containsExactlyElementsOf(Depmod.OUTPUT_FILES);
            for (var e : ours.entrySet()) {
                assertSameBytes(e.getKey(), e.getValue(), Files.readAllBytes(dir.resolve(e.getKey())));
            }
        } finally {
            Files.delete(dir.resolve("kernel"));   // the link, never what it points to
        }
        assertThat(Checksums.of(guest.resolve("kernel/drivers/virtio"))).isEqualTo(before);
    }

    /** A small tree with xz, zstd and plain modules mixed, as an initramfs holds them. */
    @Test
    void compressedSubsetGivesDepmodsBytesAndKmodAgrees(@TempDir Path tmp) throws Exception {
        Path guest = GuestKernel.moduleDir();
        String kver = guest.getFileName().toString();
        List<String> rels = ModuleFixtures.withDependencies(guest, "virtio_blk", "virtio_scsi", "virtio_net",
                "virtio_pci", "virtio_console", "sd_mod", "ext4", "vmw_pvscsi", "e1000");
        int[] n = {0};
        Path depmodRoot = tmp.resolve("depmod");
        Path depmodDir = ModuleFixtures.copyTree(guest, rels, depmodRoot, true, rel -> switch (n[0]++ % 3) {
            case 0 -> ModuleFixtures.Packing.XZ;
            case 1 -> ModuleFixtures.Packing.ZSTD;
            default -> ModuleFixtures.Packing.PLAIN;
        });
        // The same files in a second root that only jv2v indexes.
        Path oursRoot = tmp.resolve("jv2v");
        Path oursDir = oursRoot.resolve("lib/modules/" + kver);
        Files.createDirectories(oursDir.getParent());
        Run.checked(List.of("cp", "-a", depmodDir.toString(), oursDir.getParent().toString() + "/"));
        ModuleFixtures.depmod(depmodRoot, kver);

        Map<String, byte[]> ours = Depmod.generate(ModuleFixtures.inputOf(oursDir));
        for (var e : ours.entrySet()) {
            Files.write(oursDir.resolve(e.getKey()), e.getValue());
            assertSameBytes(e.getKey(), e.getValue(), Files.readAllBytes(depmodDir.resolve(e.getKey())));
        }

        // kmod's own tools read both trees alike.
        for (String m : List.of("virtio_blk", "virtio_scsi", "virtio_net", "ext4", "sd_mod")) {
            assertThat(kmod(oursRoot, kver, "modprobe", "--show-depends", m))
                    .isEqualTo(kmod(depmodRoot, kver, "modprobe", "--show-depends", m)).startsWith("0\n").contains("insmod ");
        }
        String virtioBlkPci = "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00";
        String virtioBlkBus = "virtio:d00000002v00001AF4";
        for (String alias : List.of(virtioBlkPci, virtioBlkBus, "virtio:d00000008v00001AF4", "fs-ext4")) {
            String resolved = kmod(oursRoot, kver, "modprobe", "-R", alias);
            assertThat(resolved).isEqualTo(kmod(depmodRoot, kver, "modprobe", "-R", alias)).isNotBlank();
        }
        assertThat(kmod(oursRoot, kver, "modprobe", "-R", virtioBlkBus).trim()).isEqualTo("0\nvirtio_blk");
        assertThat(kmod(oursRoot, kver, "modprobe", "-R", virtioBlkPci).trim()).isEqualTo("0\nvirtio_pci");
        for (String m : List.of("virtio_blk", "virtio_pci", "ext4")) {
            assertThat(modinfo(oursRoot, kver, m)).isEqualTo(modinfo(depmodRoot, kver, m));
        }
    }

    /** Without modules.order depmod keeps its hash table's order: so do we. */
    @Test
    void withoutModulesOrderStillIdentical(@TempDir Path tmp) throws Exception {
        Path guest = GuestKernel.moduleDir();
        String kver = guest.getFileName().toString();
        List<String> rels = ModuleFixtures.withDependencies(guest, "virtio_net", "virtio_scsi", "xfs", "btrfs");
        Path dir = ModuleFixtures.copyTree(guest, rels, tmp, false, rel -> ModuleFixtures.Packing.PLAIN);
        Map<String, byte[]> ours = Depmod.generate(ModuleFixtures.inputOf(dir));
        ModuleFixtures.depmod(tmp, kver);
        for (var e : ours.entrySet()) {
            assertSameBytes(e.getKey(), e.getValue(), Files.readAllBytes(dir.resolve(e.getKey())));
        }
    }

    /** Reading depmod's binary indexes gives back the text files' content. */
    @Test
    void readsDepmodsIndexes(@TempDir Path tmp) throws Exception {
        Path guest = GuestKernel.moduleDir();
        Map<String, List<KmodIndex.Value>> dep = KmodIndex.read(Files.readAllBytes(guest.resolve("modules.dep.bin")),
                "modules.dep.bin");
        List<String> lines = Files.readAllLines(guest.resolve("modules.dep"));
        assertThat(dep).hasSize(lines.size());
        for (String line : lines) {
            String name = ModuleNames.moduleName(line.substring(0, line.indexOf(':')));
            assertThat(dep.get(name)).extracting(KmodIndex.Value::value).containsExactly(line);
        }
        Map<String, List<KmodIndex.Value>> alias = KmodIndex.read(
                Files.readAllBytes(guest.resolve("modules.alias.bin")), "modules.alias.bin");
        List<String> fromBin = new ArrayList<>();
        alias.forEach((k, vs) -> vs.forEach(v -> fromBin.add(k + " " + v.value())));
        List<String> fromText = new ArrayList<>();
        for (String l : Files.readAllLines(guest.resolve("modules.alias"))) {
            if (l.startsWith("alias ")) {
                String[] w = l.split(" ");
                String norm = ModuleNames.normalizeAlias(w[1]);
                if (norm != null) {
                    fromText.add(norm + " " + w[2]);
                }
            }
        }
        assertThat(fromBin).containsExactlyInAnyOrderElementsOf(fromText);
        // And writing what we read gives the same file back.
        KmodIndex.Builder b = new KmodIndex.Builder();
        List<Map.Entry<String, KmodIndex.Value>> all = new ArrayList<>();
        alias.forEach((k, vs) -> vs.forEach(v -> all.add(Map.entry(k, v))));
        all.sort(java.util.Comparator.comparingInt((Map.Entry<String, KmodIndex.Value> e) -> e.getValue().priority())
                .reversed());
        for (var e : all) {
            b.add(e.getKey(), e.getValue().value(), e.getValue().priority());
        }
        assertThat(KmodIndex.read(b.toBytes(), "rewritten")).isEqualTo(alias);
    }

    static String kmod(Path root, String kver, String tool, String... args) throws IOException, InterruptedException {
        Tools.require(tool);
        List<String> cmd = new ArrayList<>(List.of(tool, "-d", root.toString(), "-S", kver));
        cmd.addAll(List.of(args));
        Run.Result r = Run.run(cmd);
        return r.exitCode() + "\n" + r.stdout().replace(root.toString(), "ROOT") + r.stderr().replace(root.toString(), "ROOT");
    }

    static String modinfo(Path root, String kver, String module) throws IOException, InterruptedException {
        Tools.require("modinfo");
        Run.Result r = Run.run(List.of("modinfo", "-b", root.toString(), "-k", kver, module));
        return r.exitCode() + "\n" + r.stdout().replace(root.toString(), "ROOT") + r.stderr().replace(root.toString(), "ROOT");
    }

    static void assertSameBytes(String name, byte[] ours, byte[] theirs) {
        if (!java.util.Arrays.equals(ours, theirs)) {
            int at = java.util.Arrays.mismatch(ours, theirs);
            String context = "";
            if (!name.endsWith(".bin")) {
                String a = new String(ours, java.nio.charset.StandardCharsets.ISO_8859_1);
                String t = new String(theirs, java.nio.charset.StandardCharsets.ISO_8859_1);
                int from = Math.max(0, a.lastIndexOf('\n', Math.max(0, at - 1)) + 1);
                context = "\n ours:   " + a.substring(from, Math.min(a.length(), from + 200)).split("\n")[0]
                        + "\n depmod: " + t.substring(from, Math.min(t.length(), from + 200)).split("\n")[0];
            }
            throw new AssertionError(name + ": " + ours.length + " bytes against depmod's " + theirs.length
                    + ", first difference at offset " + at + context);
        }
    }
}
