package org.jv2v.convert.linux;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Which Linux distribution the guest is, from /etc/os-release (or the older release files).
 *
 * @param id      os-release ID ("debian", "rhel", "ubuntu" ...)
 * @param version VERSION_ID ("12", "9.3"), empty if not stated
 * @param product what the user calls it ("Debian GNU/Linux 12 (bookworm)")
 * @param family  whose conventions it follows (initramfs names, EFI folder)
 */
public record Distro(String id, String version, String product, Family family) {

    public enum Family { DEBIAN, RHEL, SUSE, OTHER }

    /** Major version number, 0 when unknown. */
    public int major() {
        String v = version.split("[.\\s]")[0];
        return v.matches("\\d{1,4}") ? Integer.parseInt(v) : 0;
    }

    /** Reads the guest's release files; empty when none is there (not a Linux root, or an unknown one). */
    static Optional<Distro> detect(GuestFiles files) throws IOException {
        for (String p : List.of("/etc/os-release", "/usr/lib/os-release")) {
            Optional<String> t = files.readText(p);
            if (t.isPresent()) {
                Map<String, String> v = osRelease(t.get());
                String id = v.getOrDefault("ID", "linux").toLowerCase(Locale.ROOT);
                String like = v.getOrDefault("ID_LIKE", "").toLowerCase(Locale.ROOT);
                String version = v.getOrDefault("VERSION_ID", "");
                String product = v.getOrDefault("PRETTY_NAME",
                        (v.getOrDefault("NAME", id) + " " + version).strip());
                return Optional.of(new Distro(id, version, product, family(id, like)));
            }
        }
        Optional<String> rh = files.readText("/etc/redhat-release");
        if (rh.isPresent()) {
            String line = rh.get().strip();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("release\\s+(\\d+(?:\\.\\d+)?)").matcher(line);
            String id = line.startsWith("CentOS") ? "centos" : line.startsWith("Fedora") ? "fedora" : "rhel";
            return Optional.of(new Distro(id, m.find() ? m.group(1) : "", line, Family.RHEL));
        }
        Optional<String> suse = files.readText("/etc/SuSE-release");
        if (suse.isPresent()) {
            String line = suse.get().lines().findFirst().orElse("SUSE Linux").strip();
            return Optional.of(new Distro("sles", "", line, Family.SUSE));
        }
        Optional<String> deb = files.readText("/etc/debian_version");
        if (deb.isPresent()) {
            String v = deb.get().strip();
            return Optional.of(new Distro("debian", v, "Debian GNU/Linux " + v, Family.DEBIAN));
        }
        return Optional.empty();
    }

    static Family family(String id, String like) {
        String all = id + " " + like;
        if (id.equals("debian") || id.equals("ubuntu") || id.equals("linuxmint") || id.equals("kali")
                || id.equals("raspbian") || all.contains("debian") || all.contains("ubuntu")) {
            return Family.DEBIAN;
        }
        if (List.of("rhel", "centos", "fedora", "rocky", "almalinux", "ol", "scientific", "circle", "amzn")
                .contains(id) || all.contains("rhel") || all.contains("fedora") || all.contains("centos")) {
            return Family.RHEL;
        }
        if (id.startsWith("sles") || id.startsWith("opensuse") || all.contains("suse")) {
            return Family.SUSE;
        }
        return Family.OTHER;
    }

    /** os-release: KEY=value lines, values shell-quoted. */
    static Map<String, String> osRelease(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : TextFile.parse(text).lines()) {
            if (TextFile.isComment(line)) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.put(line.substring(0, eq).strip(), ShellVars.unquote(line.substring(eq + 1).strip()));
            }
        }
        return out;
    }
}
