package org.jv2v.fs.xfs;

import org.jv2v.fs.FileKind;
import org.jv2v.fs.FileStat;
import org.jv2v.testing.FileDevice;
import org.jv2v.testing.Run;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class XfsWriteTest {
    record Config(String name, List<String> options) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Config> configs() {
        return Stream.of(new Config("v5 defaults", List.of()),
                new Config("v4", List.of("-m", "crc=0")),
                new Config("v5 1k blocks 4k dir blocks", List.of("-b", "size=1024", "-n", "size=4096")),
                // as RHEL 7's mkfs.xfs made them: no free inode B+tree, sparse inodes, reflink or bigtime
                new Config("v5 as RHEL 7", List.of("-m", "finobt=0,reflink=0,bigtime=0,inobtcount=0", "-i", "sparse=0")));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void editsPassTheChecker(Config config, @TempDir Path dir) throws Exception {
        XfsTools.require();
        Path image = XfsTools.mkfs(dir, XfsEditScenario.tree(dir), XfsTools.IMAGE_SIZE, config.options());
        XfsEditScenario s = new XfsEditScenario();
        try (FileDevice dev = FileDevice.openWritable(image); XfsWritableFileSystem fs = XfsWritableFileSystem.open(dev)) {
            s.apply(fs);
        }
        XfsWriteChecks.repairClean(image);
        XfsWriteChecks.readBack(image, s);
        XfsWriteChecks.dbAgrees(image, s);
        // every directory went on to the next form (a node directory stays one), as xfs_db sees them
        long blockSize = Long.parseLong(XfsTools.field(XfsTools.db(image, "sb 0", "p blocksize"), "blocksize"));
        List<String> forms = new ArrayList<>();
        for (String form : XfsEditScenario.FORMS) {
            forms.add(formOf(image, "/forms/" + form, blockSize));
        }
        assertThat(forms).isEqualTo(List.of("block", "leaf", "node", "node"));
    }

    /** A directory's form from its inode format and where its blocks lie (leaf at 32 GiB, free index at 64 GiB). */
    static String formOf(Path image, String path, long blockSize) throws Exception {
        if (XfsTools.field(XfsTools.db(image, "path " + path, "p core.format"), "core.format").startsWith("1")) {
            return "short";
        }
        long maxOffset = 0;
        for (long[] x : XfsTools.bmap(image, path, false)) {
            maxOffset = Math.max(maxOffset, x[0] * blockSize);
        }
        return maxOffset >= 64L << 30 ? "node" : maxOffset >= 32L << 30 ? "leaf" : "block";
    }
}
