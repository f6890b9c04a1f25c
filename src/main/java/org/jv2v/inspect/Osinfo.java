package org.jv2v.inspect;

import java.util.Optional;

/** The libosinfo short id libguestfs derives from the type, distribution and version ("debian12"). */
final class Osinfo {
    private Osinfo() {}

    static Optional<String> of(String type, String distro, int major, int minor, String productName,
                               String productVariant) {
        String d = distro == null ? "unknown" : distro;
        String name = productName == null ? "unknown" : productName;
        String variant = productVariant == null ? "unknown" : productVariant;
        if (type.equals("linux")) {
            switch (d) {
                case "centos" -> {
                    if (major >= 8) {
                        return Optional.of(d + major);
                    } else if (major == 7) {
                        return Optional.of(d + major + ".0");
                    } else if (major == 6) {
                        return Optional.of(d + major + "." + minor);
                    }
                }
                case "rocky" -> {
                    if (major >= 8) {
                        return Optional.of(d + major);
                    }
                }
                case "debian" -> {
                    if (major >= 4) {
                        return Optional.of(d + major);
                    }
                }
                case "fedora", "mageia" -> {
                    return Optional.of(d + major);
                }
                case "sles" -> {
                    return Optional.of(minor == 0 ? d + major : d + major + "sp" + minor);
                }
                case "ubuntu" -> {
                    return Optional.of(String.format("%s%d.%02d", d, major, minor));
                }
                case "archlinux", "gentoo", "voidlinux" -> {
                    return Optional.of(d);
                }
                case "altlinux" -> {
                    return Optional.of(major >= 8 ? "alt" + major + "." + minor : d + major + "." + minor);
                }
                default -> { }
            }
            if (!d.equals("unknown") && (major > 0 || minor > 0)) {
                return Optional.of(d + major + "." + minor);
            }
        } else if (type.equals("windows")) {
            boolean server = variant.contains("Server");
            if (major == 5 && minor == 1) {
                return Optional.of("winxp");
            } else if (major == 5 && minor == 2) {
                return Optional.of(name.contains("XP") ? "winxp" : name.contains("R2") ? "win2k3r2" : "win2k3");
            } else if (major == 6 && minor == 0) {
                return Optional.of(server ? "win2k8" : "winvista");
            } else if (major == 6 && minor == 1) {
                return Optional.of(server ? "win2k8r2" : "win7");
            } else if (major == 6 && minor == 2) {
                return Optional.of(server ? "win2k12" : "win8");
            } else if (major == 6 && minor == 3) {
                return Optional.of(server ? "win2k12r2" : "win8.1");
            } else if (major == 10 && minor == 0) {
                if (!server) {
                    return Optional.of("win10");
                }
                return Optional.of(name.contains("2022") ? "win2k22" : name.contains("2019") ? "win2k19" : "win2k16");
            }
        }
        return Optional.empty();
    }
}
