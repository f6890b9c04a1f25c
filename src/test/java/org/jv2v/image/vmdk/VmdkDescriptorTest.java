package org.jv2v.image.vmdk;

import org.jv2v.BadInputException;
import org.jv2v.image.PathGuard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The descriptor parser on the text ESXi and Workstation write (qemu-made ones are in VmdkQemuTest). */
class VmdkDescriptorTest {
    @TempDir
    Path dir;

    /** An ESXi 7 SEsparse snapshot descriptor, with CRLF line ends and a change-tracking line. */
    private static final String ESXI_DELTA = """
            # Disk DescriptorFile\r
            version=1\r
            encoding="UTF-8"\r
            CID=7d3c1a20\r
            parentCID=5e8e2b9f\r
            isNativeSnapshot="no"\r
            createType="seSparse"\r
            parentFileNameHint="web01.vmdk"\r
            # Extent description\r
            RW 83886080 SESPARSE "web01-000001-sesparse.vmdk"\r
            \r
            # Change Tracking File\r
            changeTrackPath="web01-000001-ctk.vmdk"\r
            \r
            # The Disk Data Base \r
            #DDB\r
            \r
            ddb.encoding = "UTF-8"\r
            ddb.grain = "8"\r
            ddb.longContentID = "0a1b2c3d4e5f60718293a4b57d3c1a20"\r
            """;

    @Test
    void parsesAnEsxiSnapshotDescriptor() {
        VmdkDescriptor d = VmdkDescriptor.parse(dir.resolve("web01-000001.vmdk"), 0, ESXI_DELTA);
        assertThat(d.version()).isEqualTo(1);
        assertThat(d.cid()).isEqualTo(0x7d3c1a20L);
        assertThat(d.parentCid()).isEqualTo(0x5e8e2b9fL);
        assertThat(d.createType()).isEqualTo("seSparse");
        assertThat(d.parentFileNameHint()).contains("web01.vmdk");
        assertThat(d.hasParent()).isTrue();
        assertThat(d.extents()).containsExactly(new VmdkDescriptor.ExtentLine(VmdkDescriptor.Access.RW, 83886080,
                VmdkDescriptor.ExtentKind.SESPARSE, java.util.Optional.of("web01-000001-sesparse.vmdk"), 0, 10));
        assertThat(d.virtualSize()).isEqualTo(40L << 30);
        assertThat(d.ddb()).containsEntry("grain", "8").containsKey("longContentID");
        assertThat(d.adapterType()).isEmpty();
        assertThat(d.geometry()).isEmpty();
        assertThat(d.embedded()).isFalse();
        PathGuard guard = PathGuard.folderOf(d.file());
        assertThat(d.parentPath(guard)).contains(dir.resolve("web01.vmdk").toAbsolutePath());
        assertThat(d.extentPaths(guard)).containsExactly(dir.resolve("web01-000001-sesparse.vmdk").toAbsolutePath());
    }

    @Test
    void readsTheCharsetTheDescriptorNames() throws Exception {
        Path f = dir.resolve("d.vmdk");
        String text = """
                # Disk DescriptorFile
                version=1
                encoding="windows-1252"
                CID=fffffffe
                parentCID=ffffffff
                createType="monolithicFlat"
                RW 2048 FLAT "Caf\u00e9-flat.vmdk" 0
                """;
        Files.write(f, text.getBytes("windows-1252"));
        assertThat(VmdkDescriptor.read(f).extents().getFirst().fileName()).contains("Caf\u00e9-flat.vmdk");
        Files.write(f, text.replace("windows-1252", "UTF-8").getBytes(StandardCharsets.UTF_8));
        assertThat(VmdkDescriptor.read(f).extents().getFirst().fileName()).contains("Caf\u00e9-flat.vmdk");
    }

    @Test
    void windowsParentPathFallsBackToTheSameFolder() {
        String text = ESXI_DELTA.replace("parentFileNameHint=\"web01.vmdk\"",
                "parentFileNameHint=\"C:\\VMs\\web01\\web01.vmdk\"");
        VmdkDescriptor d = VmdkDescriptor.parse(dir.resolve("web01-000001.vmdk"), 0, text);
        assertThat(d.parentFileNameHint()).contains("C:\\VMs\\web01\\web01.vmdk");
        assertThat(d.parentPath(PathGuard.folderOf(d.file()))).contains(dir.resolve("web01.vmdk").toAbsolutePath());
    }

    @Test
    void problemsNameTheirLine() {
        Path f = dir.resolve("x.vmdk");
        String head = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"vmfs\"\n";
        assertThatThrownBy(() -> VmdkDescriptor.parse(f, 0, head + "RW 0 VMFS \"a\"\n"))
                .isInstanceOf(BadInputException.class).hasMessage(f + ":6: extent size 0 sectors is out of range (1.."
                        + VmdkDescriptor.MAX_SECTORS + ")");
        assertThatThrownBy(() -> VmdkDescriptor.parse(f, 0, head + "RW 10 FLAT \"a\"\n"))
                .hasMessage(f + ":6: FLAT extent without its offset");
        assertThatThrownBy(() -> VmdkDescriptor.parse(f, 0, head + "RW 10 ZERO \"a\"\n"))
                .hasMessage(f + ":6: a ZERO extent names no file");
        assertThatThrownBy(() -> VmdkDescriptor.parse(f, 0, head + "RW 10 SPARSE \"a\" 5\n"))
                .hasMessage(f + ":6: SPARSE extent with an offset");
        assertThatThrownBy(() -> VmdkDescriptor.parse(f, 0, head.replace("version=1", "version=7")))
                .hasMessage(f + ":2: unsupported descriptor version '7'");
        assertThatThrownBy(() -> VmdkDescriptor.parse(f, 0, head + "RW 137438953472 VMFS \"a\"\nRW 1 VMFS \"b\"\n"))
                .hasMessageContaining(":7: extents add up to more than");
        assertThatThrownBy(() -> VmdkDescriptor.parse(f, 0x200, head + "garbage here\n"))
                .hasMessage(f + ": embedded descriptor line 6 at offset 0x200: not a VMDK descriptor line: 'garbage here'");
        assertThatThrownBy(() -> VmdkDescriptor.parse(f, 0, "version=1\nCID=1\nparentCID=ffffffff\n"))
                .hasMessage(f + ": descriptor has no createType");
    }
}
