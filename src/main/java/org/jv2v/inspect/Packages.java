package org.jv2v.inspect;

import org.jv2v.fs.DirEntry;
import org.jv2v.fs.FileStat;
import org.jv2v.fs.FileSystem;
import org.jv2v.inspect.rpm.RpmHeader;
import org.jv2v.inspect.rpm.RpmPackages;
import org.jv2v.inspect.rpm.SqliteTable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Installed packages from the package manager's own database, parsed as libguestfs parses it:
 * dpkg's status file, apk's installed file, pacman's local/{@code *}/desc, and RPM's database when it
 * is SQLite (RHEL 9, Fedora 33 and later); the Berkeley DB and ndb databases of older releases are
 * not read (their applications list stays empty, with a note).
 */
final class Packages {
    /** libguestfs reads no dpkg status or apk database bigger than this (MAX_DPKG_STATUS_SIZE). */
    static final int MAX_DATABASE_BYTES = 50 * 1000 * 1000;
    /** A pacman desc file is a few KiB; more is not a package description. */
    static final int MAX_PACMAN_DESC = 1 << 20;
    /** More packages than any distribution ships: a bigger local/ folder is not pacman's. */
    static final int MAX_PACMAN_PACKAGES = 200_000;

    private Packages() {}

    /** The installed packages, sorted by name; a note says why none could be listed. */
    static List<Application> list(GuestFiles g, String packageFormat, List<String> notes) throws IOException {
        List<Application> apps = switch (packageFormat == null ? "" : packageFormat) {
            case "deb" -> dpkg(g, notes);
            case "apk" -> apk(g, notes);
            case "pacman" -> pacman(g, notes);
            case "rpm" -> rpm(g, notes);
            default -> List.of();
        };
        List<Application> sorted = new ArrayList<>(apps);
        sorted.sort(Comparator.comparing(Application::name));
        return sorted;
    }

    /** Where the RPM database is, as /usr/lib/rpm/macros's %_dbpath says on RHEL 8 and 9 (and before). */
    static final String RPM_DBPATH = "/var/lib/rpm";

    /**
     * RPM's database (SQLite, else a Berkeley DB Packages file), read as librpm reads it with the C locale: a string tag that is absent
     * is "(none)" (librpm's headerFormat), an absent epoch is 0.
     */
    static List<Application> rpm(GuestFiles g, List<String> notes) throws IOException {
        String path = RPM_DBPATH + "/rpmdb.sqlite";
        Optional<GuestFiles.Resolved> r = g.resolve(path, true);
        boolean sqlite = r.isPresent() && r.get().stat().isRegular();
        if (!sqlite) {
            // RHEL/CentOS 5 to 8 (and SUSE before ndb): a Berkeley DB hash file
            path = RPM_DBPATH + "/Packages";
            r = g.resolve(path, true);
        }
        if (r.isEmpty() || !r.get().stat().isRegular()) {
            boolean ndb = g.exists(RPM_DBPATH + "/Packages.db");
            notes.add(ndb ? RPM_DBPATH + "/Packages.db: an ndb RPM database, which jv2v does not read: no packages listed"
                    : RPM_DBPATH + "/rpmdb.sqlite and " + RPM_DBPATH + "/Packages: not found: applications not listed");
            return List.of();
        }
        Optional<FileStat> wal = g.stat(path + "-wal");
        if (sqlite && wal.isPresent() && wal.get().size() > 0) {
            notes.add(path + "-wal: " + wal.get().size() + " bytes of changes not yet checkpointed into the database "
                    + "are not read: the list may miss the latest installs and removals");
        }
        FileSystem fs = r.get().mount().fs();
        String inside = r.get().inside();
        long size = r.get().stat().size();
        String file = path;
        SqliteTable.Source source = (dst, pos) -> {
            while (dst.hasRemaining()) {
                int n = fs.read(inside, dst, pos + dst.position());
                if (n <= 0) {
                    throw new IOException(file + ": short read at offset " + (pos + dst.position()));
                }
            }
        };
        List<RpmHeader> headers = sqlite ? RpmPackages.read(source, size, path)
                : RpmPackages.readBerkeleyDb(source, size, path);
        List<Application> out = new ArrayList<>();
        for (RpmHeader h : headers) {
            long epoch = h.number(RpmHeader.EPOCH).orElse(0L);
            out.add(new Application(rpmString(h, RpmHeader.NAME), "", (int) epoch,
                    rpmString(h, RpmHeader.VERSION), rpmString(h, RpmHeader.RELEASE),
                    rpmString(h, RpmHeader.ARCH), "", "", rpmString(h, RpmHeader.URL),
                    "", rpmString(h, RpmHeader.SUMMARY),
                    rpmString(h, RpmHeader.DESCRIPTION)));
        }
        return out;
    }

    private static String rpmString(RpmHeader h, int tag) {
        return h.string(tag).orElse("(none)");
    }

    static List<Application> dpkg(GuestFiles g, List<String> notes) throws IOException {
        Optional<byte[]> status = database(g, "/var/lib/dpkg/status", notes);
        return status.map(b -> parseDpkg(new String(b, StandardCharsets.UTF_8))).orElse(List.of());
    }

    /**
     * dpkg's status file: paragraphs of "Field: value" lines, a package recorded at the blank line
     * that ends it when its Status says installed. Version "[epoch:]version[-release]" is split at
     * the first '-' (libguestfs's rule); Description's first line is the summary, its continuation
     * lines (leading space removed) the description.
     */
    static List<Application> parseDpkg(String text) {
        List<Application> out = new ArrayList<>();
        Pkg p = new Pkg();
        boolean inDescription = false;
        for (String line : lines(text)) {
            if (line.startsWith(" ") && inDescription) {
                p.description = p.description == null ? line.substring(1) : p.description + "\n" + line.substring(1);
                continue;
            }
            inDescription = false;
            if (line.startsWith("Package: ")) {
                p.name = line.substring(9);
            } else if (line.startsWith("Status: ")) {
                p.installed = line.substring(8).contains("installed");
            } else if (line.startsWith("Version: ")) {
                p.setVersion(line.substring(9), false);
            } else if (line.startsWith("Architecture: ")) {
                p.arch = line.substring(14);
            } else if (line.startsWith("Homepage: ")) {
                p.url = line.substring(10);
            } else if (line.startsWith("Source: ")) {
                String s = line.substring(8);
                int sp = s.indexOf(' ');
                p.source = sp >= 0 ? s.substring(0, sp) : s;
            } else if (line.startsWith("Description: ")) {
                p.summary = line.substring(13);
                p.description = null;
                inDescription = true;
            } else if (line.isEmpty()) {
                if (p.installed && p.name != null && p.version != null && p.epoch >= 0) {
                    out.add(p.toApplication());
                }
                int epoch = p.epoch; // libguestfs keeps the last epoch across paragraphs
                p = new Pkg();
                p.epoch = epoch;
            }
        }
        return out;
    }

    static List<Application> apk(GuestFiles g, List<String> notes) throws IOException {
        Optional<byte[]> db = database(g, "/lib/apk/db/installed", notes);
        if (db.isEmpty()) {
            return List.of();
        }
        List<Application> out = new ArrayList<>();
        Pkg p = new Pkg();
        for (String line : lines(new String(db.get(), StandardCharsets.UTF_8))) {
            if (line.length() > 1 && line.charAt(1) != ':') {
                continue;
            }
            char key = line.isEmpty() ? '\0' : line.charAt(0);
            String value = line.length() > 2 ? line.substring(2) : "";
            switch (key) {
                case '\0' -> {
                    if (p.name != null && p.version != null && p.epoch >= 0) {
                        out.add(p.toApplication());
                    }
                    int epoch = p.epoch;
                    p = new Pkg();
                    p.epoch = epoch;
                }
                case 'A' -> p.arch = value;
                case 'P' -> p.name = value;
                case 'T' -> p.description = value;
                case 'U' -> p.url = value;
                case 'V' -> p.setVersion(value, true);
                default -> { }
            }
        }
        return out;
    }

    static List<Application> pacman(GuestFiles g, List<String> notes) throws IOException {
        List<DirEntry> dirs = g.list("/var/lib/pacman/local");
        if (dirs.size() > MAX_PACMAN_PACKAGES) {
            notes.add("/var/lib/pacman/local: " + dirs.size() + " entries, more than " + MAX_PACMAN_PACKAGES
                    + ": packages not listed");
            return List.of();
        }
        List<Application> out = new ArrayList<>();
        for (DirEntry d : dirs) {
            Optional<byte[]> desc = g.readSmall("/var/lib/pacman/local/" + d.name() + "/desc", MAX_PACMAN_DESC);
            if (desc.isEmpty()) {
                continue;
            }
            String name = null;
            String version = null;
            String descText = null;
            String url = null;
            String arch = null;
            String key = null;
            for (String line : new String(desc.get(), StandardCharsets.UTF_8).split("\n", -1)) {
                if (line.isEmpty()) {
                    key = null;
                    continue;
                }
                if (key != null) {
                    switch (key) {
                        case "%NAME%" -> name = line;
                        case "%VERSION%" -> version = line;
                        case "%DESC%" -> descText = line;
                        case "%URL%" -> url = line;
                        case "%ARCH%" -> arch = line;
                        default -> { }
                    }
                    key = null;
                    continue;
                }
                key = line;
            }
            if (name == null || version == null || arch == null) {
                continue;
            }
            int epoch = 0;
            String ver = version;
            int colon = ver.indexOf(':');
            if (colon >= 0) {
                epoch = parseEpoch(ver.substring(0, colon));
                ver = ver.substring(colon + 1);
            }
            int dash = ver.indexOf('-');
            if (dash < 0) {
                continue;
            }
            String rel = ver.substring(dash + 1);
            ver = ver.substring(0, dash);
            if (epoch >= 0 && !ver.isEmpty() && !rel.isEmpty()) {
                out.add(new Application(name, "", epoch, ver, rel, arch, "", "", url == null ? "" : url, "", "",
                        descText == null ? "" : descText));
            }
        }
        return out;
    }

    /** The file's lines as fgets gives them: a final newline ends the last line, it does not start an empty one. */
    static List<String> lines(String text) {
        String[] l = text.split("\n", -1);
        int n = text.endsWith("\n") ? l.length - 1 : l.length;
        return java.util.Arrays.asList(l).subList(0, n);
    }

    private static Optional<byte[]> database(GuestFiles g, String path, List<String> notes) throws IOException {
        Optional<FileStat> st = g.stat(path);
        if (st.isEmpty()) {
            notes.add(path + ": not found: applications not listed");
            return Optional.empty();
        }
        if (!st.get().isRegular() || st.get().size() > MAX_DATABASE_BYTES) {
            notes.add(path + ": not a regular file of at most " + MAX_DATABASE_BYTES + " bytes: applications not listed");
            return Optional.empty();
        }
        return g.readSmall(path, MAX_DATABASE_BYTES);
    }

    /** An unsigned decimal, or -1 (the package is then skipped, as libguestfs does). */
    static int parseEpoch(String s) {
        if (s.isEmpty() || s.length() > 9 || !s.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Integer.parseInt(s);
    }

    /** One paragraph being read. */
    private static final class Pkg {
        String name;
        String version;
        String release;
        String arch;
        String url;
        String source;
        String summary;
        String description;
        int epoch;
        boolean installed;

        void setVersion(String v, boolean apkRelease) {
            int colon = v.indexOf(':');
            String rest = v;
            if (colon >= 0) {
                epoch = parseEpoch(v.substring(0, colon));
                rest = v.substring(colon + 1);
            } else {
                epoch = 0;
            }
            int dash = rest.indexOf('-');
            if (dash >= 0) {
                release = rest.substring(dash + 1);
                if (apkRelease && release.startsWith("r")) {
                    release = release.substring(1); // apk's "-r3" revision
                }
                version = rest.substring(0, dash);
            } else {
                release = null;
                version = rest;
            }
        }

        Application toApplication() {
            return new Application(name, "", epoch, version, nz(release), nz(arch), "", "", nz(url), nz(source),
                    nz(summary), nz(description));
        }

        private static String nz(String s) {
            return s == null ? "" : s;
        }
    }
}
