package org.jv2v.fs.xfs;

import org.jv2v.testing.FileDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An inode whose attribute fork is in extents format with no extents: what is left when every
 * attribute of a file went (found on /etc/systemd/network of a test guest built with the kernel).
 * xfs_repair finds nothing wrong with it and the kernel lists no attributes; jv2v lists none
 * either, rather than failing on a block 0 that is not mapped. Made here by mkfs.xfs with a
 * protofile and xfs_db in expert mode (a fork offset on a directory without attributes).
 */
class XfsEmptyAttrForkTest {
    @TempDir
    Path dir;

    @Test
    void anExtentsAttributeForkWithoutExtentsHoldsNoAttributes() throws Exception {
        XfsTools.require();
        SourceTree tree = new SourceTree(dir, 7);
        tree.dir("/network", 0755, 0, 0);
        Path image = XfsTools.mkfs(dir, tree, XfsTools.IMAGE_SIZE, List.of());
        String ino = XfsTools.field(XfsTools.db(image, "path /network", "p v3.inumber"), "v3.inumber");
        // an attribute fork (extents format, no extents) after 120 bytes of data fork
        XfsTools.db(image, true, List.of("inode " + ino, "write core.forkoff 15", "write core.aformat 2",
                "write core.naextents 0"));
        String core = XfsTools.db(image, "inode " + ino, "p core.forkoff core.aformat core.naextents");
        assertThat(XfsTools.field(core, "core.forkoff")).isEqualTo("15");
        assertThat(XfsTools.field(core, "core.aformat")).startsWith("2");
        XfsTools.assertRepairClean(image);

        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            assertThat(fs.xattrs("/network")).isEmpty();
            assertThat(fs.list("/network")).isEmpty();
        }
    }
}
