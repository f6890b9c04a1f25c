package org.jv2v.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Builds the {@link TestGuest}s once and keeps them in the project's build folder
 * ({@code target/guests/NAME/NAME.vmx} and {@code .vmdk}), reused by every test class and by later
 * runs until the scripts change. Building needs root (loop devices, mount, chroot) and Debian's
 * package mirror; without them the calling test is skipped with a notice (failed in CI).
 *
 * <p>Tests never write to a built guest: boot it through {@link QemuBoot} (which boots an overlay)
 * and convert it as a read-only source.
 */
public final class TestGuests {
    /** A built guest. */
    public record Built(TestGuest guest, Path vmx, Path vmdk, Duration buildTime, boolean reused) {
        public Path dir() {
            return vmx.getParent();
        }
    }

    /** debootstrap over the network plus two chroot installs and dracut: minutes, not hours. */
    private static final long BUILD_TIMEOUT_SECONDS = 1500;
    private static final List<String> TOOLS = List.of("bash", "debootstrap", "chroot", "qemu-img", "sfdisk",
            "sgdisk", "partx", "losetup", "mount", "mkfs.ext4", "mkfs.xfs", "xfs_repair", "mkfs.vfat", "fsck.vfat",
            "mcopy", "mmd", "mkswap", "lvm");
    private static final Map<TestGuest, Built> BUILT = new ConcurrentHashMap<>();
    private static final Map<String, Built> VARIANTS = new ConcurrentHashMap<>();

    private TestGuests() {}

    /** The guest, built now or earlier; skips (fails in CI) where it cannot be built. */
    public static synchronized Built get(TestGuest guest) throws IOException, InterruptedException {
        Built b = BUILT.get(guest);
        if (b != null) {
            return b;
        }
        requireBuildable();
        b = build(guest, guest.id(), guest.script());
        BUILT.put(guest, b);
        return b;
    }

    /**
     * A variant of a factory guest for one test class: built by {@code build-ID.sh} into
     * {@code target/guests/ID}, on the same ESXi-like hardware, firmware and MAC as {@code like}
     * (which {@link Built#guest()} returns). Not a {@link TestGuest}, so the tests that run on
     * every factory guest do not build or boot it.
     */
    public static synchronized Built variant(String id, TestGuest like) throws IOException, InterruptedException {
        Built b = VARIANTS.get(id);
        if (b != null) {
            return b;
        }
        requireBuildable();
        b = build(like, id, "build-" + id + ".sh");
        VARIANTS.put(id, b);
        return b;
    }

    /** {@code target/guests}: the guests, the shared Debian tree and the apt cache. */
    public static Path buildRoot() {
        return Corpus.projectDir().resolve("target").resolve("guests");
    }

    static Path scriptsDir() {
        return Corpus.projectDir().resolve("src/test/guests");
    }

    private static void requireBuildable() throws IOException, InterruptedException {
        Tools.require(TOOLS.toArray(String[]::new));
        String uid = Run.run(List.of("id", "-u")).stdout().strip();
        if (!"0".equals(uid)) {
            String msg = "building the test guests needs root (loop devices, mount, chroot)";
            if (Tools.inCi()) {
                throw new AssertionError(msg);
            }
            System.err.println("NOTICE: skipping: " + msg);
            Assumptions.abort(msg);
        }
    }

    private static Built build(TestGuest guest, String id, String scriptName) throws IOException, InterruptedException {
        Path out = buildRoot().resolve(id);
        Path vmx = out.resolve(id + ".vmx");
        Path vmdk = out.resolve(id + ".vmdk");
        Path stamp = out.resolve("stamp");
        String want = scriptsHash(scriptName);
        if (Files.isRegularFile(vmx) && Files.isRegularFile(vmdk) && Files.isRegularFile(stamp)
                && Files.readString(stamp).strip().equals(want)) {
            return new Built(guest, vmx, vmdk, Duration.ZERO, true);
        }
        Files.createDirectories(out);
        Files.deleteIfExists(stamp);
        Path script = scriptsDir().resolve(scriptName);
        System.err.println("building test guest " + id + " (log: " + out.resolve("build.log") + ")");
        long t0 = System.nanoTime();
        Run.Result r = Run.run(List.of("bash", script.toString(), out.toString(),
                buildRoot().resolve("base").toString(), buildRoot().resolve("apt-cache").toString()), null,
                Map.of(), BUILD_TIMEOUT_SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        Files.writeString(out.resolve("build.log"), r.all(), StandardCharsets.UTF_8);
        if (r.exitCode() != 0) {
            throw new AssertionError("building test guest " + id + " failed (exit " + r.exitCode() + "):\n"
                    + tail(r.all(), 40));
        }
        Files.writeString(out.resolve("build-seconds"), took.toMillis() / 1000.0 + "\n");
        Files.writeString(stamp, want + "\n");
        System.err.printf("built test guest %s in %.1f s%n", id, took.toMillis() / 1000.0);
        return new Built(guest, vmx, vmdk, took, false);
    }

    /**
     * SHA-256 over the guest's build script and the files every build shares (common.sh, the
     * marker): a changed script means a rebuild. Other guests' build scripts are left out, so that
     * adding or changing one guest does not rebuild the others.
     */
    private static String scriptsHash(String scriptName) throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.list(scriptsDir())) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> {
                String n = f.getFileName().toString();
                return !n.startsWith("build-") || n.equals(scriptName);
            }).sorted().toList()) {
                all.append(f.getFileName()).append(' ').append(Checksums.sha256(f)).append('\n');
            }
        }
        Path list = Files.createTempFile("jv2v-guests", ".sums");
        try {
            Files.writeString(list, all);
            return Checksums.sha256(list);
        } finally {
            Files.deleteIfExists(list);
        }
    }

    static String tail(String text, int lines) {
        String[] all = text.split("\n", -1);
        int from = Math.max(0, all.length - lines);
        return String.join("\n", java.util.Arrays.asList(all).subList(from, all.length));
    }
}
