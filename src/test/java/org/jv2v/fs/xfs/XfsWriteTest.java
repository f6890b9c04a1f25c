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
                new Config("v5 1k blocks 4k dir blocks", List.of("-b", "size=1024", "-n", "size=4096")));
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
        for (String form : XfsEditScenario.FORMS) {
            System.out.println(form + ": " + XfsTools.db(image, "path /forms/" + form, "print core.format core.size core.nextents"));
        }
    }
}
