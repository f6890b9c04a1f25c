package org.jv2v.inspect;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What inspection learns about one filesystem, filled in step by step (the release files, the
 * registry ...), as libguestfs's inspection_data. Turned into a {@link GuestInfo} at the end.
 */
final class OsData {
    enum Role { ROOT, USR, OTHER }

    Role role = Role.OTHER;
    String osType;
    String distro;
    String productName;
    String productVariant;
    /** {major, minor}, or null when unknown. */
    int[] version;
    String arch;
    String hostname;
    /** The fstab's entries, resolved; null when the guest has no fstab (Windows). */
    List<Fstab.Entry> fstab;
    String windowsSystemRoot;
    String windowsSystemHive;
    String windowsSoftwareHive;
    String windowsCurrentControlSet;
    List<DriveMapping> driveMappings = new ArrayList<>();
    final List<String> notes = new ArrayList<>();

    void version(int major, int minor) {
        version = new int[] {major, minor};
    }

    Optional<String> opt(String s) {
        return Optional.ofNullable(s);
    }

    int major() {
        return version == null ? 0 : version[0];
    }

    int minor() {
        return version == null ? 0 : version[1];
    }

    /** Fills what {@code this} lacks from {@code other} (a separate /usr's os-release and arch). */
    void mergeFrom(OsData other) {
        osType = osType != null ? osType : other.osType;
        distro = distro != null ? distro : other.distro;
        productName = productName != null ? productName : other.productName;
        productVariant = productVariant != null ? productVariant : other.productVariant;
        version = version != null ? version : other.version;
        arch = arch != null ? arch : other.arch;
        hostname = hostname != null ? hostname : other.hostname;
    }
}
