package org.jv2v.convert.linux.initramfs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jv2v.BadInputException;
import org.jv2v.convert.linux.kmod.Depmod;
import org.jv2v.convert.linux.kmod.GuestKernel;
import org.jv2v.convert.linux.kmod.Kmod;
import org.jv2v.convert.linux.kmod.ModuleFixtures;
import org.jv2v.convert.linux.kmod.ModuleTree;
import org.jv2v.testing.Run;
import org.jv2v.testing.Tools;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The package's entry point on kernels that have some or all of virtio built in (modules.builtin,
 * as distribution kernels such as Fedora's and cloud kernels have it), on a kernel without virtio,
 * and through a {@link ModuleTree} served by a reader as the converter serves the guest's files.
 * Module trees are cut from the Debian kernel's and indexed by the real depmod; the results are
 * checked with the real modprobe and depmod.
 */
class VirtioInitramfsTest {
    /** The virtio core: what a kernel with CONFIG_VIRTIO_PCI=y has built in (a built-in cannot need a module). */
    static final List<String> CORE = List.of("virtio", "virtio_ring", "virtio_pci", "virtio_pci_modern_dev",
            "virtio_pci_legacy_dev");

    @Test
    void everythingBuiltInLeavesTheImageUnreadAndUnchanged(@TempDir Path tmp) throws Exception {
        Path guest = GuestKernel.moduleDir();
        List<String> builtin = ModuleFixtures.withDependencies(guest, VirtioInitramfs.DRIVERS.toArray(String[]::new));
        Path tree = treeWithBuiltin(guest, tmp, ModuleFixtures.withDependencies(guest, "ext4"), builtin);
        byte[] notAnImage = "not an initramfs at all".getBytes(StandardCharsets.US_ASCII);

        VirtioInitramfs.Result r = VirtioInitramfs.addVirtio(notAnImage, "initrd.img", ModuleTree.ofDirectory(tree));

        assertThat(r.outcome()).isEqualTo(VirtioInitramfs.Outcome.BUILTIN);
        assertThat(r.changed()).isFalse();
        assertThat(r.image()).isSameAs(notAnImage);
        assertThat(r.builtin()).containsExactlyInAnyOrderElementsOf(VirtioInitramfs.DRIVERS);
        assertThat(r.addedFiles()).isEmpty();
        assertThat(r.plan()).anyMatch(l -> l.contains("virtio_blk is built into kernel"))
                .anyMatch(l -> l.contains("left unchanged"));
        assertThat(Kmod.builtinHasVirtio(ModuleTree.ofDirectory(tree))).isTrue();
        assertThat(Kmod.builtinHasVirtio(ModuleTree.ofDirectory(guest))).isFalse();
    }

    /**
     * virtio_pci built in, virtio_blk a module: only virtio_blk (and whatever else is not built
     * in) goes into an image that had no module folder at all; modprobe in the unpacked image
     * says what it says in the guest's tree.
     */
    @Test
    void coreBuiltInAddsOnlyTheModulesAndModprobeAgrees(@TempDir Path tmp) throws Exception {
        Tools.require("cpio", "gzip", "depmod", "modprobe");
        Path guest = GuestKernel.moduleDir();
        String kver = guest.getFileName().toString();
        List<String> core = ModuleFixtures.withDependencies(guest, CORE.toArray(String[]::new));
        List<String> modules = new ArrayList<>(ModuleFixtures.withDependencies(guest,
                VirtioInitramfs.DRIVERS.toArray(String[]::new)));
        modules.removeAll(core);
        Path tree = treeWithBuiltin(guest, tmp.resolve("guest"), modules, core);

        // A tiny image as GNU cpio writes it: an init, the usual lib -> usr/lib link, no modules yet.
        Path root = tmp.resolve("image-root");
        Files.createDirectories(root.resolve("usr/lib"));
        Files.writeString(root.resolve("init"), "#!/bin/sh\nexec /bin/sh\n");
        Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
        InitramfsFixtures.shell("cd '" + root + "' && find . | LC_ALL=C sort | cpio --quiet -o -H newc | gzip -n > ../tiny.img");
        byte[] before = Files.readAllBytes(tmp.resolve("tiny.img"));

        VirtioInitramfs.Result r = VirtioInitramfs.addVirtio(before, "tiny.img", ModuleTree.ofDirectory(tree));

        assertThat(r.outcome()).isEqualTo(VirtioInitramfs.Outcome.ADDED);
        assertThat(r.builtin()).contains("virtio_pci");
        String dir = "usr/lib/modules/" + kver;
        assertThat(r.addedFiles()).contains(dir + "/kernel/drivers/block/virtio_blk.ko", dir + "/modules.builtin")
                .noneMatch(f -> f.endsWith("/virtio_pci.ko") || f.endsWith("/virtio_ring.ko"));
        assertThat(r.flavor()).isEqualTo(VirtioInitramfs.Flavor.UNKNOWN);
        assertThat(r.loadsByAlias()).isFalse();
        assertThat(r.plan()).anyMatch(l -> l.contains("WARNING: no udev rule"));

        Path x = tmp.resolve("x");
        Files.createDirectories(x);
        Files.write(tmp.resolve("edited.img"), r.image());
        InitramfsFixtures.shell("cd '" + x + "' && gzip -dc < ../edited.img | cpio --quiet -id");
        for (String m : List.of("virtio_blk", "virtio_scsi", "virtio_net", "virtio_pci", "sd_mod")) {
            assertThat(showDepends(x.resolve("usr"), kver, m)).as(m)
                    .isEqualTo(showDepends(tmp.resolve("guest"), kver, m));
        }
        assertThat(showDepends(x.resolve("usr"), kver, "virtio_pci")).isEqualTo("0\nbuiltin virtio_pci\n");
        assertThat(showDepends(x.resolve("usr"), kver, "virtio_blk")).contains("insmod ROOT/lib/modules/" + kver
                + "/kernel/drivers/block/virtio_blk.ko");
        // And the real depmod, run on the unpacked folder, writes the same index files.
        Path check = tmp.resolve("check");
        Run.checked(List.of("cp", "-a", x.resolve("usr").toString(), check.toString()));
        Run.checked(List.of("depmod", "-b", check.toString(), kver));
        for (String f : Depmod.OUTPUT_FILES) {
            assertThat(Files.readAllBytes(x.resolve(dir + "/" + f))).as(f)
                    .isEqualTo(Files.readAllBytes(check.resolve("lib/modules/" + kver + "/" + f)));
        }
    }

    @Test
    void kernelWithoutVirtioIsAClearError(@TempDir Path tmp) throws Exception {
        Path guest = GuestKernel.moduleDir();
        Path tree = treeWithBuiltin(guest, tmp, ModuleFixtures.withDependencies(guest, "ext4", "sd_mod"), List.of());
        assertThatThrownBy(() -> VirtioInitramfs.addVirtio(new byte[16], "initrd.img", ModuleTree.ofDirectory(tree)))
                .isInstanceOf(BadInputException.class)
                .hasMessageContaining("kernel " + guest.getFileName() + " has no virtio_pci, virtio_blk, virtio_scsi,"
                        + " virtio_net (neither in modules.builtin nor in modules.dep)")
                .hasMessageContaining("install a kernel with virtio drivers")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    /** The converter's way: a reader over the guest's files, relative paths checked before they reach it. */
    @Test
    void treeServedByAReader(@TempDir Path tmp) throws Exception {
        Path guest = GuestKernel.moduleDir();
        String kver = guest.getFileName().toString();
        List<String> asked = new ArrayList<>();
        ModuleTree tree = ModuleTree.of(kver, "/lib/modules/" + kver + " in the guest", (rel, max) -> {
            asked.add(rel);
            Path p = guest.resolve(rel);
            return Files.isRegularFile(p) ? Optional.of(Files.readAllBytes(p)) : Optional.empty();
        });
        assertThat(VirtioInitramfs.support(tree).canBootVirtioBlk()).isTrue();
        assertThat(asked).contains("modules.builtin", "modules.dep");
        assertThatThrownBy(() -> tree.read("../../etc/shadow", 100)).isInstanceOf(BadInputException.class)
                .hasMessage("/lib/modules/" + kver + " in the guest: refusing module path '../../etc/shadow'");
        assertThatThrownBy(() -> ModuleTree.of("..", "x", (rel, max) -> Optional.empty()))
                .isInstanceOf(BadInputException.class).hasMessage("x: '..' is not a kernel version");
    }

    /**
     * A copy of some of the guest's modules under {@code root/lib/modules/KVER}, whose
     * modules.builtin also lists {@code builtin} (their files left out), indexed by depmod.
     */
    static Path treeWithBuiltin(Path guest, Path root, List<String> modules, List<String> builtin) throws Exception {
        Path dir = ModuleFixtures.copyTree(guest, modules, root, true, rel -> ModuleFixtures.Packing.PLAIN);
        StringBuilder b = new StringBuilder();
        for (String rel : builtin) {
            b.append(rel.replaceAll("\\.(xz|zst|gz)$", "")).append('\n');
        }
        Files.writeString(dir.resolve("modules.builtin"), b, StandardOpenOption.APPEND);
        ModuleFixtures.depmod(root, guest.getFileName().toString());
        return dir;
    }

    static String showDepends(Path root, String kver, String module) throws Exception {
        Run.Result r = Run.run(List.of("modprobe", "-d", root.toString(), "-S", kver, "--show-depends", module),
                null, Map.of(), 60);
        return r.exitCode() + "\n" + (r.stdout() + r.stderr()).replace(root.toString(), "ROOT");
    }
}
