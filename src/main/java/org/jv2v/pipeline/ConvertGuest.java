package org.jv2v.pipeline;

import org.jv2v.Jv2vException;
import org.jv2v.convert.linux.ConversionInput;
import org.jv2v.convert.linux.ConversionPlan;
import org.jv2v.convert.linux.EditorInitramfs;
import org.jv2v.convert.linux.FileEdit;
import org.jv2v.convert.linux.GuestMounts;
import org.jv2v.convert.linux.LinuxConverter;
import org.jv2v.convert.linux.NothingToConvertException;
import org.jv2v.convert.linux.PlanApplier;
import org.jv2v.convert.linux.PlanPrinter;
import org.jv2v.inspect.GuestInfo;
import org.jv2v.model.Firmware;
import org.jv2v.model.SourceNic;
import org.jv2v.model.SourceVm;
import org.jv2v.target.GuestCapabilities;
import org.jv2v.volume.Unsupported;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * "Converting Debian GNU/Linux 12 to run on KVM": plans the guest's conversion from its files, and
 * (unless {@code --plan}) applies it to the overlays. Runs after the free-space check and before
 * the target devices are chosen, which follow what the converted guest can drive.
 *
 * <p>Refusals (a guest that would not boot converted: no kernel with virtio drivers, a filesystem
 * not shut down cleanly, an encrypted root) stop the run here, before anything is copied.
 */
final class ConvertGuest {
    private ConvertGuest() {}

    /**
     * What the conversion established.
     *
     * @param capabilities what the guest drives now (the target's devices follow them)
     * @param plan         the plan, when a Linux guest was converted (or planned)
     * @param fingerprint  a digest of every change made ("" when nothing was written)
     */
    record Converted(GuestCapabilities capabilities, Optional<ConversionPlan> plan, String fingerprint) {}

    static Converted run(ConversionRequest r, SourceVm vm, Optional<InspectGuest.Inspected> inspected, StageLog log)
            throws IOException {
        Converted unconverted = new Converted(r.capabilities(), Optional.empty(), "");
        if (inspected.isEmpty()) {
            if (r.planOnly()) {
                throw new Jv2vException("--plan: the guest could not be inspected, so there is nothing to plan");
            }
            return unconverted;
        }
        if (r.noConvert()) {
            if (r.planOnly()) {
                throw new Jv2vException("--plan and --no-convert: with no conversion there is nothing to plan");
            }
            log.debug("--no-convert: the guest is copied as it is");
            return unconverted;
        }
        InspectGuest.Inspected in = inspected.get();
        Optional<GuestInfo> root = in.root();
        if (root.isEmpty()) {
            List<Unsupported> luks = in.inspection().scan().unsupported().stream()
                    .filter(u -> u.what().equals("LUKS")).toList();
            if (!luks.isEmpty()) {
                throw new Jv2vException("cannot convert: no operating system was found, and "
                        + String.join(", ", luks.stream().map(Unsupported::name).toList())
                        + (luks.size() == 1 ? " is" : " are") + " encrypted (LUKS): jv2v cannot open encrypted "
                        + "volumes, so it cannot add the virtio drivers the guest needs on KVM. Decrypt the root "
                        + "volume in the guest (or convert it while it runs with a key, with virt-v2v --key), "
                        + "then convert again");
            }
            if (r.planOnly()) {
                throw new Jv2vException("--plan: no operating system was found on the guest's disks: nothing to plan");
            }
            return unconverted;
        }
        GuestInfo g = root.get();
        if (!g.isLinux()) {
            if (r.planOnly()) {
                throw new Jv2vException("--plan: converting " + g.describe() + " is not supported yet");
            }
            log.warn("converting " + g.describe() + " is not supported yet: its disks are copied unchanged and "
                    + "the target keeps devices it already drives");
            return unconverted;
        }
        Map<Integer, Integer> slots = new java.util.HashMap<>();
        for (SourceNic n : vm.nics()) {
            n.pciSlot().ifPresent(s -> slots.put(n.index(), s));
        }
        ConversionInput input = new ConversionInput(vm.disks(), vm.nics(), slots, firmware(vm, in),
                r.target().blockDriver(), Map.of());
        ConversionPlan plan;
        List<String> applied = List.of();
        try (GuestMounts mounts = GuestMounts.open(in.inspection(), g, r.planOnly())) {
            log.stage("Converting " + LinuxConverter.product(mounts.files()).orElse(g.describe()) + " to run on KVM");
            input = new ConversionInput(input.disks(), input.nics(), input.nicPciSlots(), input.firmware(),
                    input.blockDriver(), mounts.unreadable());
            EditorInitramfs initramfs = new EditorInitramfs();
            try {
                plan = new LinuxConverter(initramfs).plan(mounts.files(), input);
            } catch (NothingToConvertException e) {
                if (r.planOnly()) {
                    throw new Jv2vException("--plan: " + e.getMessage());
                }
                log.warn(e.getMessage() + ": the disks are copied unchanged");
                return unconverted;
            }
            if (r.planOnly()) {
                for (String refusal : mounts.refusals()) {
                    log.warn(refusal + " (the conversion stops if it has to change a file there)");
                }
                log.out().print(r.machineReadable() ? PlanPrinter.jsonText(plan) : PlanPrinter.text(plan));
                log.out().flush();
                return new Converted(plan.capabilities(), Optional.of(plan), "");
            }
            plan.summary().forEach(log::detail);
            plan.warnings().forEach(log::warn);
            plan.notes().forEach(n -> log.debug("conversion: " + n));
            applied = PlanApplier.apply(plan, mounts.files(), initramfs);
            applied.forEach(log::detail);
        }
        return new Converted(plan.capabilities(), Optional.of(plan), fingerprint(plan));
    }

    /** The source's firmware, or, where it does not say, what the disks show. */
    private static Firmware firmware(SourceVm vm, InspectGuest.Inspected in) {
        if (vm.firmware() != Firmware.UNKNOWN) {
            return vm.firmware();
        }
        return ChooseDevices.firmware(in).firmware();
    }

    private static String fingerprint(ConversionPlan plan) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (FileEdit e : plan.edits()) {
                md.update((e.action() + " " + e.path() + "\n").getBytes(StandardCharsets.UTF_8));
                switch (e) {
                    case FileEdit.Rewrite w -> md.update(w.after());
                    case FileEdit.Create c -> md.update(c.content());
                    case FileEdit.RebuildInitramfs i -> {
                        md.update(String.join(",", i.modules()).getBytes(StandardCharsets.UTF_8));
                        i.nicLinks().values().forEach(md::update);
                    }
                    default -> { }
                }
            }
            // and this run: the filesystem editors stamp the time of the edit into what they write,
            // so two runs' overlays differ, and a copy must not be resumed across them
            return HexFormat.of().formatHex(md.digest()) + "@" + java.util.UUID.randomUUID();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
