package org.jv2v.model;

/** The guest's boot firmware on the source. */
public enum Firmware {
    BIOS("bios"),
    UEFI("uefi"),
    /** The source does not say (e.g. {@code -i disk}); the converter decides from the disk's content. */
    UNKNOWN("unknown");

    private final String label;

    Firmware(String label) {
        this.label = label;
    }

    /** The word virt-v2v prints in {@code --print-source}. */
    public String label() {
        return label;
    }
}
