package org.jv2v.target;

/**
 * What the guest can drive on the target: the facts the converter establishes (by installing or
 * finding drivers). Until conversion exists they come from the user ({@code --virtio yes|no}).
 *
 * @param virtioBlock  the guest boots from virtio-blk
 * @param virtioScsi   the guest boots from virtio-scsi
 * @param virtioNet    the guest has a virtio-net driver
 * @param virtioExtras virtio-rng, virtio-balloon and the guest agent channel are usable
 * @param known        whether these facts were established (by conversion or by the user); when
 *                     not, the target keeps devices the guest already drives
 * @param origin       where the facts come from, for the printed decision ("--virtio yes", "conversion")
 */
public record GuestCapabilities(boolean virtioBlock, boolean virtioScsi, boolean virtioNet, boolean virtioExtras,
                                boolean known, String origin) {

    /** Nothing is known: keep the devices the guest has drivers for. */
    public static GuestCapabilities unknown() {
        return new GuestCapabilities(false, false, false, false, false, "no conversion ran");
    }

    public static GuestCapabilities virtio(String origin) {
        return new GuestCapabilities(true, true, true, true, true, origin);
    }

    public static GuestCapabilities noVirtio(String origin) {
        return new GuestCapabilities(false, false, false, false, true, origin);
    }
}
