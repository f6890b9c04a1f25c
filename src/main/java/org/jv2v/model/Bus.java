package org.jv2v.model;

/** A storage bus a disk or drive hangs off. */
public enum Bus {
    IDE("ide"),
    SATA("sata"),
    SCSI("scsi"),
    NVME("nvme"),
    VIRTIO_BLK("virtio-blk"),
    VIRTIO_SCSI("virtio-scsi");

    private final String label;

    Bus(String label) {
        this.label = label;
    }

    /** The name virt-v2v prints ("scsi", "virtio-blk"). */
    public String label() {
        return label;
    }

    /** How many devices one controller of this bus holds, as VMware numbers them. */
    public int unitsPerController() {
        return switch (this) {
            case IDE -> 2;           // master and slave
            case SATA -> 30;         // AHCI ports VMware exposes per controller
            case SCSI -> 65;         // pvscsi's targets 0..64 (others use 0..15)
            case VIRTIO_SCSI -> 256;
            case NVME -> 64;         // namespaces per VMware NVMe controller
            case VIRTIO_BLK -> 1;
        };
    }

    /** Where virt-v2v puts a disk on this bus when it orders a guest's disks: SCSI, NVMe, SATA, IDE, then the rest. */
    public int diskOrder() {
        return switch (this) {
            case SCSI -> 0;
            case NVME -> 1;
            case SATA -> 2;
            case IDE -> 3;
            default -> 4;
        };
    }
}
