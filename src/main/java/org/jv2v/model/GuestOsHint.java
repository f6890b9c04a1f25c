package org.jv2v.model;

import java.util.Locale;
import java.util.Optional;

/**
 * What the source's metadata claims the guest OS is (VMware's {@code guestOS}, OVF's
 * {@code vmw:osType}). Only a hint: the inspector reads the disks for the truth.
 *
 * @param id     the identifier as written ("rhel7-64", "windows9-64", "windows7Server64Guest"), if any
 * @param family the OS family the identifier names
 * @param arch   the architecture it names ({@code -64} means x86_64, as VMware and libvirt read it)
 */
public record GuestOsHint(Optional<String> id, OsFamily family, Arch arch) {

    public enum OsFamily { WINDOWS, LINUX, BSD, SOLARIS, MACOS, OTHER, UNKNOWN }

    public enum Arch {
        X86_64("x86_64"), I686("i686"), AARCH64("aarch64"), UNKNOWN("unknown");

        private final String label;

        Arch(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    public static final GuestOsHint NONE = new GuestOsHint(Optional.empty(), OsFamily.UNKNOWN, Arch.UNKNOWN);

    /** Linux distribution words found in VMware's guestOS identifiers. */
    private static final String[] LINUX_WORDS = {"linux", "rhel", "centos", "debian", "ubuntu", "sles", "suse",
        "fedora", "oracle", "mandrake", "mandriva", "redhat", "asianux", "coreos", "photon", "turbolinux", "nld",
        "oes", "amazonlinux", "almalinux", "rocky", "miraclelinux", "pardus", "prolinux", "kylinlinux", "fusionos"};

    /**
     * Reads a VMware guest OS identifier: {@code .vmx} style ("rhel6-64", "winxppro", "arm-ubuntu-64")
     * or vSphere API / OVF style ("windows7Server64Guest", "rhel7_64Guest").
     */
    public static GuestOsHint ofVmware(String id) {
        String s = id.toLowerCase(Locale.ROOT).trim();
        if (s.isEmpty()) {
            return NONE;
        }
        String core = s.endsWith("guest") ? s.substring(0, s.length() - "guest".length()) : s;
        OsFamily family;
        if (core.startsWith("win") || core.startsWith("longhorn")) {
            family = OsFamily.WINDOWS;
        } else if (core.contains("freebsd") || core.contains("openbsd") || core.contains("netbsd")) {
            family = OsFamily.BSD;
        } else if (core.contains("solaris")) {
            family = OsFamily.SOLARIS;
        } else if (core.contains("darwin")) {
            family = OsFamily.MACOS;
        } else if (containsAny(core, LINUX_WORDS)) {
            family = OsFamily.LINUX;
        } else {
            family = OsFamily.OTHER;
        }
        Arch arch;
        if (core.startsWith("arm-") || core.contains("arm64") || core.contains("aarch64")) {
            arch = Arch.AARCH64;
        } else if (core.endsWith("-64") || core.endsWith("_64") || core.endsWith("64")) {
            arch = Arch.X86_64;
        } else {
            arch = Arch.I686;
        }
        return new GuestOsHint(Optional.of(id), family, arch);
    }

    private static boolean containsAny(String s, String[] words) {
        for (String w : words) {
            if (s.contains(w)) {
                return true;
            }
        }
        return false;
    }

    /**
     * True for guests too old for the q35 machine (no AHCI/PCIe support out of the box): Windows
     * before Vista and 2.4-era Linux, as their VMware identifiers name them.
     */
    public boolean isLegacy() {
        if (id.isEmpty()) {
            return false;
        }
        String s = id.get().toLowerCase(Locale.ROOT);
        return s.startsWith("win31") || s.startsWith("win95") || s.startsWith("win98") || s.startsWith("winme")
                || s.startsWith("winnt") || s.startsWith("win2000") || s.startsWith("winxp")
                || s.startsWith("winnet") || s.startsWith("dos") || s.contains("24xlinux")
                || s.matches("rhel[234](-64)?") || s.matches("sles(-64)?") || s.matches("sles9(-64)?");
    }
}
