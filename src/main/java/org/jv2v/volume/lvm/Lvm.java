package org.jv2v.volume.lvm;

import org.jv2v.BadInputException;
import org.jv2v.image.BlockDevice;
import org.jv2v.volume.Placement;
import org.jv2v.volume.Unsupported;
import org.jv2v.volume.Volume;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * LVM2: finds the physical volumes among the candidate devices, reads the newest metadata of each
 * volume group (highest seqno over every copy on every PV), and maps its linear and striped logical
 * volumes onto the PVs. Other segment types (thin, RAID, mirror, snapshot, cache, VDO) and VGs with
 * missing PVs are reported as unsupported rather than half-mapped.
 */
public final class Lvm {
    static final long SECTOR = 512;
    /** lvm2 refuses more than 128 stripes. */
    static final int MAX_STRIPES = 128;

    private Lvm() {}

    /** A device that may be a PV, with its Linux name. */
    public record Candidate(String name, BlockDevice device) {}

    public record Result(List<VolumeGroup> groups, List<Volume> volumes, List<Unsupported> unsupported) {}

    /**
     * If {@code device} is a logical volume assembled here, the pieces of its physical volumes that
     * hold {@code [offset, offset + length)}; otherwise empty.
     */
    public static Optional<List<Placement>> place(BlockDevice device, long offset, long length) {
        return device instanceof LvDevice lv ? Optional.of(lv.place(offset, length)) : Optional.empty();
    }

    /** True when {@code device} carries an LVM2 PV label. */
    public static boolean isPhysicalVolume(BlockDevice device) throws IOException {
        return PvLabel.read(device).isPresent();
    }

    private record Pv(Candidate candidate, PvLabel label) {}

    private record Copy(String vgName, long seqno, Map<String, Object> vg, String source) {}

    /** Assembles the VGs whose PVs are among {@code pvs} (devices without a PV label are ignored). */
    public static Result assemble(List<Candidate> candidates) throws IOException {
        List<Unsupported> unsupported = new ArrayList<>();
        Map<String, Pv> byUuid = new LinkedHashMap<>();
        Map<String, Copy> newest = new LinkedHashMap<>(); // by VG UUID
        Map<String, String> problems = new LinkedHashMap<>(); // PV name -> why none of its copies was used
        for (Candidate c : candidates) {
            Optional<PvLabel> label = PvLabel.read(c.device);
            if (label.isEmpty()) {
                continue;
            }
            byUuid.put(label.get().uuid(), new Pv(c, label.get()));
            for (long[] mda : label.get().metadataAreas()) {
                String source = c.device.describe() + ": LVM metadata at offset 0x" + Long.toHexString(mda[0]);
                try {
                    Optional<String> text = MetadataArea.text(c.device, mda[0], mda[1]);
                    if (text.isEmpty()) {
                        continue;
                    }
                    Copy copy = vgSection(LvmText.parse(text.get(), source), source);
                    String vgId = string(copy.vg, "id", source);
                    Copy old = newest.get(vgId);
                    if (old == null || copy.seqno > old.seqno) {
                        newest.put(vgId, copy);
                    }
                } catch (BadInputException e) {
                    problems.put(c.name, e.getMessage());
                }
            }
        }
        List<VolumeGroup> groups = new ArrayList<>();
        List<Volume> volumes = new ArrayList<>();
        java.util.Set<String> usedPvs = new java.util.HashSet<>();
        for (Copy copy : newest.values()) {
            assembleGroup(copy, byUuid, groups, volumes, unsupported, usedPvs);
        }
        for (Pv pv : byUuid.values()) {
            if (!usedPvs.contains(pv.label.uuid())) {
                String why = problems.getOrDefault(pv.candidate.name, "no volume group metadata names it");
                unsupported.add(new Unsupported(pv.candidate.name, "LVM physical volume", why));
            }
        }
        return new Result(groups, volumes, unsupported);
    }

    private static Copy vgSection(Map<String, Object> top, String source) {
        for (Map.Entry<String, Object> e : top.entrySet()) {
            if (e.getValue() instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> vg = (Map<String, Object>) m;
                return new Copy(e.getKey(), number(vg, "seqno", source), vg, source);
            }
        }
        throw BadInputException.of(source + ": no volume group section");
    }

    private static void assembleGroup(Copy copy, Map<String, Pv> byUuid, List<VolumeGroup> groups,
                                      List<Volume> volumes, List<Unsupported> unsupported,
                                      java.util.Set<String> usedPvs) {
        String src = copy.source + ", VG " + copy.vgName;
        long extentSize = multiply(number(copy.vg, "extent_size", src), SECTOR, src + ": extent_size");
        if (extentSize <= 0) {
            throw BadInputException.of(src + ": extent_size " + extentSize + " is not positive");
        }
        Map<String, Object> pvSection = section(copy.vg, "physical_volumes", src);
        Map<String, PvPlace> places = new LinkedHashMap<>();
        List<String> found = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Object> e : pvSection.entrySet()) {
            String psrc = src + ", PV " + e.getKey();
            Map<String, Object> pv = asSection(e.getValue(), psrc);
            String id = string(pv, "id", psrc);
            Pv dev = byUuid.get(id.replace("-", ""));
            if (dev == null) {
                missing.add(id);
                continue;
            }
            usedPvs.add(dev.label.uuid());
            found.add(dev.candidate.name);
            long peStart = multiply(number(pv, "pe_start", psrc), SECTOR, psrc + ": pe_start");
            long peCount = number(pv, "pe_count", psrc);
            if (peStart < 0 || peCount < 0 || peStart > dev.candidate.device.size()
                    || multiply(peCount, extentSize, psrc + ": pe_count") > dev.candidate.device.size() - peStart) {
                throw BadInputException.of(psrc + ": pe_start " + peStart + " + " + peCount + " extents lie past the end of "
                        + dev.candidate.name + " (" + dev.candidate.device.size() + " bytes)");
            }
            places.put(e.getKey(), new PvPlace(dev.candidate, peStart, peCount));
        }
        List<String> lvNames = new ArrayList<>();
        Object lvsObj = copy.vg.get("logical_volumes");
        Map<String, Object> lvs = lvsObj == null ? Map.of() : asSection(lvsObj, src + ", logical_volumes");
        for (Map.Entry<String, Object> e : lvs.entrySet()) {
            String lvName = e.getKey();
            String devName = "/dev/" + copy.vgName + "/" + lvName;
            String lsrc = src + ", LV " + lvName;
            Map<String, Object> lv = asSection(e.getValue(), lsrc);
            if (!list(lv, "status", lsrc).contains("VISIBLE")) {
                continue; // internal LVs (pool metadata, mirror legs) have no /dev node
            }
            lvNames.add(lvName);
            try {
                volumes.add(new Volume(devName, mapLv(devName, lv, places, extentSize, lsrc),
                        Volume.Kind.LOGICAL_VOLUME, Optional.empty()));
            } catch (UnsupportedLv u) {
                unsupported.add(new Unsupported(devName, "LVM logical volume", u.getMessage()));
            }
        }
        groups.add(new VolumeGroup(copy.vgName, string(copy.vg, "id", src), copy.seqno, extentSize, found, missing,
                lvNames));
    }

    private record PvPlace(Candidate candidate, long peStart, long peCount) {}

    private static final class UnsupportedLv extends Exception {
        UnsupportedLv(String message) {
            super(message, null, false, false);
        }
    }

    private static LvDevice mapLv(String devName, Map<String, Object> lv, Map<String, PvPlace> places,
                                  long extentSize, String src) throws UnsupportedLv {
        List<Map<String, Object>> segs = new ArrayList<>();
        for (Object v : lv.values()) {
            if (v instanceof Map<?, ?>) {
                segs.add(asSection(v, src));
            }
        }
        segs.sort(java.util.Comparator.comparingLong(s -> number(s, "start_extent", src)));
        List<LvDevice.Segment> out = new ArrayList<>();
        long next = 0;
        for (Map<String, Object> s : segs) {
            String type = string(s, "type", src);
            if (!type.equals("striped") && !type.equals("linear")) {
                throw new UnsupportedLv("segment type '" + type + "' is not supported (only linear and striped)");
            }
            long startExtent = number(s, "start_extent", src);
            long count = number(s, "extent_count", src);
            if (startExtent != next || count <= 0) {
                throw BadInputException.of(src + ": segment at extent " + startExtent + " (+" + count
                        + ") does not follow on from extent " + next);
            }
            long stripes = s.containsKey("stripe_count") ? number(s, "stripe_count", src) : 1;
            if (stripes < 1 || stripes > MAX_STRIPES || count % stripes != 0) {
                throw BadInputException.of(src + ": stripe_count " + stripes + " is not within [1, " + MAX_STRIPES
                        + "] or does not divide extent_count " + count);
            }
            long stripeSize = stripes == 1 ? extentSize
                    : multiply(number(s, "stripe_size", src), SECTOR, src + ": stripe_size");
            if (stripeSize <= 0 || Long.bitCount(stripeSize) != 1) {
                throw BadInputException.of(src + ": stripe_size " + stripeSize + " bytes is not a power of two");
            }
            List<Object> areas = list(s, "stripes", src);
            if (areas.size() != 2 * stripes) {
                throw BadInputException.of(src + ": stripes list has " + areas.size() + " items for " + stripes
                        + " stripes");
            }
            long perArea = count / stripes;
            List<LvDevice.Area> mapped = new ArrayList<>();
            for (int i = 0; i < stripes; i++) {
                if (!(areas.get(2 * i) instanceof String pvKey) || !(areas.get(2 * i + 1) instanceof Long pe)) {
                    throw BadInputException.of(src + ": stripes entry " + i + " is not \"pvN\", extent");
                }
                PvPlace p = places.get(pvKey);
                if (p == null) {
                    throw new UnsupportedLv("its physical volume " + pvKey + " is missing");
                }
                if (pe < 0 || pe > p.peCount || perArea > p.peCount - pe) {
                    throw BadInputException.of(src + ": extents [" + pe + ", +" + perArea + ") lie past the "
                            + p.peCount + " extents of " + pvKey);
                }
                mapped.add(new LvDevice.Area(p.candidate.device(), p.peStart + pe * extentSize));
            }
            out.add(new LvDevice.Segment(multiply(startExtent, extentSize, src), multiply(count, extentSize, src),
                    stripeSize, mapped));
            next = startExtent + count;
        }
        if (out.isEmpty()) {
            throw new UnsupportedLv("it has no segments");
        }
        return new LvDevice(devName, out);
    }

    private static long multiply(long a, long b, String what) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw BadInputException.of(what + ": " + a + " * " + b + " overflows");
        }
    }

    private static Map<String, Object> section(Map<String, Object> m, String key, String src) {
        Object v = m.get(key);
        if (v == null) {
            throw BadInputException.of(src + ": missing section " + key);
        }
        return asSection(v, src + ", " + key);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asSection(Object v, String src) {
        if (!(v instanceof Map<?, ?>)) {
            throw BadInputException.of(src + ": expected a section");
        }
        return (Map<String, Object>) v;
    }

    private static long number(Map<String, Object> m, String key, String src) {
        if (!(m.get(key) instanceof Long n)) {
            throw BadInputException.of(src + ": field " + key + " is missing or not a number");
        }
        return n;
    }

    private static String string(Map<String, Object> m, String key, String src) {
        if (!(m.get(key) instanceof String s)) {
            throw BadInputException.of(src + ": field " + key + " is missing or not a string");
        }
        return s;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Map<String, Object> m, String key, String src) {
        if (!(m.get(key) instanceof List<?> l)) {
            throw BadInputException.of(src + ": field " + key + " is missing or not a list");
        }
        return (List<Object>) l;
    }
}
