package org.jv2v.pipeline;

import org.jv2v.Jv2vException;
import org.jv2v.image.BlockDevice;
import org.jv2v.image.Overlay;
import org.jv2v.inspect.GuestInfo;
import org.jv2v.inspect.InspectOptions;
import org.jv2v.inspect.Inspection;
import org.jv2v.inspect.Inspector;
import org.jv2v.model.SourceVm;
import org.jv2v.source.Sources;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * "Inspecting the overlay": opens the source's disks read-only and finds the operating system on
 * them. A guest it cannot inspect (disks missing with --no-copy, an unknown layout, no OS at all)
 * is a warning here, not the error virt-v2v makes of it: it is copied unconverted, and the
 * conversion stage refuses only what it would have to change.
 */
final class InspectGuest {
    private InspectGuest() {}

    /**
     * The opened disks, the copy-on-write overlays over them (which inspection read and conversion
     * writes), and what is on them; closing closes the overlays and the disks.
     */
    record Inspected(GuestDisks disks, List<Overlay> overlays, Inspection inspection) implements AutoCloseable {
        Optional<GuestInfo> root() {
            return inspection.firstRoot();
        }

        @Override
        public void close() throws IOException {
            try {
                for (Overlay o : overlays) {
                    o.close();
                }
            } finally {
                disks.close();
            }
        }
    }

    static Optional<Inspected> run(ConversionRequest r, SourceVm vm, StageLog log) {
        log.stage("Creating an overlay to protect the source from being modified");
        GuestDisks disks;
        try {
            disks = GuestDisks.open(vm, Sources.guard(r.input(), r.inputs(), r.source()));
        } catch (IOException | Jv2vException e) {
            log.warn("cannot inspect the guest: " + message(e) + "; continuing without inspection");
            return Optional.empty();
        }
        List<Overlay> overlays = new ArrayList<>();
        Inspection in;
        try {
            for (BlockDevice d : disks.devices()) {
                overlays.add(Overlay.create(d));
            }
            log.stage("Inspecting the overlay");
            in = Inspector.inspect(List.copyOf(overlays), InspectOptions.defaults());
        } catch (IOException | Jv2vException e) {
            for (Overlay o : overlays) {
                closeQuietly(o);
            }
            log.warn("cannot inspect the guest: " + message(e) + "; continuing without inspection");
            closeQuietly(disks);
            return Optional.empty();
        }
        in.notes().forEach(n -> log.debug("inspection: " + n));
        if (in.roots().isEmpty()) {
            log.warn("no operating system was found on the guest's disks; nothing in the guest will be checked");
        } else {
            for (GuestInfo g : in.roots()) {
                log.detail(g.root() + ": " + g.describe() + " (" + g.type() + "/" + g.distro().orElse("unknown") + ", "
                        + g.arch().orElse("unknown arch") + ")");
                g.notes().forEach(n -> log.debug("inspection: " + g.root() + ": " + n));
            }
            log.detail("firmware: " + in.firmware().kind().name().toLowerCase(java.util.Locale.ROOT));
            if (in.roots().size() > 1) {
                log.warn("several operating systems were found (" + String.join(", ",
                        in.roots().stream().map(GuestInfo::root).toList()) + "): using the first");
            }
        }
        return Optional.of(new Inspected(disks, List.copyOf(overlays), in));
    }

    private static String message(Exception e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    private static void closeQuietly(AutoCloseable d) {
        try {
            d.close();
        } catch (Exception e) {
            // a read-only close cannot lose anything
        }
    }
}
