package org.jv2v.testing;

/**
 * The VMware-like Linux guests the factory builds from Debian packages (scripts in
 * {@code src/test/guests}). Each boots on ESXi-like hardware (pvscsi disk, vmxnet3 NIC in PCI
 * slot 192) and prints {@value #MARKER} with its static address on the serial console.
 */
public enum TestGuest {
    /** Debian 12, MBR, ext4 root, BIOS GRUB, swap named /dev/sda5 in fstab and resume=. */
    DEBIAN12_BIOS("debian12-bios", QemuBoot.Firmware.BIOS, "00:50:56:3a:12:01"),
    /** RHEL-like layout: GPT, UEFI, ESP, XFS /boot, XFS root on LVM (VG rhel), BLS entries. */
    RHEL_LIKE_UEFI("rhel-like-uefi", QemuBoot.Firmware.UEFI, "00:50:56:3a:12:02");

    /** The line the guest's marker service prints once it is up with its network. */
    public static final String MARKER = "JV2V-BOOT-OK";
    /** The static address every guest configures (TEST-NET-1, RFC 5737: reachable from nowhere). */
    public static final String STATIC_IP = "192.0.2.10/24";
    /** The name the guest's network configuration uses: a vmxnet3 NIC in ESXi's PCI slot 192. */
    public static final String VMWARE_NIC_NAME = "ens192";
    /** ESXi's PCI slot number of the first NIC (ethernet0.pciSlotNumber), which names it ens192. */
    public static final int VMWARE_NIC_SLOT = 192;

    private final String id;
    private final QemuBoot.Firmware firmware;
    private final String mac;

    TestGuest(String id, QemuBoot.Firmware firmware, String mac) {
        this.id = id;
        this.firmware = firmware;
        this.mac = mac;
    }

    /** The guest's name: its folder under target/guests, its .vmx and .vmdk file names. */
    public String id() {
        return id;
    }

    public QemuBoot.Firmware firmware() {
        return firmware;
    }

    /** The MAC address in the .vmx (VMware's static range 00:50:56:00:00:00-3f:ff:ff). */
    public String mac() {
        return mac;
    }

    /**
     * The disk controller QEMU boots the unconverted guest on. The .vmx says pvscsi for both, as
     * on ESXi, and the BIOS guest boots from pvscsi (SeaBIOS has a pvscsi driver). Debian's OVMF is
     * built without PvScsiDxe (nor the LSI SAS driver), so under UEFI the same disk goes on SATA
     * (AHCI), which ESXi also offers and the guest's initramfs also drives.
     */
    public QemuBoot.DiskBus vmwareBus() {
        return firmware == QemuBoot.Firmware.UEFI ? QemuBoot.DiskBus.SATA : QemuBoot.DiskBus.PVSCSI;
    }

    String script() {
        return "build-" + id + ".sh";
    }
}
