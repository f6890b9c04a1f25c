package org.jv2v.convert.linux;

import org.jv2v.Jv2vException;

/**
 * The disks hold no bootable Linux installation (no root filesystem, or one without kernel or boot
 * loader): there is nothing to convert. The pipeline copies such a guest as it is, with a warning;
 * it is not an error the way a guest that cannot be converted is.
 */
public final class NothingToConvertException extends Jv2vException {
    public NothingToConvertException(String message) {
        super(message);
    }
}
