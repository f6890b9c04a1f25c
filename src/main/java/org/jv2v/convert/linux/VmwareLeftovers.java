package org.jv2v.convert.linux;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * VMware's guest software, made harmless by editing files: its services are disabled (virt-v2v
 * uninstalls the packages with the guest's package manager, which jv2v cannot run without booting
 * the guest), X11's VMware display driver is replaced with modesetting, and VMware's package
 * repositories are switched off.
 */
final class VmwareLeftovers {
    /** Units of open-vm-tools and of VMware's own Tools, as their packages name them. */
    private static final Pattern UNIT = Pattern.compile(
            "(?:open-vm-tools|vmtoolsd|vmware-tools(?:-thinprint)?|vgauth|vgauthd|vmware-vmblock-fuse"
                    + "|vmtoolsd-init|run-vmblock\\\\x2dfuse)\\.(?:service|mount|socket|path)");
    /** SysV init scripts of the same ("S10vmware-tools"). */
    private static final Pattern RC_LINK = Pattern.compile("S\\d\\d(?:vmware-tools(?:-thinprint)?|open-vm-tools"
            + "|vmtoolsd|vmware-vmblock-fuse)");
    private static final Pattern VMWARE_URL = Pattern.compile("(?i)https?://(?:[^/\\s]+\\.)?vmware\\.com/");

    /** A link to remove and why. */
    record Link(String path, String why) {}

    private VmwareLeftovers() {}

    /** The .wants/.requires links and SysV start links that start VMware's services at boot. */
    static List<Link> serviceLinks(GuestFiles files) throws IOException {
        List<Link> out = new ArrayList<>();
        for (String base : List.of("/etc/systemd/system")) {
            for (String dir : files.list(base)) {
                if (!dir.endsWith(".wants") && !dir.endsWith(".requires")) {
                    continue;
                }
                String d = base + "/" + dir;
                for (String n : files.list(d)) {
                    if (UNIT.matcher(n).matches()) {
                        out.add(new Link(d + "/" + n, "disable " + n + " (VMware Tools: nothing for it to do on KVM)"));
                    }
                }
            }
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String rc : List.of("/etc/rc.d", "/etc")) {
            for (String dir : files.list(rc)) {
                if (!dir.matches("rc[0-6S]\\.d")) {
                    continue;
                }
                String d = rc + "/" + dir;
                if (!seen.add(files.resolve(d))) {
                    continue;
                }
                for (String n : files.list(d)) {
                    if (RC_LINK.matcher(n).matches()) {
                        out.add(new Link(d + "/" + n, "disable the SysV service " + n.substring(3)
                                + " at runlevel " + dir.charAt(2) + " (VMware Tools: nothing for it to do on KVM)"));
                    }
                }
            }
        }
        return out;
    }

    /**
     * xorg.conf: a Device section with Driver "vmware" gets Driver "modesetting" (the KMS driver
     * for KVM's virtio-gpu, QXL and VGA alike) and loses its VendorName/BoardName and its BusID
     * (VMware's SVGA adapter's slot, PCI:0:15:0, where KVM has no display adapter).
     */
    static EditResult xorg(String text, String path) {
        TextFile f = TextFile.parse(text);
        EditResult.Builder b = new EditResult.Builder();
        int sectionStart = -1;
        boolean device = false;
        boolean vmware = false;
        List<Integer> drop = new ArrayList<>();
        for (int i = 0; i < f.size(); i++) {
            String t = f.line(i).strip();
            String lower = t.toLowerCase(Locale.ROOT);
            if (lower.startsWith("section")) {
                sectionStart = i;
                device = lower.matches("section\\s+\"device\".*");
                vmware = false;
                continue;
            }
            if (lower.startsWith("endsection")) {
                if (device && vmware) {
                    for (int k = sectionStart + 1; k < i; k++) {
                        String s = f.line(k).strip().toLowerCase(Locale.ROOT);
                        if (s.startsWith("vendorname") || s.startsWith("boardname") || s.startsWith("busid")) {
                            drop.add(k);
                        }
                    }
                }
                device = false;
                continue;
            }
            if (device && !t.startsWith("#")) {
                Matcher m = Pattern.compile("(?i)^(\\s*Driver\\s+)\"(vmware|vmwgfx)\"(.*)$").matcher(f.line(i));
                if (m.matches()) {
                    vmware = true;
                    f.set(i, m.group(1) + "\"modesetting\"" + m.group(3));
                    b.reasons.add("line " + (i + 1) + ": Driver \"" + m.group(2) + "\" -> \"modesetting\" (VMware's "
                            + "X driver only works on VMware's display adapter)");
                }
            }
        }
        for (int k = drop.size() - 1; k >= 0; k--) {
            int line = drop.get(k);
            boolean bus = f.line(line).strip().toLowerCase(Locale.ROOT).startsWith("busid");
            b.reasons.add("line " + (line + 1) + ": removed " + f.line(line).strip() + (bus
                    ? " (the PCI slot of VMware's adapter: on KVM no display adapter is there, and X would find none)"
                    : " (names VMware's adapter)"));
            f.remove(line);
        }
        if (text.toLowerCase(Locale.ROOT).matches("(?s).*driver\\s+\"vmmouse\".*")) {
            b.warnings.add(path + ": the vmmouse input driver stays: off VMware it falls back to a plain mouse");
        }
        return b.build(f.toString());
    }

    /** A yum/dnf .repo file: sections whose baseurl or mirrorlist is VMware's get enabled=0. */
    static EditResult yumRepo(String text, String path) {
        TextFile f = TextFile.parse(text);
        EditResult.Builder b = new EditResult.Builder();
        List<int[]> sections = new ArrayList<>();
        for (int i = 0; i < f.size(); i++) {
            String t = f.line(i).strip();
            if (t.startsWith("[") && t.endsWith("]")) {
                sections.add(new int[] {i, f.size()});
                if (sections.size() > 1) {
                    sections.get(sections.size() - 2)[1] = i;
                }
            }
        }
        for (int s = sections.size() - 1; s >= 0; s--) {
            int start = sections.get(s)[0];
            int end = sections.get(s)[1];
            boolean vmware = false;
            int enabled = -1;
            for (int i = start + 1; i < end; i++) {
                String t = f.line(i).strip();
                if (t.startsWith("#")) {
                    continue;
                }
                if ((t.startsWith("baseurl") || t.startsWith("mirrorlist") || t.startsWith("metalink"))
                        && VMWARE_URL.matcher(t).find()) {
                    vmware = true;
                }
                if (t.matches("enabled\\s*=.*")) {
                    enabled = i;
                }
            }
            if (!vmware) {
                continue;
            }
            String name = f.line(start).strip();
            if (enabled >= 0) {
                if (f.line(enabled).strip().matches("enabled\\s*=\\s*0")) {
                    continue;
                }
                f.set(enabled, "enabled=0");
                b.reasons.add("line " + (enabled + 1) + ": " + name + " enabled=0 (VMware's repository: its "
                        + "packages are for VMware guests)");
            } else {
                int at = start + 1;
                TextFile g = TextFile.parse(insertLine(f.toString(), at, "enabled=0"));
                f = g;
                b.reasons.add("line " + (at + 1) + ": " + name + " added enabled=0 (VMware's repository: its "
                        + "packages are for VMware guests)");
            }
        }
        return b.build(f.toString());
    }

    /** An APT sources.list(.d/*.list) file: lines with a VMware URL are commented out. */
    static EditResult aptList(String text, String path) {
        TextFile f = TextFile.parse(text);
        EditResult.Builder b = new EditResult.Builder();
        for (int i = 0; i < f.size(); i++) {
            String line = f.line(i);
            if (!TextFile.isComment(line) && line.strip().matches("deb(-src)?\\s.*") && VMWARE_URL.matcher(line).find()) {
                f.set(i, "# disabled by jv2v (VMware's repository): " + line);
                b.reasons.add("line " + (i + 1) + ": commented out (VMware's repository: its packages are for "
                        + "VMware guests)");
            }
        }
        return b.build(f.toString());
    }

    private static String insertLine(String text, int index, String line) {
        TextFile f = TextFile.parse(text);
        StringBuilder s = new StringBuilder();
        String all = f.toString();
        int pos = 0;
        for (int i = 0; i < index && pos < all.length(); i++) {
            int nl = all.indexOf('\n', pos);
            pos = nl < 0 ? all.length() : nl + 1;
        }
        s.append(all, 0, pos);
        if (pos > 0 && all.charAt(pos - 1) != '\n') {
            s.append('\n');
        }
        s.append(line).append('\n').append(all.substring(pos));
        return s.toString();
    }
}
