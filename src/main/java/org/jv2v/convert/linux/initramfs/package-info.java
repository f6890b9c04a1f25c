/**
 * virtio drivers in a guest's initramfs without running the guest's dracut or update-initramfs.
 *
 * <h2>Calling it (the Linux converter)</h2>
 *
 * <pre>{@code
 * String kver = "6.1.0-57-amd64";
 * String modulesDir = "/lib/modules/" + kver;
 * // Any reader of the guest's files will do; paths given to it are relative and checked.
 * ModuleTree kernel = ModuleTree.of(kver, modulesDir + " in the guest",
 *         (rel, max) -> files.read(modulesDir + "/" + rel, max));
 * // or ModuleTree.onFileSystem(rootFs, kver) over a org.jv2v.fs.FileSystem
 *
 * Kmod.VirtioSupport s = VirtioInitramfs.support(kernel);   // BUILTIN / MODULE / ABSENT per driver
 * if (!s.canBootVirtioBlk()) { ... choose another kernel, or refuse before copying ... }
 *
 * byte[] image = files.read("/boot/initrd.img-" + kver, ...);      // the whole file
 * VirtioInitramfs.Result r = VirtioInitramfs.addVirtio(image, "/boot/initrd.img-" + kver, kernel);
 * // or addDrivers(image, source, kernel, List.of("virtio_pci", "virtio_blk")) for a chosen set
 * r.plan().forEach(plan::add);              // one line per change, for --plan and the report
 * if (r.changed()) {
 *     files.rewrite("/boot/initrd.img-" + kver, r.image());   // keeps owner, mode, labels
 * }
 * }</pre>
 *
 * <p>{@link org.jv2v.convert.linux.initramfs.VirtioInitramfs#addVirtio addVirtio} adds
 * {@link org.jv2v.convert.linux.initramfs.VirtioInitramfs#DRIVERS} (virtio_pci, virtio_blk,
 * virtio_scsi, sd_mod, virtio_net) and everything they need; its
 * {@link org.jv2v.convert.linux.initramfs.VirtioInitramfs.Result Result} says:
 * <ul>
 *   <li>{@code outcome()}: {@code BUILTIN} (every wanted driver is in the kernel's modules.builtin:
 *       the image is not even parsed, {@code image()} is the array passed in),
 *       {@code ALREADY_PRESENT} (a second run: unchanged) or {@code ADDED};</li>
 *   <li>{@code image()}: the new image; {@code changed()} is {@code outcome() == ADDED};</li>
 *   <li>{@code plan()}: readable lines ("add usr/lib/modules/KVER/kernel/drivers/block/virtio_blk.ko
 *       (… bytes, copied from …)", "regenerate modules.dep, modules.alias.bin, …", "keep the
 *       uncompressed cpio archive at 0x0-0x… (early microcode) byte for byte", …);</li>
 *   <li>{@code addedFiles()}, {@code indexFiles()}: paths inside the image;
 *       {@code compression()}: of the rewritten part; {@code builtin()}: drivers needing nothing;</li>
 *   <li>{@code flavor()}: {@code DRACUT} or {@code INITRAMFS_TOOLS} (or {@code UNKNOWN});
 *       {@code loadsByAlias()}: the image's udev has the MODALIAS rule (80-drivers.rules) that loads
 *       the drivers at boot. When false, {@code plan()} carries a WARNING line.</li>
 * </ul>
 * Errors are {@link org.jv2v.BadInputException}s of one line: a malformed or hostile image
 * (truncated or corrupt compressed data, no cpio magic, sizes past the data, a cpio name with
 * "..", more than {@link org.jv2v.convert.linux.initramfs.InitramfsLimits#DEFAULT} allows: 512 MiB
 * image, 512 MiB unpacked, 2^20 entries), a malformed module tree, or a wanted driver the kernel
 * has neither built in nor as a module ("kernel KVER has no virtio_blk … install a kernel with
 * virtio drivers in the guest, or convert for another disk bus"). Nothing is written by this
 * package: the caller writes {@code image()} back.
 *
 * <h2>NIC names</h2>
 * {@code addDrivers(image, source, kernel, drivers, "virtio_net", links)} also puts systemd .link
 * files (file name -> content) into the image's etc/systemd/network, in the same rewrite, where the
 * image names NICs itself: its udev runs net_setup_link (80-net-setup-link.rules) and it holds
 * virtio_net (initramfs-tools images built with MODULES=most do). There the NIC is named before
 * the real root's .link files are read, and systemd before 240 never renames a NIC userspace has
 * named. Elsewhere (a dracut image without virtio_net) no .link file is added. When only .link
 * files are needed the outcome is {@code LINKS_ADDED}.
 *
 * <h2>What the new image is</h2>
 * The image is read as the kernel reads it ({@link org.jv2v.convert.linux.initramfs.InitramfsImage}):
 * uncompressed cpio archives (the early microcode one), gzip, xz, lzma, bzip2, zstd or lz4-legacy
 * parts, zero padding. Only the last part holding archives is rewritten; the parts before it are
 * kept byte for byte, and it is compressed again with its own compression. In its last archive
 * every entry stays as it was, byte for byte, except the kmod index files it replaces in place;
 * new entries (folders, the modules, and when {@code lib/modules/KVER} did not exist
 * modules.order/builtin/builtin.modinfo) go before its trailer. Module files are the guest's own
 * bytes ({@code .ko}, {@code .ko.xz}, {@code .ko.zst}, {@code .ko.gz} as the guest ships them);
 * the index files (modules.dep/.bin, modules.alias/.bin, modules.symbols/.bin,
 * modules.builtin.bin, modules.builtin.alias.bin, modules.softdep, modules.devname, and
 * modules.weakdep where one exists) are what the real depmod writes for the modules the image
 * then holds. The new image is parsed again and every written file read back before it is
 * returned.
 *
 * <h2>Why the drivers load at boot</h2>
 * Both dracut and initramfs-tools images run udev, whose 80-drivers.rules loads, through libkmod
 * and modules.alias.bin, a module for every device's MODALIAS: the PCI device 1af4:1001 makes it
 * load virtio_pci, the virtio device it then announces ({@code virtio:d00000002v00001AF4}) loads
 * virtio_blk, and the root disk appears. No dracut or initramfs-tools configuration is changed
 * (no rd.driver.pre, no conf/modules). The tests prove it by booting, under QEMU on virtio-blk, a
 * dracut image and an initramfs-tools image built without virtio: the edited one reaches the root's
 * init, the original does not.
 */
package org.jv2v.convert.linux.initramfs;
