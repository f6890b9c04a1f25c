package org.jv2v.model;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * A hard disk of the source guest.
 *
 * @param id             position in {@link SourceVm#disks()}, from 0; target disks are named after it
 * @param slot           bus, controller and unit on the source (empty for {@code -i disk})
 * @param controllerModel the model of the controller it hangs off ("pvscsi", "lsilogic" ...), if known
 * @param mode           VMware disk mode
 * @param fileName       the file name exactly as the source metadata writes it
 * @param location       where the bytes are, after datastore mapping and path checks
 * @param format         image format if the metadata says ("vmdk", "raw", "qcow2"), else probed later
 * @param virtualSize    size in bytes, when the metadata states it (OVF capacity); a VMDK's own
 *                       size comes from its descriptor when the disk is opened
 */
public record SourceDisk(int id, Optional<DeviceSlot> slot, Optional<String> controllerModel, DiskMode mode,
                         String fileName, DiskLocation location, Optional<String> format,
                         OptionalLong virtualSize) {

    public Optional<Bus> bus() {
        return slot.map(DeviceSlot::bus);
    }

    public SourceDisk withId(int newId) {
        return new SourceDisk(newId, slot, controllerModel, mode, fileName, location, format, virtualSize);
    }
}
