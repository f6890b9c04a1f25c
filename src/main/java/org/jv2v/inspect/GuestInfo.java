package org.jv2v.inspect;

import java.util.List;
import java.util.Optional;

/**
 * One operating system found on the guest's disks (libguestfs calls it a root): what
 * virt-inspector reports about it, and what the converter needs beyond that.
 *
 * @param root              the device of its root filesystem (/dev/sda3, /dev/VG/root)
 * @param type              "linux" or "windows"
 * @param distro            "debian", "ubuntu", "rhel", "centos", "rocky", "fedora", "opensuse",
 *                          "sles", "alpinelinux", "archlinux", "windows" ... as libguestfs names them
 * @param productName       "Debian GNU/Linux 12 (bookworm)", "12.5", "Windows Server 2022 Standard" ...
 * @param productVariant    Windows' InstallationType ("Server", "Client")
 * @param majorVersion      0 when unknown
 * @param minorVersion      0 when unknown
 * @param arch              "x86_64", "i386", "aarch64" ... from an executable's header
 * @param hostname          /etc/hostname (Linux), the Tcpip Hostname (Windows)
 * @param packageFormat     "deb", "rpm", "apk", "pacman" ...
 * @param packageManagement "apt", "dnf", "yum", "zypper" ...
 * @param osinfo            the libosinfo short id libguestfs derives ("debian12", "rocky9", "win2k22")
 * @param mountpoints       fstab's mount points, shortest path first (the order to mount them in)
 * @param filesystems       the filesystems the guest uses (fstab's, swap included; Windows: its root)
 * @param applications      installed packages, sorted by name (empty when not listed: see notes)
 * @param kernels           installed Linux kernels
 * @param bootloader        the boot loader, when found
 * @param initSystem        "systemd", "sysvinit", "upstart", "openrc", "busybox", "windows" or "unknown"
 * @param network           how the network is configured
 * @param windows           registry facts (Windows only)
 * @param driveMappings     drive letters (Windows only), by letter
 * @param notes             what could not be read and was skipped, one sentence each
 */
public record GuestInfo(String root, String type, Optional<String> distro, Optional<String> productName,
                        Optional<String> productVariant, int majorVersion, int minorVersion, Optional<String> arch,
                        Optional<String> hostname, Optional<String> packageFormat,
                        Optional<String> packageManagement, Optional<String> osinfo, List<MountPoint> mountpoints,
                        List<FilesystemInfo> filesystems, List<Application> applications, List<Kernel> kernels,
                        Optional<Bootloader> bootloader, String initSystem, List<NetworkConfig> network,
                        Optional<WindowsInfo> windows, List<DriveMapping> driveMappings, List<String> notes) {
    public GuestInfo {
        mountpoints = List.copyOf(mountpoints);
        filesystems = List.copyOf(filesystems);
        applications = List.copyOf(applications);
        kernels = List.copyOf(kernels);
        network = List.copyOf(network);
        driveMappings = List.copyOf(driveMappings);
        notes = List.copyOf(notes);
    }

    public boolean isLinux() {
        return type.equals("linux");
    }

    public boolean isWindows() {
        return type.equals("windows");
    }

    /** "Debian GNU/Linux 12.5", or the distro and version when there is no product name. */
    public String describe() {
        return productName.orElse(distro.orElse(type) + " " + majorVersion + "." + minorVersion);
    }
}
