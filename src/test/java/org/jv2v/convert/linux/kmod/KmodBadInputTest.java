package org.jv2v.convert.linux.kmod;

import org.junit.jupiter.api.Test;
import org.jv2v.BadInputException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Damaged index files and modules (cut from the guest kernel's real ones) give one clear line each. */
class KmodBadInputTest {

    @Test
    void indexWithALoop() throws Exception {
        byte[] b = Files.readAllBytes(GuestKernel.moduleDir().resolve("modules.dep.bin"));
        int root = KmodIndex.getU32(b, 8);
        byte[] loop = b.clone();
        // Make the root point at itself from the header: the walk sees a node that is not below its "parent".
        int rootOff = root & KmodIndex.OFFSET_MASK;
        assertThat(rootOff).isGreaterThan(12);
        // The root has children: point its first child back at the root.
        int p = rootOff;
        if ((root & KmodIndex.FLAG_PREFIX) != 0) {
            while (b[p] != 0) {
                p++;
            }
            p++;
        }
        assertThat(root & KmodIndex.FLAG_CHILDREN).isNotZero();
        putU32(loop, p + 2, root);
        assertBad(() -> KmodIndex.read(loop, "modules.dep.bin"), "not below its parent: a loop");
    }

    @Test
    void indexRootPastTheEnd() throws Exception {
        byte[] b = Files.readAllBytes(GuestKernel.moduleDir().resolve("modules.alias.bin"));
        byte[] bad = b.clone();
        putU32(bad, 8, KmodIndex.FLAG_VALUES | (b.length + 100));
        assertBad(() -> KmodIndex.read(bad, "modules.alias.bin"), "modules.alias.bin: node at offset 0x");
        assertBad(() -> KmodIndex.read(Arrays.copyOf(b, 40), "modules.alias.bin"), "modules.alias.bin: node at offset 0x");
        byte[] magic = b.clone();
        magic[0] = 0;
        assertBad(() -> KmodIndex.read(magic, "modules.alias.bin"), "not a kmod index");
    }

    @Test
    void truncatedModule() throws Exception {
        Path ko = GuestKernel.moduleDir().resolve("kernel/drivers/block/virtio_blk.ko");
        byte[] b = Files.readAllBytes(ko);
        assertBad(() -> ElfModule.read(Arrays.copyOf(b, 4096), "virtio_blk.ko"),
                "virtio_blk.ko: e_shoff at offset 0x28: section headers");
        byte[] shoff = b.clone();
        shoff[0x28 + 7] = 0x7f;                    // e_shoff far beyond the file
        assertBad(() -> ElfModule.read(shoff, "virtio_blk.ko"), "run past the end of the file");
        assertBad(() -> ElfModule.read("not a module at all".getBytes(), "x.ko"), "neither an ELF module nor a compressed one");
    }

    @Test
    void modulesDepLineWithoutColon(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("6.1.0-test");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("modules.dep"), "kernel/a.ko:\nkernel/b.ko kernel/a.ko\n");
        assertBad(() -> Kmod.select(ModuleTree.ofDirectory(dir), java.util.List.of("b")),
                dir + "/modules.dep:2: no ':' after the module path");
        Files.writeString(dir.resolve("modules.dep"), "../../../etc/shadow:\n");
        assertBad(() -> Kmod.select(ModuleTree.ofDirectory(dir), java.util.List.of("shadow")), "leaves the module folder");
    }

    private static void assertBad(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String expected) {
        assertThatThrownBy(call).isInstanceOf(BadInputException.class).hasMessageContaining(expected)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    private static void putU32(byte[] b, int p, int v) {
        b[p] = (byte) (v >>> 24);
        b[p + 1] = (byte) (v >>> 16);
        b[p + 2] = (byte) (v >>> 8);
        b[p + 3] = (byte) v;
    }
}
