package org.jv2v.convert.linux.initramfs;

import org.jv2v.BadInputException;
import org.jv2v.convert.linux.compress.Compression;
import org.jv2v.convert.linux.kmod.Kmod;
import org.jv2v.convert.linux.kmod.ModuleTree;

import java.io.IOException;
import java.util.Collection;
import java.util.List;

/**
 * The entry point of this package: puts a guest kernel's virtio drivers into its initramfs
 * without running the guest's dracut or update-initramfs. See {@code package-info.java} for how
 * the converter calls it.
 */
public final class VirtioInitramfs {

    /**
     * The drivers a converted guest needs from its initramfs: the PCI transport, both disk
     * controllers (sd_mod for disks behind virtio-scsi) and the NIC. Their dependencies (virtio,
     * virtio_ring, virtio_pci_modern_dev, scsi_mod, failover, ...) come from the guest's
     * modules.dep.
     */
    public static final List<String> DRIVERS = List.of("virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod",
            "virtio_net");

    private VirtioInitramfs() {}

    /** What was done. */
    public enum Outcome {
        /** the kernel has every wanted driver built in: the image was not even read */
        BUILTIN,
        /** the image already holds every module needed: unchanged */
        ALREADY_PRESENT,
        /** modules were added and the index files regenerated (and .link files, where asked and needed) */
        ADDED,
        /** no module was needed, but the .link files asked for were added */
        LINKS_ADDED
    }

    /** Who built the image, as far as its files tell. */
    public enum Flavor {
        /** dracut (Fedora/RHEL/SUSE, and Debian when chosen): usr/lib/dracut is inside */
        DRACUT,
        /** Debian/Ubuntu initramfs-tools: conf/initramfs.conf and scripts/functions are inside */
        INITRAMFS_TOOLS,
        /** neither (or not read, for {@link Outcome#BUILTIN}) */
        UNKNOWN
    }

    /**
     * The result of {@link #addDrivers}.
     *
     * @param outcome       what was done
     * @param image         the new image; the very array passed in unless {@link #changed()}
     * @param plan          one human-readable line per change (or per reason for no change), for --plan
     * @param addedFiles    paths added inside the image (directories, modules), relative to its root
     * @param indexFiles    kmod index files written (replaced or created), relative to its root
     * @param compression   the compression of the rewritten part (NONE: an uncompressed archive)
     * @param flavor        dracut or initramfs-tools
     * @param loadsByAlias  the image's udev has the rule that loads a module for each device's
     *                      MODALIAS (80-drivers.rules); false means nothing in the image is known to
     *                      load the added modules at boot, and {@code plan} says so
     * @param builtin       wanted drivers the kernel has built in (nothing to add for them)
     */
    public record Result(Outcome outcome, byte[] image, List<String> plan, List<String> addedFiles,
                         List<String> indexFiles, Compression compression, Flavor flavor, boolean loadsByAlias,
                         List<String> builtin) {
        public Result {
            plan = List.copyOf(plan);
            addedFiles = List.copyOf(addedFiles);
            indexFiles = List.copyOf(indexFiles);
            builtin = List.copyOf(builtin);
        }

        /** Whether {@link #image()} differs from the image passed in (write it back then). */
        public boolean changed() {
            return outcome == Outcome.ADDED || outcome == Outcome.LINKS_ADDED;
        }
    }

    /** {@link #addDrivers(byte[], String, ModuleTree, Collection)} with {@link #DRIVERS}. */
    public static Result addVirtio(byte[] image, String source, ModuleTree kernel) throws IOException {
        return addDrivers(image, source, kernel, DRIVERS);
    }

    /**
     * Adds {@code drivers} (module names, "virtio_blk") and every module they depend on to the
     * initramfs {@code image} of the kernel whose module folder is {@code kernel}.
     *
     * @param image   the current initramfs, whole (microcode prefix and all)
     * @param source  names the image in messages ("/boot/initrd.img-6.1.0-57-amd64")
     * @param kernel  the guest's /lib/modules/KVER (modules.dep, modules.builtin, the .ko files)
     * @param drivers the modules wanted; each must exist in the kernel, built in or as a module
     * @throws BadInputException (one line) when the image is malformed or beyond the caps of
     *         {@link InitramfsLimits#DEFAULT}, when the module tree is malformed, or when the kernel
     *         has one of {@code drivers} neither built in nor as a module
     */
    public static Result addDrivers(byte[] image, String source, ModuleTree kernel, Collection<String> drivers)
            throws IOException {
        return addDrivers(image, source, kernel, drivers, InitramfsLimits.DEFAULT);
    }

    /** As {@link #addDrivers(byte[], String, ModuleTree, Collection)} with other caps. */
    public static Result addDrivers(byte[] image, String source, ModuleTree kernel, Collection<String> drivers,
                                    InitramfsLimits limits) throws IOException {
        return InitramfsEditor.addModules(image, source, kernel, drivers, limits);
    }

    /**
     * As {@link #addDrivers(byte[], String, ModuleTree, Collection)}, and in the same rewrite puts
     * the systemd .link files {@code nicLinks} (file name such as "10-jv2v-ens192.link" -> content)
     * into the image's etc/systemd/network where the image names NICs itself: its udev runs
     * net_setup_link and it holds {@code nicDriver} ("virtio_net"), as a module or built in. An
     * initramfs-tools image built with MODULES=most is such an image: its udev names the NIC by the
     * default policy before the real root's .link files are read, and systemd before 240 does not
     * rename it again. When only .link files are added the outcome is {@link Outcome#LINKS_ADDED}.
     */
    public static Result addDrivers(byte[] image, String source, ModuleTree kernel, Collection<String> drivers,
                                    String nicDriver, java.util.Map<String, byte[]> nicLinks) throws IOException {
        return InitramfsEditor.addModules(image, source, kernel, drivers, nicDriver, nicLinks, InitramfsLimits.DEFAULT);
    }

    /** How the kernel provides each of {@link Kmod#VIRTIO_MODULES}: built in, module or absent. */
    public static Kmod.VirtioSupport support(ModuleTree kernel) throws IOException {
        return Kmod.virtioSupport(kernel);
    }
}
