package org.jv2v.model;

/** VMware's disk modes ({@code scsi0:0.mode}); they decide what survives a power-off. */
public enum DiskMode {
    /** Changes are kept and the disk takes part in snapshots (the default). */
    PERSISTENT("persistent"),
    /** Changes are kept; snapshots skip the disk. */
    INDEPENDENT_PERSISTENT("independent-persistent"),
    /** Changes are thrown away at power-off; snapshots skip the disk. */
    INDEPENDENT_NONPERSISTENT("independent-nonpersistent"),
    /** Old (ESX 2) mode: changes thrown away at power-off. */
    NONPERSISTENT("nonpersistent"),
    /** Old (ESX 2) mode: the user is asked at power-off. */
    UNDOABLE("undoable"),
    /** Old mode: changes appended to a redo log. */
    APPEND("append");

    private final String vmx;

    DiskMode(String vmx) {
        this.vmx = vmx;
    }

    public String vmxName() {
        return vmx;
    }

    /** True when the guest's writes do not survive a power-off (libvirt's {@code <transient/>}). */
    public boolean isTransient() {
        return this == INDEPENDENT_NONPERSISTENT || this == NONPERSISTENT;
    }

    public static java.util.Optional<DiskMode> ofVmx(String s) {
        for (DiskMode m : values()) {
            if (m.vmx.equalsIgnoreCase(s)) {
                return java.util.Optional.of(m);
            }
        }
        return java.util.Optional.empty();
    }
}
