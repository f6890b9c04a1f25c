package org.jv2v.model;

/**
 * Where a disk or drive sits: bus, controller number and unit on that controller ({@code scsi1:3}
 * is SCSI, controller 1, unit 3; {@code ide1:0} is IDE, channel 1, master).
 */
public record DeviceSlot(Bus bus, int controller, int unit) implements Comparable<DeviceSlot> {
    public DeviceSlot {
        if (controller < 0 || unit < 0) {
            throw new IllegalArgumentException("negative controller or unit: " + controller + ":" + unit);
        }
    }

    /**
     * The slot number virt-v2v prints and keeps on the target bus: the index of this position
     * counting every unit of the controllers before it (IDE: channel * 2 + unit, so ide1:0 is 2).
     */
    public int index() {
        return controller * bus.unitsPerController() + unit;
    }

    /** "scsi0:1" as VMware names it. */
    public String vmxName() {
        return bus.label() + controller + ":" + unit;
    }

    @Override
    public int compareTo(DeviceSlot o) {
        int c = bus.compareTo(o.bus);
        if (c == 0) c = Integer.compare(controller, o.controller);
        if (c == 0) c = Integer.compare(unit, o.unit);
        return c;
    }
}
