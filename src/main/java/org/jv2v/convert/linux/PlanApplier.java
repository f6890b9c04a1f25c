package org.jv2v.convert.linux;

import org.jv2v.Jv2vException;
import org.jv2v.fs.FileStat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Carries out a {@link ConversionPlan} on the guest's files (which write to the overlay), in the
 * plan's order, and flushes every edited filesystem. A file that changed since the plan was made
 * (it cannot, on an overlay nobody else writes, but the check is cheap) stops the conversion.
 */
public final class PlanApplier {
    /** The biggest initramfs jv2v reads: distribution images are 30-150 MiB; 1 GiB is beyond any. */
    static final int MAX_INITRAMFS_BYTES = 1 << 30;

    private PlanApplier() {}

    /** Applies every edit; returns one line per edit done (for the stage log), and warnings for optional ones skipped. */
    public static List<String> apply(ConversionPlan plan, GuestFiles files, InitramfsUpdater initramfs)
            throws IOException {
        List<String> done = new ArrayList<>();
        for (FileEdit e : plan.edits()) {
            Optional<String> ro = files.whyReadOnly(e.path());
            if (ro.isPresent()) {
                if (e.optional()) {
                    done.add("skipped (cannot write there: " + ro.get() + "): " + e.action() + " " + e.path());
                    continue;
                }
                throw new Jv2vException("cannot " + e.action() + " " + e.path() + ": " + ro.get());
            }
            switch (e) {
                case FileEdit.Rewrite r -> {
                    byte[] now = files.read(r.path(), Math.max(GuestFiles.MAX_CONFIG_BYTES, r.before().length))
                            .orElseThrow(() -> new Jv2vException(r.path() + " disappeared during the conversion"));
                    if (!java.util.Arrays.equals(now, r.before())) {
                        throw new Jv2vException(r.path() + " changed during the conversion");
                    }
                    files.rewrite(r.path(), r.after());
                    done.add("rewrote " + r.path());
                }
                case FileEdit.Create c -> {
                    if (files.exists(c.path())) {
                        throw new Jv2vException("cannot create " + c.path() + ": it exists");
                    }
                    files.create(c.path(), c.content(), c.mode(), 0, 0);
                    done.add("created " + c.path());
                }
                case FileEdit.Unlink u -> {
                    files.unlink(u.path());
                    done.add("removed " + u.path());
                }
                case FileEdit.Mkdir m -> {
                    files.mkdir(m.path(), m.mode());
                    done.add("made folder " + m.path());
                }
                case FileEdit.Copy c -> {
                    byte[] content = files.read(c.from(), MAX_INITRAMFS_BYTES)
                            .orElseThrow(() -> new Jv2vException(c.from() + ": not a file"));
                    int mode = files.stat(c.from()).map(FileStat::mode).orElse(0644) & 07777;
                    if (files.exists(c.path())) {
                        files.rewrite(c.path(), content);
                    } else {
                        files.create(c.path(), content, mode, 0, 0);
                    }
                    done.add("copied " + c.from() + " to " + c.path());
                }
                case FileEdit.RebuildInitramfs i -> {
                    long t0 = System.nanoTime();
                    byte[] image = files.read(i.path(), MAX_INITRAMFS_BYTES)
                            .orElseThrow(() -> new Jv2vException(i.path() + ": the initramfs is missing"));
                    InitramfsUpdater.Result r = initramfs.addModules(image, files, i.modulesDir(), i.kernelVersion(),
                            i.modules(), i.nicLinks());
                    long t1 = System.nanoTime();
                    if (r.image() != image) {
                        files.rewrite(i.path(), r.image());
                    }
                    long t2 = System.nanoTime();
                    if (r.image() != image) {
                        done.add(String.format(java.util.Locale.ROOT,
                                "rebuilt %s (%d KiB -> %d KiB; %.1f s to edit the image, %.1f s to write it)", i.path(),
                                image.length / 1024, r.image().length / 1024, (t1 - t0) / 1e9, (t2 - t1) / 1e9));
                    } else {
                        // already holds everything (a second conversion): not written at all
                        done.add(String.format(java.util.Locale.ROOT, "left %s unchanged (%d KiB; %.1f s to read it)",
                                i.path(), image.length / 1024, (t1 - t0) / 1e9));
                    }
                    r.changes().forEach(c -> done.add("  " + c));
                }
            }
        }
        files.flush();
        return done;
    }
}
