package org.jv2v.source;

/** {@code -i}: what the input is. */
public enum InputMode {
    /** A VMware {@code .vmx} with its disks. */
    VMX,
    /** An OVA (tar) or a folder with an OVF, its manifest and disks. */
    OVA,
    /** One or more bare disk images. */
    DISK,
    /** A libvirt domain XML file. */
    LIBVIRTXML;

    public String label() {
        return name().toLowerCase();
    }
}
