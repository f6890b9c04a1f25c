package org.jv2v.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The read-only check catches what it is for: a read-write descriptor, a writable shared mapping. */
class OpenFilesTest {
    @TempDir
    Path dir;

    @Test
    void seesReadOnlyDescriptorsAndCatchesWritableOnes() throws Exception {
        Path f = Files.write(dir.resolve("disk.img"), new byte[8192]);
        assertThat(OpenFiles.under(dir)).isEmpty();
        try (FileChannel r = FileChannel.open(f, StandardOpenOption.READ)) {
            assertThat(OpenFiles.assertReadOnly(dir)).containsExactly(f.toRealPath());
            try (FileChannel w = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                assertThatThrownBy(() -> OpenFiles.assertReadOnly(dir)).isInstanceOf(AssertionError.class)
                        .hasMessageContaining("not opened read-only");
            }
            var map = r.map(FileChannel.MapMode.READ_ONLY, 0, 8192);
            assertThat(map.get(0)).isZero();
            assertThat(OpenFiles.assertReadOnly(dir)).hasSize(1);
        }
        Path g = Files.write(dir.resolve("other.img"), new byte[8192]);
        try (FileChannel w = FileChannel.open(g, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            var map = w.map(FileChannel.MapMode.READ_WRITE, 0, 8192);
            w.close(); // the mapping outlives the descriptor
            assertThatThrownBy(() -> OpenFiles.assertReadOnly(dir)).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("mapping of");
            assertThat(map.get(0)).isZero();
        }
    }
}
