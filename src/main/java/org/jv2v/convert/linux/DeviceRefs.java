package org.jv2v.convert.linux;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Disk names in the configuration files that name block devices: fstab, crypttab, shell-style
 * settings (/etc/default/grub, initramfs-tools' resume), GRUB's device.map. Each rewrites only the
 * fields that hold a device, never comments, and keeps the file's spacing.
 */
final class DeviceRefs {
    private static final Pattern FIELD = Pattern.compile("\\S+");
    /** Names that point at hardware VMware presents and KVM will not (by PCI path, by VMware's disk ids). */
    private static final Pattern HARDWARE_NAME = Pattern.compile(
            "/dev/disk/by-(?:path|id)/\\S+|/dev/disk/by-id/\\S*VMware\\S*");

    private DeviceRefs() {}

    /** /etc/fstab: the first field (what to mount). */
    static EditResult fstab(String text, DeviceMap map, String path) {
        return fields(text, map, path, 0, 0);
    }

    /** /etc/crypttab: the second field (the encrypted device) and the third (a key device). */
    static EditResult crypttab(String text, DeviceMap map, String path) {
        return fields(text, map, path, 1, 2);
    }

    /**
     * Files where any device name outside comments is a device reference: /etc/default/grub,
     * /etc/initramfs-tools/conf.d/resume, /etc/uswsusp.conf, GRUB's device.map.
     */
    static EditResult everyLine(String text, DeviceMap map, String path) {
        TextFile f = TextFile.parse(text);
        EditResult.Builder b = new EditResult.Builder();
        for (int i = 0; i < f.size(); i++) {
            String line = f.line(i);
            if (TextFile.isComment(line)) {
                continue;
            }
            DeviceMap.Remapped r = map.remap(line);
            b.devices(i + 1, r, path);
            f.set(i, r.text());
        }
        return b.build(f.toString());
    }

    private static EditResult fields(String text, DeviceMap map, String path, int first, int last) {
        TextFile f = TextFile.parse(text);
        EditResult.Builder b = new EditResult.Builder();
        for (int i = 0; i < f.size(); i++) {
            String line = f.line(i);
            if (TextFile.isComment(line)) {
                continue;
            }
            Matcher m = FIELD.matcher(line);
            List<int[]> spans = new ArrayList<>();
            while (m.find() && spans.size() <= last) {
                spans.add(new int[] {m.start(), m.end()});
            }
            StringBuilder out = new StringBuilder(line);
            // right to left so earlier offsets stay valid
            for (int k = Math.min(last, spans.size() - 1); k >= first; k--) {
                int[] s = spans.get(k);
                String field = line.substring(s[0], s[1]);
                DeviceMap.Remapped r = map.remap(field);
                b.devices(i + 1, r, path);
                if (HARDWARE_NAME.matcher(field).matches()) {
                    b.warnings.add(path + " line " + (i + 1) + " names " + field + ", a name of VMware's virtual "
                            + "hardware that will not exist on KVM: name it by UUID= or LABEL= instead");
                }
                out.replace(s[0], s[1], r.text());
            }
            f.set(i, out.toString());
        }
        return b.build(f.toString());
    }
}
