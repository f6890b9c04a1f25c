package org.jv2v.model;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A CD-ROM or floppy drive of the source guest, with whatever is in it.
 *
 * @param type           CD-ROM or floppy
 * @param slot           bus, controller and unit (floppies: empty bus, see {@link #floppyUnit})
 * @param floppyUnit     the drive number of a floppy (floppy0 is 0); -1 for CD-ROMs
 * @param backing        what the drive is connected to on the source
 * @param fileName       the file or device name as written, if any
 * @param image          the image file after datastore mapping, when it exists and is allowed
 * @param startConnected whether the source connects the drive at power-on
 */
public record RemovableMedia(MediaType type, Optional<DeviceSlot> slot, int floppyUnit, Backing backing,
                             Optional<String> fileName, Optional<Path> image, boolean startConnected) {

    public enum MediaType {
        CDROM("CD-ROM"), FLOPPY("Floppy");

        private final String label;

        MediaType(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** What backs the drive on the source. */
    public enum Backing {
        /** An image file (ISO, floppy image). */
        IMAGE,
        /** A drive with nothing in it ({@code emptyBackingString}, no file name). */
        EMPTY,
        /** A device of the source host ({@code /dev/cdrom}, {@code /vmfs/devices/cdrom/...}). */
        HOST_DEVICE,
        /** The host's drive, chosen at power-on ({@code auto detect}). */
        AUTO_DETECT,
        /** The drive of the machine running the vSphere client ({@code clientDevice = "TRUE"}). */
        CLIENT_DEVICE,
        /** SCSI pass-through of a host device ({@code scsi-passthru}). */
        PASSTHROUGH
    }

    public Optional<Bus> bus() {
        return slot.map(DeviceSlot::bus);
    }

    /** virt-v2v's slot number: the index on the bus (floppies: the drive number). */
    public Optional<Integer> slotIndex() {
        if (type == MediaType.FLOPPY) {
            return floppyUnit >= 0 ? Optional.of(floppyUnit) : Optional.empty();
        }
        return slot.map(DeviceSlot::index);
    }
}
