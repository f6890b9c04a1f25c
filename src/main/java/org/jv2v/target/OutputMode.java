package org.jv2v.target;

/** {@code -o}: what jv2v writes. */
public enum OutputMode {
    /** Disks and a libvirt domain XML ({@code NAME.xml}) in the {@code -os} folder. */
    LOCAL,
    /** Disks and an executable QEMU script ({@code NAME.sh}). */
    QEMU,
    /** Disks and a JSON description ({@code NAME.json}, see doc/json-output.md). */
    JSON,
    /** Nothing: convert and throw the result away (a dry run of the whole pipeline). */
    NULL;

    public String label() {
        return name().toLowerCase();
    }
}
