package org.jv2v.fs.xfs;

import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Label and UUID as blkid prints them, also after xfs_admin changed them (v5 then keeps meta_uuid). */
class XfsIdentityTest {

    @ParameterizedTest
    @ValueSource(strings = {"v5", "v4"})
    void labelAndUuidMatchBlkid(String version, @TempDir Path dir) throws Exception {
        XfsTools.require();
        Tools.require("blkid", "xfs_admin");
        SourceTree t = new SourceTree(dir, 1);
        t.file("/f", 0644, 0, 0, "x".getBytes());
        Path image = XfsTools.mkfs(dir, t, XfsTools.IMAGE_SIZE, version.equals("v4") ? List.of("-m", "crc=0")
                : List.of("-L", "first"));
        check(image, version.equals("v4") ? Optional.empty() : Optional.of("first"));

        XfsTools.run(List.of("xfs_admin", "-U", "generate", "-L", "renamed-12ch", image.toString()));
        if (version.equals("v5")) {
            assertThat(XfsTools.db(image, "sb 0", "p meta_uuid", "p uuid"))
                    .as("the metadata keeps the old UUID (META_UUID feature)")
                    .doesNotContain("meta_uuid = 00000000-0000-0000-0000-000000000000");
        }
        check(image, Optional.of("renamed-12ch"));
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            assertThat(fs.readAll("/f", 10)).isEqualTo("x".getBytes());
            assertThat(fs.usedRanges()).isNotEmpty();
        }
    }

    private static void check(Path image, Optional<String> label) throws Exception {
        String blkid = XfsTools.run(List.of("blkid", "-p", "-o", "export", image.toString())).stdout();
        try (FileDevice dev = FileDevice.open(image); XfsFileSystem fs = XfsFileSystem.open(dev)) {
            assertThat(blkid).contains("TYPE=" + fs.type());
            assertThat(blkid).contains("UUID=" + fs.uuid().orElseThrow());
            assertThat(fs.label()).isEqualTo(label);
            label.ifPresent(l -> assertThat(blkid).contains("LABEL=" + l));
        }
    }
}
