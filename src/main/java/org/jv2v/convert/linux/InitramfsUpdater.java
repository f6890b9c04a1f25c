package org.jv2v.convert.linux;

import java.io.IOException;
import java.util.List;

/**
 * The call site for putting drivers into a guest's initramfs without running the guest's own
 * tools (dracut, update-initramfs): read the image (microcode prefix, compressed cpio parts), add
 * the kernel modules and what they depend on, regenerate the module index, write it back.
 * The editor itself lives in its own package; this is all the converter needs of it.
 */
public interface InitramfsUpdater {

    /** The new image, and one line per change for the report. */
    record Result(byte[] image, List<String> changes) {}

    /** False when this build has no initramfs editor: the plan then says so and no virtio disk is chosen. */
    boolean available();

    /** Why it is not available ("no initramfs editor in this build"). */
    String unavailableReason();

    /**
     * Adds {@code modules} (module names, e.g. virtio_blk) and their dependencies, taken from
     * {@code modulesDir} in the guest (compressed as the guest compresses them), to {@code image}.
     *
     * @param image         the current initramfs, as read from the guest
     * @param files         the guest, to read /lib/modules/KVER from
     * @param modulesDir    "/lib/modules/KVER"
     * @param kernelVersion "KVER"
     */
    Result addModules(byte[] image, GuestFiles files, String modulesDir, String kernelVersion, List<String> modules)
            throws IOException;

    /**
     * As {@link #addModules(byte[], GuestFiles, String, String, List)}, and in the same rewrite puts
     * the systemd .link files {@code nicLinks} (file name -> content) into the image's
     * /etc/systemd/network where the image names NICs itself (its udev runs net_setup_link and it
     * holds virtio_net). By default the .link files are left out.
     */
    default Result addModules(byte[] image, GuestFiles files, String modulesDir, String kernelVersion,
                              List<String> modules, java.util.Map<String, byte[]> nicLinks) throws IOException {
        return addModules(image, files, modulesDir, kernelVersion, modules);
    }

    /** No editor in this build. */
    InitramfsUpdater NONE = new InitramfsUpdater() {
        @Override
        public boolean available() {
            return false;
        }

        @Override
        public String unavailableReason() {
            return "this build has no initramfs editor";
        }

        @Override
        public Result addModules(byte[] image, GuestFiles files, String modulesDir, String kernelVersion,
                                 List<String> modules) {
            throw new IllegalStateException(unavailableReason());
        }
    };
}
