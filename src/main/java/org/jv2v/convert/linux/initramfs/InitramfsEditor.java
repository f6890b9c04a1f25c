package org.jv2v.convert.linux.initramfs;

import org.jv2v.BadInputException;
import org.jv2v.convert.linux.compress.Codecs;
import org.jv2v.convert.linux.compress.Compression;
import org.jv2v.convert.linux.kmod.Depmod;
import org.jv2v.convert.linux.kmod.ElfModule;
import org.jv2v.convert.linux.kmod.Kmod;
import org.jv2v.convert.linux.kmod.ModuleNames;
import org.jv2v.convert.linux.kmod.ModuleTree;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Adds kernel modules to an existing initramfs without running the guest's dracut or
 * mkinitramfs: the module files are copied from the guest's {@code /lib/modules/KVER} as they
 * are (compressed as the guest ships them), kmod's index files are regenerated for the modules the
 * image then holds (so udev, which loads drivers by the devices' modalias through
 * {@code modules.alias.bin}, finds virtio_pci for the PCI device and virtio_blk for the disk),
 * and the archive is compressed again with the compression it had.
 *
 * <p>Parts before the rewritten one (the early microcode archive) are kept byte for byte; the
 * rewritten archive keeps every entry it had, byte for byte, except the index files it replaces
 * in place; new entries go before its trailer. The new image is read back and checked before it
 * is returned.
 */
final class InitramfsEditor {

    private InitramfsEditor() {}

    /**
     * Adds the modules {@code wanted} needs (names such as "virtio_blk"; dependencies, as the
     * guest's modules.dep lists them, come along; built-in ones are skipped) to the initramfs of
     * the guest kernel {@code guest}. {@code source} names the image in messages.
     */
    static VirtioInitramfs.Result addModules(byte[] image, String source, ModuleTree guest, Collection<String> wanted,
                                             InitramfsLimits limits) throws IOException {
        return addModules(image, source, guest, wanted, "virtio_net", Map.of(), limits);
    }

    /**
     * As {@link #addModules(byte[], String, ModuleTree, Collection, InitramfsLimits)}, and in the same
     * rewrite, adds the systemd .link files {@code nicLinks} (file name -> content) to the image's
     * {@value #LINK_DIR} where the image names NICs itself: its udev runs net_setup_link
     * (80-net-setup-link.rules) and it holds {@code nicDriver} (as a module, or built into the
     * kernel). Such an image names the NIC by the default policy before the real root's .link
     * files are read; systemd before 240 never renames a NIC userspace has named, and no systemd
     * renames one that is up. Elsewhere the NIC first appears under the real root and the image
     * needs no .link file. Where every wanted driver is built in the image is not read (nothing
     * is added, links neither).
     */
    static VirtioInitramfs.Result addModules(byte[] image, String source, ModuleTree guest, Collection<String> wanted,
                                             String nicDriver, Map<String, byte[]> nicLinks, InitramfsLimits limits)
            throws IOException {
        String kver = guest.kernelVersion();
        List<String> plan = new ArrayList<>();

        Kmod.Selection sel = Kmod.select(guest, wanted);
        if (!sel.absent().isEmpty()) {
            throw BadInputException.of(guest.describe() + ": kernel " + kver + " has no " + String.join(", ", sel.absent())
                    + " (neither in modules.builtin nor in modules.dep): this kernel cannot drive the virtio devices;"
                    + " install a kernel with virtio drivers in the guest, or convert for another disk bus");
        }
        for (String b : sel.builtin()) {
            plan.add(source + ": " + b + " is built into kernel " + kver + ": nothing to add for it");
        }
        if (sel.modulePaths().isEmpty()) {
            plan.add(source + ": left unchanged (kernel " + kver + " has " + String.join(", ", sel.builtin())
                    + " built in)");
            return new VirtioInitramfs.Result(VirtioInitramfs.Outcome.BUILTIN, image, plan, List.of(), List.of(),
                    Compression.NONE, VirtioInitramfs.Flavor.UNKNOWN, true, sel.builtin());
        }
        InitramfsImage img = InitramfsImage.parse(image, source, limits);
        VirtioInitramfs.Flavor flavor = flavorOf(img);
        boolean byAlias = loadsByAlias(img);

        ModuleDir dir = ModuleDir.find(img, kver);
        Map<String, String> present = new LinkedHashMap<>();   // module name -> path relative to the module folder
        for (String rel : dir.moduleFiles()) {
            present.putIfAbsent(ModuleNames.moduleName(rel), rel);
        }
        List<String> toAdd = new ArrayList<>();
        for (String rel : sel.modulePaths()) {
            if (!present.containsKey(ModuleNames.moduleName(rel))) {
                toAdd.add(rel);
            }
        }
        Map<String, byte[]> links = nicLinksNeeded(img, source, guest, nicDriver, nicLinks,
                present.containsKey(nicDriver) || toAdd.stream().anyMatch(r -> ModuleNames.moduleName(r).equals(nicDriver)),
                plan);
        if (toAdd.isEmpty()) {
            plan.add(source + ": already holds every module needed (" + String.join(", ", sel.modulePaths().stream()
                    .map(ModuleNames::moduleName).toList()) + ")" + (links.isEmpty() ? ": left unchanged" : ""));
            if (links.isEmpty()) {
                return new VirtioInitramfs.Result(VirtioInitramfs.Outcome.ALREADY_PRESENT, image, plan, List.of(),
                        List.of(), targetSegment(img).compression(), flavor, byAlias, sel.builtin());
            }
            Edit edit = new Edit(img, dir);
            List<String> added = addLinks(edit, links);
            byte[] out = edit.apply();
            verify(out, source, limits, edit);
            Segment target = targetSegment(img);
            plan.add(source + ": add " + String.join(", ", added) + "; rewrite " + describe(target.segment())
                    + (target.compression() == Compression.NONE ? "" : ", compressed again with " + target.compression())
                    + "; " + image.length + " bytes become " + out.length);
            List<String> files = new ArrayList<>(edit.createdDirectories());
            files.addAll(added);
            return new VirtioInitramfs.Result(VirtioInitramfs.Outcome.LINKS_ADDED, out, plan, files, List.of(),
                    target.compression(), flavor, byAlias, sel.builtin());
        }

        // The modules the image will hold, and what kmod's indexes must say about them.
        Map<String, byte[]> newModules = new LinkedHashMap<>();
        for (String rel : toAdd) {
            byte[] b = guest.read(rel, ElfModule.MAX_MODULE_BYTES).orElseThrow(() -> BadInputException.of(
                    guest.describe() + "/modules.dep names " + rel + " but the file is missing"));
            newModules.put(rel, b);
        }
        List<Depmod.KernelModule> all = new ArrayList<>();
        for (String rel : present.values()) {
            byte[] b = img.read(dir.path() + "/" + rel).orElseThrow();
            all.add(new Depmod.KernelModule(rel, ElfModule.read(b, source + ": " + dir.path() + "/" + rel)));
        }
        for (var e : newModules.entrySet()) {
            all.add(new Depmod.KernelModule(e.getKey(), ElfModule.read(e.getValue(), guest.describe() + "/" + e.getKey())));
        }
        Map<String, byte[]> support = new LinkedHashMap<>();   // modules.order & co. when the folder is new
        if (!dir.exists()) {
            for (String f : List.of("modules.order", "modules.builtin", "modules.builtin.modinfo")) {
                guest.read(f, Kmod.MAX_INDEX_BYTES).ifPresent(b -> support.put(f, b));
            }
        }
        Map<String, byte[]> index = Depmod.generate(new Depmod.Input(all,
                fileOf(img, dir, support, "modules.order"), fileOf(img, dir, support, "modules.builtin"),
                fileOf(img, dir, support, "modules.builtin.modinfo"),
                img.read(dir.path() + "/" + Depmod.WEAKDEP_FILE).isPresent()));

        Edit edit = new Edit(img, dir);
        edit.ensureDirectory(dir.path());
        for (var e : newModules.entrySet()) {
            String path = dir.path() + "/" + e.getKey();
            edit.ensureDirectory(parent(path));
            edit.createFile(path, e.getValue());
        }
        for (var e : support.entrySet()) {
            edit.createFile(dir.path() + "/" + e.getKey(), e.getValue());
        }
        List<String> indexFiles = new ArrayList<>();
        for (var e : index.entrySet()) {
            String path = dir.path() + "/" + e.getKey();
            Optional<byte[]> old = img.read(path);
            if (old.isPresent() && Arrays.equals(old.get(), e.getValue())) {
                continue;
            }
            if (old.isPresent()) {
                edit.replaceFile(path, e.getValue());
            } else {
                edit.createFile(path, e.getValue());
            }
            indexFiles.add(path);
        }
        List<String> linksAdded = addLinks(edit, links);
        byte[] out = edit.apply();
        verify(out, source, limits, edit);

        Segment target = targetSegment(img);
        for (InitramfsImage.Segment s : img.segments()) {
            if (s != target.segment() && !s.archives().isEmpty()) {
                plan.add(source + ": keep " + describe(s) + " byte for byte");
            }
        }
        plan.add(source + ": rewrite " + describe(target.segment()) + (target.compression() == Compression.NONE
                ? "" : ", compressed again with " + target.compression()));
        for (var e : newModules.entrySet()) {
            plan.add(source + ": add " + dir.path() + "/" + e.getKey() + " (" + e.getValue().length + " bytes, copied from "
                    + guest.describe() + ")");
        }
        for (String d : edit.createdDirectories()) {
            plan.add(source + ": add directory " + d);
        }
        for (String f : support.keySet()) {
            plan.add(source + ": add " + dir.path() + "/" + f + " (copied from " + guest.describe() + ")");
        }
        for (String l : linksAdded) {
            plan.add(source + ": add " + l);
        }
        plan.add(source + ": regenerate " + String.join(", ", indexFiles.stream().map(p -> p.substring(p.lastIndexOf('/') + 1))
                .toList()) + " in " + dir.path() + " for its " + all.size() + " modules, as depmod would;"
                + " udev then loads the drivers by the devices' aliases");
        plan.add(source + ": " + image.length + " bytes become " + out.length);
        if (!byAlias) {
            plan.add(source + ": WARNING: no udev rule in this image loads modules by MODALIAS (80-drivers.rules);"
                    + " the added modules may not be loaded at boot");
        }
        List<String> added = new ArrayList<>(edit.createdDirectories());
        newModules.keySet().forEach(rel -> added.add(dir.path() + "/" + rel));
        support.keySet().forEach(f -> added.add(dir.path() + "/" + f));
        added.addAll(linksAdded);
        return new VirtioInitramfs.Result(VirtioInitramfs.Outcome.ADDED, out, plan, added, indexFiles,
                target.compression(), flavor, byAlias, sel.builtin());
    }

    /** Where the .link files go: udev reads /etc/systemd/network in every version that has .link files. */
    static final String LINK_DIR = "etc/systemd/network";

    /**
     * The .link files of {@code nicLinks} the image must get (none where its udev does not name
     * NICs or it will not hold {@code nicDriver}, or where it holds them already), with a plan line
     * for each decision.
     */
    private static Map<String, byte[]> nicLinksNeeded(InitramfsImage img, String source, ModuleTree guest,
                                                      String nicDriver, Map<String, byte[]> nicLinks,
                                                      boolean driverInImage, List<String> plan) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        if (nicLinks.isEmpty()) {
            return out;
        }
        if (!namesNics(img)) {
            plan.add(source + ": its udev does not name NICs (no net_setup_link rule): the NIC is named under the "
                    + "real root, where the .link files are");
            return out;
        }
        if (!driverInImage && !Kmod.select(guest, List.of(nicDriver)).builtin().contains(nicDriver)) {
            plan.add(source + ": holds no " + nicDriver + ": the NIC first appears under the real root, where the "
                    + ".link files are");
            return out;
        }
        for (var e : nicLinks.entrySet()) {
            String name = e.getKey();
            if (name.isEmpty() || name.contains("/") || name.startsWith(".")) {
                throw new IllegalArgumentException("not a file name: " + name);
            }
            Optional<byte[]> old = img.read(LINK_DIR + "/" + name);
            if (old.isPresent() && Arrays.equals(old.get(), e.getValue())) {
                plan.add(source + ": already holds " + LINK_DIR + "/" + name);
            } else {
                out.put(name, e.getValue());
            }
        }
        if (!out.isEmpty()) {
            plan.add(source + ": its udev names NICs and it holds " + nicDriver + ", so the NIC is named there, before"
                    + " the real root's .link files are read: " + String.join(", ", out.keySet()) + " go into it too");
        }
        return out;
    }

    /** Adds (or replaces) each .link file in {@value #LINK_DIR}; returns their paths in the image. */
    private static List<String> addLinks(Edit edit, Map<String, byte[]> links) {
        List<String> added = new ArrayList<>();
        for (var e : links.entrySet()) {
            String path = LINK_DIR + "/" + e.getKey();
            edit.ensureDirectory(LINK_DIR);
            if (edit.img.read(path).isPresent()) {
                edit.replaceFile(path, e.getValue());
            } else {
                edit.createFile(path, e.getValue());
            }
            added.add(path);
        }
        return added;
    }

    /** udev in the image names NICs: a rules file runs the net_setup_link builtin (80-net-setup-link.rules). */
    static boolean namesNics(InitramfsImage img) {
        return rulesLines(img).anyMatch(l -> l.contains("net_setup_link"));
    }

    /** dracut keeps its build record in usr/lib/dracut; initramfs-tools its init's configuration in conf/. */
    static VirtioInitramfs.Flavor flavorOf(InitramfsImage img) {
        if (img.isDirectory("usr/lib/dracut") || img.isDirectory("lib/dracut")) {
            return VirtioInitramfs.Flavor.DRACUT;
        }
        if (img.read("conf/initramfs.conf").isPresent() && img.read("scripts/functions").isPresent()) {
            return VirtioInitramfs.Flavor.INITRAMFS_TOOLS;
        }
        return VirtioInitramfs.Flavor.UNKNOWN;
    }

    /** Largest rules file looked into: udev's own are a few KiB. */
    private static final int MAX_RULES_BYTES = 1 << 20;

    /**
     * Whether udev in the image loads a driver for every device's MODALIAS: systemd-udevd's
     * {@code RUN{builtin}+="kmod load"} or older udev's {@code RUN+="/sbin/modprobe -b $env{MODALIAS}"}
     * in a rules file. That is what loads virtio_pci for the PCI device, then virtio_blk for the
     * disk it announces, in dracut and initramfs-tools images alike.
     */
    static boolean loadsByAlias(InitramfsImage img) {
        return rulesLines(img).anyMatch(l -> l.contains("MODALIAS") && (l.contains("kmod load") || l.contains("modprobe")));
    }

    /** The lines, stripped and without comments, of the image's udev rules files. */
    private static java.util.stream.Stream<String> rulesLines(InitramfsImage img) {
        List<String> lines = new ArrayList<>();
        for (String dir : List.of("usr/lib/udev/rules.d", "lib/udev/rules.d", "etc/udev/rules.d")) {
            Optional<String> d = img.resolve(dir, true);
            if (d.isEmpty() || !img.isDirectory(d.get())) {
                continue;
            }
            for (String f : img.children(d.get())) {
                if (!f.endsWith(".rules")) {
                    continue;
                }
                Optional<byte[]> b = img.read(f);
                if (b.isEmpty() || b.get().length > MAX_RULES_BYTES) {
                    continue;
                }
                for (String line : new String(b.get(), java.nio.charset.StandardCharsets.ISO_8859_1).split("\n")) {
                    String l = line.strip();
                    if (!l.isEmpty() && !l.startsWith("#")) {
                        lines.add(l);
                    }
                }
            }
        }
        return lines.stream();
    }

    private static byte[] fileOf(InitramfsImage img, ModuleDir dir, Map<String, byte[]> support, String name) {
        return support.containsKey(name) ? support.get(name) : img.read(dir.path() + "/" + name).orElse(null);
    }

    /** Reads the new image back: every added or replaced file must read as written. */
    private static void verify(byte[] out, String source, InitramfsLimits limits, Edit edit) {
        InitramfsImage check = InitramfsImage.parse(out, source + " (rewritten)", limits);
        for (var e : edit.written().entrySet()) {
            Optional<byte[]> got = check.read(e.getKey());
            if (got.isEmpty() || !Arrays.equals(got.get(), e.getValue())) {
                throw new IllegalStateException("internal error: " + e.getKey() + " does not read back from the"
                        + " rewritten " + source);
            }
        }
    }

    private static String describe(InitramfsImage.Segment s) {
        String range = String.format("0x%x-0x%x", s.offset(), s.offset() + s.length());
        int entries = s.archives().stream().mapToInt(a -> a.entries().size() - 1).sum();
        return switch (s.kind()) {
            case CPIO -> "the uncompressed cpio archive at " + range + " (" + entries + " entries"
                    + (InitramfsImage.isMicrocode(s.archives().getFirst()) ? ", early microcode" : "") + ")";
            case COMPRESSED -> "the " + s.compression() + "-compressed archive at " + range + " (" + entries + " entries)";
            case ZEROS -> "padding at " + range;
        };
    }

    private record Segment(InitramfsImage.Segment segment, Compression compression) {}

    /** The part that takes the new files: the last one holding archives (later parts win). */
    private static Segment targetSegment(InitramfsImage img) {
        List<InitramfsImage.Segment> segs = img.segments();
        for (int i = segs.size() - 1; i >= 0; i--) {
            if (!segs.get(i).archives().isEmpty()) {
                InitramfsImage.Segment s = segs.get(i);
                return new Segment(s, s.kind() == InitramfsImage.Kind.COMPRESSED ? s.compression() : Compression.NONE);
            }
        }
        throw new IllegalStateException("parse() guarantees an archive");
    }

    static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }

    /** The image's {@code lib/modules/KVER} (resolved through symlinks such as lib -> usr/lib). */
    record ModuleDir(InitramfsImage img, String path, boolean exists) {
        static ModuleDir find(InitramfsImage img, String kver) {
            for (String candidate : List.of("lib/modules/" + kver, "usr/lib/modules/" + kver)) {
                Optional<String> r = img.resolve(candidate, true);
                if (r.isPresent() && img.isDirectory(r.get())) {
                    return new ModuleDir(img, r.get(), true);
                }
            }
            String lib = img.resolve("lib", true).filter(img::isDirectory).orElse("lib");
            return new ModuleDir(img, lib + "/modules/" + kver, false);
        }

        /** Module files under the folder, relative to it, skipping build/ and source/ as depmod does. */
        List<String> moduleFiles() {
            if (!exists) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (String p : img.under(path)) {
                String rel = p.substring(path.length() + 1);
                InitramfsImage.Node n = img.node(p);
                if (ModuleNames.isModuleFile(rel) && (n.entry().isRegular() || n.entry().isSymlink())
                        && Arrays.stream(rel.split("/")).noneMatch(c -> c.equals("build") || c.equals("source"))
                        && img.read(p).isPresent()) {
                    out.add(rel);
                }
            }
            return out;
        }
    }

    /** The changes to the last archive of the target part, then its re-encoding. */
    private static final class Edit {
        private final InitramfsImage img;
        private final InitramfsImage.Segment target;
        private final CpioArchive archive;
        private final boolean crcFormat;
        private final String namePrefix;
        private final long mtime;
        private long nextIno;
        private final Map<String, byte[]> replacements = new HashMap<>();   // normalized path -> new entry bytes
        private final List<byte[]> appended = new ArrayList<>();
        private final Set<String> createdDirs = new LinkedHashSet<>();
        private final Map<String, byte[]> written = new LinkedHashMap<>();

        Edit(InitramfsImage img, ModuleDir dir) {
            this.img = img;
            this.target = targetSegment(img).segment();
            this.archive = target.archives().getLast();
            CpioEntry first = archive.entries().getFirst();
            this.crcFormat = first.crcFormat();
            this.namePrefix = archive.entries().stream().filter(e -> !e.isTrailer()).map(CpioEntry::name)
                    .filter(n -> !n.equals(".") && !n.equals("./")).findFirst()
                    .map(n -> n.startsWith("./") ? "./" : n.startsWith("/") ? "/" : "").orElse("");
            InitramfsImage.Node ref = dir.exists() ? img.node(dir.path()) : null;
            this.mtime = ref != null ? ref.entry().mtime()
                    : archive.entries().stream().mapToLong(CpioEntry::mtime).max().orElse(0);
            long maxIno = 0;
            for (CpioEntry e : archive.entries()) {
                maxIno = Math.max(maxIno, e.ino());
            }
            this.nextIno = maxIno + 1;
        }

        void ensureDirectory(String path) {
            if (path.isEmpty() || createdDirs.contains(path)) {
                return;
            }
            Optional<String> r = img.resolve(path, true);
            if (r.isPresent()) {
                if (!img.isDirectory(r.get())) {
                    throw BadInputException.of(img.source() + ": '" + path + "' is in the way of a new directory");
                }
                return;
            }
            ensureDirectory(parent(path));
            appended.add(CpioEntry.encode(crcFormat, namePrefix + path, nextIno++, CpioEntry.S_IFDIR | 0755, 0, 0, 2,
                    mtime, new byte[0]));
            createdDirs.add(path);
        }

        void createFile(String path, byte[] content) {
            appended.add(CpioEntry.encode(crcFormat, namePrefix + path, nextIno++, CpioEntry.S_IFREG | 0644, 0, 0, 1,
                    mtime, content));
            written.put(path, content);
        }

        /** Replaces a file in place when it is in the rewritten archive, else adds a newer one after it. */
        void replaceFile(String path, byte[] content) {
            String real = img.resolve(path, true).orElseThrow();
            CpioEntry old = img.node(real).entry();
            boolean inTarget = archive.entries().stream().anyMatch(e -> e == old);
            if (old.nlink() >= 2 && archive.entries().stream().anyMatch(e -> e != old && e.ino() == old.ino()
                    && e.devMajor() == old.devMajor() && e.devMinor() == old.devMinor())) {
                throw BadInputException.of(img.source() + ": " + path + " is hard-linked to other names;"
                        + " jv2v does not rewrite hard-linked files");
            }
            byte[] entry = CpioEntry.encode(crcFormat, inTarget ? old.name() : namePrefix + path,
                    inTarget ? old.ino() : nextIno++, old.mode(), old.uid(), old.gid(), 1, old.mtime(), content);
            if (inTarget) {
                replacements.put(real, entry);
            } else {
                appended.add(entry);
            }
            written.put(path, content);
        }

        List<String> createdDirectories() {
            return List.copyOf(createdDirs);
        }

        Map<String, byte[]> written() {
            return written;
        }

        byte[] apply() {
            byte[] data = target.data();
            ByteArrayOutputStream s = new ByteArrayOutputStream(data.length + (1 << 20));
            int from = target.kind() == InitramfsImage.Kind.CPIO ? target.offset() : 0;
            int to = target.kind() == InitramfsImage.Kind.CPIO ? target.offset() + target.length() : data.length;
            int p = from;
            for (CpioEntry e : archive.entries()) {
                if (e.isTrailer()) {
                    s.write(data, p, e.start() - p);
                    appended.forEach(s::writeBytes);
                    p = e.start();
                    break;
                }
                byte[] r = replacements.get(InitramfsImage.normalize(e.name()));
                if (r != null) {
                    s.write(data, p, e.start() - p);
                    s.writeBytes(r);
                    p = e.end();
                }
            }
            s.write(data, p, to - p);
            byte[] stream = s.toByteArray();
            Compression c = targetSegment(img).compression();
            byte[] part = c == Compression.NONE ? stream : Codecs.encode(c, stream, 0, stream.length);
            byte[] image = img.image();
            ByteArrayOutputStream out = new ByteArrayOutputStream(image.length + part.length);
            out.write(image, 0, target.offset());
            out.writeBytes(part);
            int after = target.offset() + target.length();
            out.write(image, after, image.length - after);
            return out.toByteArray();
        }
    }
}
