package org.jv2v.inspect;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * /etc/fstab, read as libguestfs reads it (through Augeas): one entry per line with at least a
 * device, a mount point and a type; comments and blank lines skipped; entries for removable media,
 * pseudo filesystems and special folders (/proc, /sys, /dev, /media) dropped; devices resolved by
 * {@link Devices}.
 */
final class Fstab {
    /** libguestfs hands Augeas no configuration file bigger than this (max_augeas_file_size). */
    static final int MAX_FSTAB_BYTES = 100 * 1000;

    /**
     * One kept line.
     *
     * @param device     the resolved device (or the spec unchanged when it names no known device)
     * @param mountPoint canonical mount point ("/boot"), or what the line says for swap ("none", "swap")
     * @param vfsType    the type field
     * @param spec       the first field as written
     * @param subvolume  btrfs: the subvol= option as written (a path from the top level, id 5), if any
     * @param subvolumeId btrfs: the subvolid= option, if any (mounted, but not part of the name, as in libguestfs)
     */
    record Entry(String device, String mountPoint, String vfsType, String spec, Optional<String> subvolume,
                 java.util.OptionalLong subvolumeId) {
        /** libguestfs's name for what is mounted: the device, or "btrfsvol:DEVICE/SUBVOL" for a subvol= line. */
        String mountable() {
            return subvolume.map(s -> Mountables.btrfsvol(device, s)).orElse(device);
        }
    }

    /** A line as written, before its device is resolved. */
    record Line(int number, String spec, String mountPoint, String vfsType, List<String> options) {}

    private Fstab() {}

    /** The fstab's lines, or empty when there is none (or it is too big to be a real one). */
    static Optional<List<Line>> read(GuestFiles g, List<String> notes) throws IOException {
        Optional<org.jv2v.fs.FileStat> st = g.stat("/etc/fstab");
        if (st.isEmpty() || !st.get().isRegular()) {
            return Optional.empty();
        }
        if (st.get().size() > MAX_FSTAB_BYTES) {
            notes.add("/etc/fstab: " + st.get().size() + " bytes, more than the " + MAX_FSTAB_BYTES
                    + " read: mount points unknown");
            return Optional.empty();
        }
        return g.readSmall("/etc/fstab", MAX_FSTAB_BYTES).map(b -> parse(new String(b,
                java.nio.charset.StandardCharsets.UTF_8), notes));
    }

    static List<Line> parse(String text, List<String> notes) {
        List<Line> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("[ \t]+");
            if (f.length < 3) {
                notes.add("/etc/fstab:" + (i + 1) + ": fewer than 3 fields: line ignored");
                continue;
            }
            List<String> opts = f.length > 3 ? List.of(f[3].split(",")) : List.of();
            out.add(new Line(i + 1, unescape(f[0]), unescape(f[1]), f[2], opts));
        }
        return out;
    }

    /** Whether libguestfs keeps the line; if so, the canonical mount point. */
    static Optional<String> keptMountPoint(Line l) {
        String spec = l.spec();
        if ((spec.startsWith("/dev/fd") && spec.length() >= 8 && Character.isDigit(spec.charAt(7)))
                || (spec.startsWith("/dev/cd") && spec.length() >= 8 && Character.isDigit(spec.charAt(7)))
                || spec.equals("/dev/floppy") || spec.equals("/dev/cdrom") || spec.startsWith("/dev/iso9660/")) {
            return Optional.empty();
        }
        String mp = l.mountPoint().startsWith("/") ? GuestFiles.canonical(l.mountPoint()) : l.mountPoint();
        for (String special : List.of("/dev", "/media", "/proc", "/selinux", "/sys")) {
            if (mp.equals(special) || mp.startsWith(special + "/")) {
                return Optional.empty();
            }
        }
        return Optional.of(mp);
    }

    static Optional<String> subvolume(Line l) {
        for (String o : l.options()) {
            if (o.startsWith("subvol=")) {
                return Optional.of(o.substring("subvol=".length()));
            }
        }
        return Optional.empty();
    }

    /** subvolid=N, when N is a number. */
    static java.util.OptionalLong subvolumeId(Line l) {
        for (String o : l.options()) {
            if (o.startsWith("subvolid=")) {
                try {
                    return java.util.OptionalLong.of(Long.parseUnsignedLong(o.substring("subvolid=".length())));
                } catch (NumberFormatException e) {
                    return java.util.OptionalLong.empty();
                }
            }
        }
        return java.util.OptionalLong.empty();
    }

    /** udev's /dev/disk/by-label names write a space as \x20. */
    static String unescapeUdev(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.charAt(i + 1) == 'x'
                    && s.substring(i + 2, i + 4).matches("[0-9a-fA-F]{2}")) {
                b.append((char) Integer.parseInt(s.substring(i + 2, i + 4), 16));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** fstab writes a space as \040, a tab as \011 (getmntent's octal escapes). */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
