package org.jv2v.convert.linux;

import org.jv2v.convert.linux.initramfs.VirtioInitramfs;
import org.jv2v.convert.linux.kmod.ModuleTree;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** {@link InitramfsUpdater} through jv2v's own initramfs editor, reading the modules from the guest. */
public final class EditorInitramfs implements InitramfsUpdater {

    @Override
    public boolean available() {
        return true;
    }

    @Override
    public String unavailableReason() {
        return "";
    }

    @Override
    public Result addModules(byte[] image, GuestFiles files, String modulesDir, String kernelVersion,
                             List<String> modules) throws IOException {
        return addModules(image, files, modulesDir, kernelVersion, modules, java.util.Map.of());
    }

    @Override
    public Result addModules(byte[] image, GuestFiles files, String modulesDir, String kernelVersion,
                             List<String> modules, java.util.Map<String, byte[]> nicLinks) throws IOException {
        VirtioInitramfs.Result r = VirtioInitramfs.addDrivers(image, "the initramfs of " + kernelVersion,
                tree(files, modulesDir, kernelVersion), modules, "virtio_net", nicLinks);
        List<String> lines = new ArrayList<>(r.plan());
        if (r.outcome() == VirtioInitramfs.Outcome.ADDED && !r.loadsByAlias()) {
            throw new org.jv2v.Jv2vException("the initramfs of " + kernelVersion + " has no udev rule that loads "
                    + "drivers by device alias, so the virtio drivers added to it would not be loaded at boot");
        }
        return new Result(r.changed() ? r.image() : image, lines);
    }

    /** /lib/modules/KVER read through the guest's tree (links followed as in the guest: /lib -> usr/lib). */
    static ModuleTree tree(GuestFiles files, String modulesDir, String kernelVersion) {
        return ModuleTree.of(kernelVersion, modulesDir + " in the guest",
                (relPath, maxBytes) -> files.read(modulesDir + "/" + relPath, maxBytes));
    }
}
