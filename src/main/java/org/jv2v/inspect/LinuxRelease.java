package org.jv2v.inspect;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which Linux distribution and version a root filesystem holds, from its release files, tried in
 * libguestfs's order (os-release first, then lsb-release, then each distribution's own file) with
 * its rules, so both tools agree on the same guest.
 */
final class LinuxRelease {
    private static final Pattern FEDORA = Pattern.compile("Fedora release (\\d+)");
    private static final Pattern RHEL_OLD = Pattern.compile("Red Hat.*release (\\d+).*Update (\\d+)");
    private static final Pattern RHEL = Pattern.compile("Red Hat.*release (\\d+)\\.(\\d+)");
    private static final Pattern RHEL_NO_MINOR = Pattern.compile("Red Hat.*release (\\d+)");
    private static final Pattern CENTOS_OLD = Pattern.compile("CentOS.*release (\\d+).*Update (\\d+)");
    private static final Pattern CENTOS = Pattern.compile("CentOS.*release (\\d+)\\.(\\d+)");
    private static final Pattern CENTOS_NO_MINOR = Pattern.compile("CentOS.*release (\\d+)");
    private static final Pattern ROCKY = Pattern.compile("Rocky Linux.*release (\\d+)\\.(\\d+)");
    private static final Pattern ROCKY_NO_MINOR = Pattern.compile("Rocky Linux.*release (\\d+)");
    private static final Pattern SL_OLD = Pattern.compile("Scientific Linux.*release (\\d+).*Update (\\d+)");
    private static final Pattern SL = Pattern.compile("Scientific Linux.*release (\\d+)\\.(\\d+)");
    private static final Pattern SL_NO_MINOR = Pattern.compile("Scientific Linux.*release (\\d+)");
    private static final Pattern OL_OLD = Pattern.compile("Oracle Linux.*release (\\d+).*Update (\\d+)");
    private static final Pattern OL = Pattern.compile("Oracle Linux.*release (\\d+)\\.(\\d+)");
    private static final Pattern OL_NO_MINOR = Pattern.compile("Oracle Linux.*release (\\d+)");
    private static final Pattern OPENSUSE = Pattern.compile("^(openSUSE|SuSE Linux|SUSE LINUX) ");
    private static final Pattern SLES = Pattern.compile("^SUSE (Linux|LINUX) Enterprise ");
    private static final Pattern NLD = Pattern.compile("^Novell Linux Desktop ");
    private static final Pattern SLES_VERSION = Pattern.compile("^VERSION = (\\d+)");
    private static final Pattern SLES_PATCHLEVEL = Pattern.compile("^PATCHLEVEL = (\\d+)");
    private static final Pattern FRUGALWARE = Pattern.compile("Frugalware (\\d+)\\.(\\d+)");
    private static final Pattern PLD = Pattern.compile("(\\d+)\\.(\\d+) PLD Linux");
    private static final Pattern NEOKYLIN_VERSION = Pattern.compile("^V(\\d+)Update(\\d+)$");
    private static final Pattern OPENMANDRIVA = Pattern.compile("OpenMandriva.*release (\\d+)\\.(\\d+)\\.?(\\d+)? .*");
    private static final Pattern MAJOR_MINOR = Pattern.compile("(\\d+)\\.(\\d+)");
    private static final Pattern MAJOR = Pattern.compile("(\\d+)");

    private static final List<String> ROLLING = List.of("archlinux", "gentoo", "voidlinux");

    /** os-release's ID to libguestfs's distro name. */
    private static final Map<String, String> OS_RELEASE_IDS = Map.ofEntries(
            Map.entry("alpine", "alpinelinux"), Map.entry("altlinux", "altlinux"), Map.entry("arch", "archlinux"),
            Map.entry("centos", "centos"), Map.entry("coreos", "coreos"), Map.entry("debian", "debian"),
            Map.entry("fedora", "fedora"), Map.entry("frugalware", "frugalware"), Map.entry("gentoo", "gentoo"),
            Map.entry("kali", "kalilinux"), Map.entry("kylin", "kylin"), Map.entry("mageia", "mageia"),
            Map.entry("neokylin", "neokylin"), Map.entry("openmandriva", "openmandriva"),
            Map.entry("opensuse", "opensuse"), Map.entry("pardus", "pardus"), Map.entry("pld", "pldlinux"),
            Map.entry("rhel", "rhel"), Map.entry("rocky", "rocky"), Map.entry("sles", "sles"),
            Map.entry("sled", "sles"), Map.entry("ubuntu", "ubuntu"), Map.entry("void", "voidlinux"));

    private static final Map<String, String> LSB_IDS = Map.of("CoreOS", "coreos", "LinuxMint", "linuxmint",
            "Mageia", "mageia", "Ubuntu", "ubuntu");

    @FunctionalInterface
    private interface Parser {
        boolean parse(GuestFiles g, String file, OsData d) throws IOException;
    }

    private record Test(String file, Parser parser) {}

    /** The tests, in libguestfs's order: the first whose file exists and parses wins. */
    private static final List<Test> TESTS = List.of(
            new Test("/etc/os-release", LinuxRelease::osRelease),
            new Test("/etc/lsb-release", LinuxRelease::lsbRelease),
            new Test("/etc/openmandriva-release", generic(OPENMANDRIVA, "openmandriva")),
            new Test("/etc/oracle-release", generic(OL_OLD, "oraclelinux")),
            new Test("/etc/oracle-release", generic(OL, "oraclelinux")),
            new Test("/etc/oracle-release", generic(OL_NO_MINOR, "oraclelinux")),
            new Test("/etc/centos-release", generic(CENTOS_OLD, "centos")),
            new Test("/etc/centos-release", generic(CENTOS, "centos")),
            new Test("/etc/centos-release", generic(CENTOS_NO_MINOR, "centos")),
            new Test("/etc/rocky-release", generic(ROCKY, "rocky")),
            new Test("/etc/rocky-release", generic(ROCKY_NO_MINOR, "rocky")),
            new Test("/etc/altlinux-release", generic(null, "altlinux")),
            new Test("/etc/redhat-release", generic(FEDORA, "fedora")),
            new Test("/etc/redhat-release", generic(RHEL_OLD, "rhel")),
            new Test("/etc/redhat-release", generic(RHEL, "rhel")),
            new Test("/etc/redhat-release", generic(RHEL_NO_MINOR, "rhel")),
            new Test("/etc/redhat-release", generic(CENTOS_OLD, "centos")),
            new Test("/etc/redhat-release", generic(CENTOS, "centos")),
            new Test("/etc/redhat-release", generic(CENTOS_NO_MINOR, "centos")),
            new Test("/etc/redhat-release", generic(ROCKY, "rocky")),
            new Test("/etc/redhat-release", generic(ROCKY_NO_MINOR, "rocky")),
            new Test("/etc/redhat-release", generic(SL_OLD, "scientificlinux")),
            new Test("/etc/redhat-release", generic(SL, "scientificlinux")),
            new Test("/etc/redhat-release", generic(SL_NO_MINOR, "scientificlinux")),
            new Test("/etc/redhat-release", generic(null, "redhat-based")),
            new Test("/etc/redhat-release", (g, f, d) -> set(d, "redhat-based")),
            new Test("/etc/debian_version", generic(null, "debian")),
            new Test("/etc/pardus-release", generic(null, "pardus")),
            new Test("/etc/arch-release", (g, f, d) -> set(d, "archlinux")),
            new Test("/etc/gentoo-release", generic(null, "gentoo")),
            new Test("/etc/meego-release", generic(null, "meego")),
            new Test("/etc/slackware-version", generic(null, "slackware")),
            new Test("/etc/ttylinux-target", generic(null, "ttylinux")),
            new Test("/etc/SuSE-release", LinuxRelease::suseRelease),
            new Test("/etc/SuSE-release", (g, f, d) -> set(d, "suse-based")),
            new Test("/etc/cirros/version", generic(null, "cirros")),
            new Test("/etc/br-version", (g, f, d) -> generic(null,
                    g.isFileFollowing("/usr/share/cirros/logo") ? "cirros" : "buildroot").parse(g, f, d)),
            new Test("/etc/alpine-release", generic(null, "alpinelinux")),
            new Test("/etc/frugalware-release", generic(FRUGALWARE, "frugalware")),
            new Test("/etc/pld-release", generic(PLD, "pldlinux")));

    private LinuxRelease() {}

    /** Runs the tests on a Linux root; fills distro, product name and version in {@code d}. */
    static void detect(GuestFiles g, OsData d) throws IOException {
        for (Test t : TESTS) {
            if (g.isFileFollowing(t.file()) && t.parser().parse(g, t.file(), d)) {
                return;
            }
        }
    }

    /** A separate /usr: its lib/os-release, if any (systemd's /usr/lib/os-release). */
    static void detectUsr(GuestFiles g, OsData d) throws IOException {
        if (g.isFileFollowing("/lib/os-release")) {
            osRelease(g, "/lib/os-release", d);
        }
    }

    private static boolean set(OsData d, String distro) {
        d.distro = distro;
        return true;
    }

    static boolean osRelease(GuestFiles g, String file, OsData d) throws IOException {
        Optional<List<String>> lines = lines(g, file);
        if (lines.isEmpty()) {
            return false;
        }
        for (String[] kv : keyValues(lines.get())) {
            String value = shellUnquote(kv[1]);
            switch (kv[0]) {
                case "ID" -> {
                    String distro = OS_RELEASE_IDS.get(value);
                    if (distro == null && value.startsWith("opensuse-")) {
                        distro = "opensuse";
                    }
                    if (distro != null) {
                        d.distro = distro;
                    }
                }
                case "PRETTY_NAME" -> d.productName = value;
                case "VERSION_ID" -> {
                    Matcher m = NEOKYLIN_VERSION.matcher(value);
                    if (m.find()) {
                        d.version(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
                    } else {
                        parseVersion(value, d);
                    }
                }
                default -> { }
            }
        }
        if (d.distro == null || d.productName == null) {
            return false;
        }
        // Debian's and CentOS's VERSION_ID is only the major number: their own files say more
        if ((d.distro.equals("debian") || d.distro.equals("centos") || d.distro.equals("rocky"))
                && d.version != null && d.version[1] == 0) {
            return false;
        }
        if (d.version == null && ROLLING.contains(d.distro)) {
            d.version(0, 0);
            return true;
        }
        return d.version != null;
    }

    private static boolean lsbRelease(GuestFiles g, String file, OsData d) throws IOException {
        Optional<List<String>> lines = lines(g, file);
        if (lines.isEmpty()) {
            return false;
        }
        boolean ok = false;
        for (String[] kv : keyValues(lines.get())) {
            String value = simpleUnquote(kv[1]);
            switch (kv[0]) {
                case "DISTRIB_ID" -> {
                    String distro = LSB_IDS.get(value);
                    if (distro != null) {
                        d.distro = distro;
                        ok = true;
                    }
                }
                case "DISTRIB_RELEASE" -> parseVersion(value, d);
                case "DISTRIB_DESCRIPTION" -> {
                    d.productName = value;
                    ok = true;
                }
                default -> { }
            }
        }
        return ok;
    }

    private static boolean suseRelease(GuestFiles g, String file, OsData d) throws IOException {
        Optional<List<String>> read = lines(g, file);
        if (read.isEmpty() || read.get().isEmpty()) {
            return false;
        }
        List<String> lines = read.get();
        String product = lines.getFirst();
        d.productName = product;
        if (SLES.matcher(product).find() || NLD.matcher(product).find()) {
            Integer major = null;
            Integer minor = null;
            if (lines.size() >= 2) {
                Matcher m = SLES_VERSION.matcher(lines.get(1));
                major = m.find() ? Integer.valueOf(m.group(1)) : null;
            }
            if (lines.size() >= 3) {
                Matcher m = SLES_PATCHLEVEL.matcher(lines.get(2));
                minor = m.find() ? Integer.valueOf(m.group(1)) : null;
            }
            d.distro = "sles";
            d.version = major == null ? null : new int[] {major, minor == null ? 0 : minor};
        } else if (OPENSUSE.matcher(product).find()) {
            if (lines.size() >= 2) {
                parseVersion(lines.get(1), d);
            }
            d.distro = "opensuse";
        }
        return true;
    }

    /**
     * A release file whose first line is the product name: sets the distro and product name, then
     * the version from {@code rex}'s groups (which must match), or from the first number found.
     */
    private static Parser generic(Pattern rex, String distro) {
        return (g, file, d) -> {
            Optional<byte[]> bytes = g.readSmall(file, GuestFiles.MAX_SMALL_FILE);
            if (bytes.isEmpty()) {
                return false;
            }
            String text = new String(bytes.get(), java.nio.charset.StandardCharsets.UTF_8);
            int nl = text.indexOf('\n');
            String first = nl < 0 ? text : text.substring(0, nl);
            if (first.isEmpty()) {
                return false;
            }
            d.productName = first;
            d.distro = distro;
            if (rex == null) {
                parseVersion(first, d);
                return true;
            }
            Matcher m = rex.matcher(first);
            if (!m.find()) {
                return false;
            }
            Integer major = group(m, 1);
            Integer minor = group(m, 2);
            if (major != null) {
                d.version(major, minor == null ? 0 : minor);
            }
            return true;
        };
    }

    private static Integer group(Matcher m, int i) {
        if (i > m.groupCount() || m.group(i) == null) {
            return null;
        }
        try {
            return Integer.valueOf(m.group(i));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The first "N.M" in the text, else the first "N" (libguestfs's parse_version_from_major_minor). */
    static void parseVersion(String s, OsData d) {
        Matcher mm = MAJOR_MINOR.matcher(s);
        if (mm.find()) {
            Integer major = group(mm, 1);
            Integer minor = group(mm, 2);
            if (major != null && minor != null) {
                d.version(major, minor);
            }
            return;
        }
        Matcher m = MAJOR.matcher(s);
        if (m.find()) {
            Integer major = group(m, 1);
            if (major != null) {
                d.version(major, 0);
            }
        }
    }

    static Optional<List<String>> lines(GuestFiles g, String file) throws IOException {
        return g.readText(file).map(t -> List.of(t.split("\n", -1)));
    }

    /** KEY=VALUE lines; blank lines, comments and lines without '=' are skipped. */
    static List<String[]> keyValues(List<String> lines) {
        List<String[]> out = new ArrayList<>();
        for (String line : lines) {
            if (line.isEmpty() || line.charAt(0) == '#') {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.add(new String[] {line.substring(0, eq), line.substring(eq + 1)});
            }
        }
        return out;
    }

    /** Strips one pair of matching quotes. */
    static String simpleUnquote(String s) {
        int n = s.length();
        if (n >= 2 && ((s.charAt(0) == '"' && s.charAt(n - 1) == '"') || (s.charAt(0) == '\'' && s.charAt(n - 1) == '\''))) {
            return s.substring(1, n - 1);
        }
        return s;
    }

    /** As a shell reads a quoted word: '...' literally, "..." with \\ \" \$ \` escapes. */
    static String shellUnquote(String s) {
        int n = s.length();
        if (n >= 2 && s.charAt(0) == '\'' && s.charAt(n - 1) == '\'') {
            return s.substring(1, n - 1);
        }
        if (n >= 2 && s.charAt(0) == '"' && s.charAt(n - 1) == '"') {
            StringBuilder b = new StringBuilder(n);
            for (int i = 1; i < n - 1; i++) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < n - 1 && "\\\"$`".indexOf(s.charAt(i + 1)) >= 0) {
                    c = s.charAt(++i);
                }
                b.append(c);
            }
            return b.toString();
        }
        return s;
    }
}
