package org.jv2v.target;

/**
 * A bus a target disk or drive is attached to, with its names in libvirt and QEMU. Besides
 * virtio, the emulated controllers QEMU offers for guests that only have their VMware drivers.
 */
public enum TargetBus {
    VIRTIO_BLK("virtio", "vd", null, "virtio-blk-pci"),
    VIRTIO_SCSI("scsi", "sd", "virtio-scsi", "virtio-scsi-pci"),
    /** VMware paravirtual SCSI (vmw_pvscsi / pvscsi.sys), emulated by QEMU's {@code pvscsi}. */
    PVSCSI("scsi", "sd", "vmpvscsi", "pvscsi"),
    /** LSI Logic SAS 1068 (mptsas / lsi_sas.sys), emulated by QEMU's {@code mptsas1068}. */
    LSISAS1068("scsi", "sd", "lsisas1068", "mptsas1068"),
    SATA("sata", "sd", null, "ich9-ahci"),
    IDE("ide", "hd", null, null),
    FDC("fdc", "fd", null, null);

    private final String libvirtBus;
    private final String devPrefix;
    private final String scsiModel;
    private final String qemuController;

    TargetBus(String libvirtBus, String devPrefix, String scsiModel, String qemuController) {
        this.libvirtBus = libvirtBus;
        this.devPrefix = devPrefix;
        this.scsiModel = scsiModel;
        this.qemuController = qemuController;
    }

    /** libvirt's {@code <target bus=...>}. */
    public String libvirtBus() {
        return libvirtBus;
    }

    public String devPrefix() {
        return devPrefix;
    }

    /** libvirt's {@code <controller type='scsi' model=...>}, for SCSI buses. */
    public String scsiModel() {
        return scsiModel;
    }

    /** The QEMU device of the controller (the disk device itself for virtio-blk). */
    public String qemuController() {
        return qemuController;
    }

    public boolean isScsi() {
        return scsiModel != null;
    }

    /** How a user reads it. */
    public String label() {
        return switch (this) {
            case VIRTIO_BLK -> "virtio-blk";
            case VIRTIO_SCSI -> "virtio-scsi";
            case PVSCSI -> "pvscsi (VMware paravirtual SCSI)";
            case LSISAS1068 -> "LSI Logic SAS 1068";
            case SATA -> "SATA (AHCI)";
            case IDE -> "IDE";
            case FDC -> "floppy controller";
        };
    }

    /** Devices per controller as the target numbers them (AHCI has 6 ports, IDE 2 buses x 2). */
    public int unitsPerController() {
        return switch (this) {
            case SATA -> 6;
            case IDE -> 4;
            case FDC -> 2;
            case VIRTIO_BLK -> 1;
            case PVSCSI -> 64;
            case LSISAS1068 -> 8;
            case VIRTIO_SCSI -> 256;
        };
    }

    /** libvirt/virt-v2v drive names: 0 -> a, 25 -> z, 26 -> aa. */
    public static String driveName(int index) {
        StringBuilder s = new StringBuilder();
        int i = index;
        do {
            s.insert(0, (char) ('a' + i % 26));
            i = i / 26 - 1;
        } while (i >= 0);
        return s.toString();
    }
}
