package org.jv2v.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What this process has open under a folder, as Linux reports it in /proc/self/fd, /proc/self/fdinfo
 * and /proc/self/maps. Checksums prove a source was not changed; this proves it could not have been:
 * every descriptor on it was opened O_RDONLY and no writable shared mapping covers it (tests run as
 * root here, so file permissions would not stop a read-write open).
 */
public final class OpenFiles {
    private static final Path FD = Path.of("/proc/self/fd");
    private static final Path FDINFO = Path.of("/proc/self/fdinfo");
    private static final Path MAPS = Path.of("/proc/self/maps");
    /** open(2) access modes, the low two bits of fdinfo's octal "flags". */
    private static final int O_ACCMODE = 3;
    private static final int O_RDONLY = 0;

    private OpenFiles() {}

    /** One open descriptor on a file under the folder. */
    public record Open(int fd, Path file, int flags) {
        public boolean readOnly() {
            return (flags & O_ACCMODE) == O_RDONLY;
        }
    }

    /** The descriptors this process holds on files under {@code root} (after symbolic links). */
    public static List<Open> under(Path root) throws IOException {
        Path real = root.toRealPath();
        List<Open> out = new ArrayList<>();
        List<Path> fds;
        try (Stream<Path> s = Files.list(FD)) {
            fds = s.toList();
        }
        for (Path fd : fds) {
            Path target;
            String flags;
            try {
                target = Files.readSymbolicLink(fd);
                flags = Files.readAllLines(FDINFO.resolve(fd.getFileName())).stream()
                        .filter(l -> l.startsWith("flags:")).findFirst().orElseThrow().substring(6).strip();
            } catch (IOException e) {
                continue; // closed meanwhile (another thread's, or the listing's own descriptor)
            }
            if (target.isAbsolute() && target.startsWith(real)) {
                out.add(new Open(Integer.parseInt(fd.getFileName().toString()), target, Integer.parseInt(flags, 8)));
            }
        }
        return out;
    }

    /**
     * Fails if any descriptor on a file under {@code root} allows writing, or a shared writable
     * mapping covers one; returns the files open (so a caller can check the check saw something).
     */
    public static Set<Path> assertReadOnly(Path root) throws IOException {
        Set<Path> files = new TreeSet<>();
        for (Open o : under(root)) {
            assertThat(o.readOnly()).as("fd %d on %s has flags 0%o: not opened read-only", o.fd(), o.file(),
                    o.flags()).isTrue();
            files.add(o.file());
        }
        Path real = root.toRealPath();
        for (String line : Files.readAllLines(MAPS)) {
            // address perms offset dev inode path
            String[] f = line.split("\\s+", 6);
            if (f.length == 6 && f[5].startsWith(real + "/")) {
                assertThat(f[1]).as("mapping of %s", f[5]).doesNotContain("w");
            }
        }
        return files;
    }

    /** Starts sampling the descriptors on files under {@code root} from another thread. */
    public static Watch watch(Path root) {
        return new Watch(root);
    }

    /**
     * Samples, every millisecond, the descriptors on files under a folder while a command runs in
     * this process (a copy holds its source files open throughout, so the samples see them).
     */
    public static final class Watch implements AutoCloseable {
        private static final int ENOUGH_SAMPLES = 50;
        private final Thread thread;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final List<Open> seen = Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger samples = new AtomicInteger();

        private Watch(Path root) {
            thread = Thread.ofPlatform().daemon().name("open-files-watch").start(() -> {
                while (!stop.get()) {
                    try {
                        for (Open o : under(root)) {
                            if (seen.size() < 10_000 && !seen.contains(o)) {
                                seen.add(o);
                            }
                        }
                        samples.incrementAndGet();
                        Thread.sleep(1);
                    } catch (IOException | InterruptedException e) {
                        return;
                    }
                }
            });
        }

        /**
         * Stops sampling; fails if a descriptor seen was not read-only, or if none was seen although
         * the sampler ran {@value #ENOUGH_SAMPLES} times or more (on a loaded machine it may hardly
         * run during a short copy: callers check the open mode deterministically too, with the image
         * opened through the API).
         */
        public void assertSawOnlyReadOnly() {
            close();
            if (samples.get() >= ENOUGH_SAMPLES) {
                assertThat(seen).as("descriptors on the source seen in %d samples", samples.get()).isNotEmpty();
            }
            assertThat(seen).allSatisfy(o -> assertThat(o.readOnly()).as("fd %d on %s has flags 0%o: not opened read-only",
                            o.fd(), o.file(), o.flags()).isTrue());
        }

        @Override
        public void close() {
            stop.set(true);
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
