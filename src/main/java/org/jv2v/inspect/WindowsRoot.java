package org.jv2v.inspect;

import org.jv2v.volume.VolumeScan;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Windows system root (a filesystem with Windows/System32/config and cmd.exe), found as
 * libguestfs finds it, and what its registry hives say.
 */
final class WindowsRoot {
    static final List<String> SYSTEM_ROOTS = List.of("/windows", "/winnt", "/win32", "/win", "/reactos");
    private static final Pattern BOOT_INI_OS =
            Pattern.compile("^(multi|scsi)\\((\\d+)\\)disk\\((\\d+)\\)rdisk\\((\\d+)\\)partition\\((\\d+)\\)([^=]+)=");

    private WindowsRoot() {}

    /** %SystemRoot% as the guest spells it ("/Windows"), if this filesystem has one. */
    static Optional<String> systemRoot(GuestFiles g) throws IOException {
        for (String p : SYSTEM_ROOTS) {
            Optional<String> real = g.findIgnoringCase(p);
            if (real.isPresent() && isSystemRoot(g, real.get())) {
                return real;
            }
        }
        Optional<String> bootIni = g.findIgnoringCase("/boot.ini");
        if (bootIni.isPresent()) {
            Optional<String> text = g.readText(bootIni.get());
            boolean inOses = false;
            for (String line : text.orElse("").split("\r?\n")) {
                if (line.startsWith("[operating systems]")) {
                    inOses = true;
                    continue;
                }
                if (!inOses) {
                    continue;
                }
                if (!line.startsWith("multi(") && !line.startsWith("scsi(")) {
                    break;
                }
                Matcher m = BOOT_INI_OS.matcher(line);
                if (m.find()) {
                    Optional<String> real = g.findIgnoringCase(m.group(6).replace('\\', '/'));
                    if (real.isPresent() && isSystemRoot(g, real.get())) {
                        return real;
                    }
                }
            }
        }
        return Optional.empty();
    }

    static boolean isSystemRoot(GuestFiles g, String root) throws IOException {
        Optional<String> sys32 = g.findIgnoringCase(root + "/system32");
        if (sys32.isEmpty() || !g.isDir(sys32.get())) {
            return false;
        }
        Optional<String> config = g.findIgnoringCase(sys32.get() + "/config");
        Optional<String> cmd = g.findIgnoringCase(sys32.get() + "/cmd.exe");
        return config.isPresent() && g.isDir(config.get()) && cmd.isPresent() && g.isFile(cmd.get());
    }

    static void inspect(GuestFiles g, OsData d, VolumeScan scan) throws IOException {
        String root = systemRoot(g).orElseThrow();
        d.role = OsData.Role.ROOT;
        d.osType = "windows";
        d.distro = "windows";
        d.windowsSystemRoot = root;
        String cmd = g.findIgnoringCase(root + "/system32/cmd.exe").orElseThrow();
        d.arch = arch(g, cmd).orElse(null);
        Optional<String> software = g.findIgnoringCase(root + "/system32/config/software").filter(p -> isFile(g, p));
        Optional<String> system = g.findIgnoringCase(root + "/system32/config/system").filter(p -> isFile(g, p));
        d.windowsSoftwareHive = software.orElse(null);
        d.windowsSystemHive = system.orElse(null);
        if (software.isPresent() && system.isPresent()) {
            try {
                WindowsRegistry.read(g, d, scan);
            } catch (IOException | RuntimeException e) {
                d.notes.add("registry: " + Inspector.message(e) + ": product, version and host name unknown");
            }
        } else {
            d.notes.add(root + "/System32/config: no SOFTWARE and SYSTEM hives: product and version unknown");
        }
    }

    /** The architecture in cmd.exe's PE header. */
    static Optional<String> arch(GuestFiles g, String exe) throws IOException {
        Optional<byte[]> head = g.readHead(exe, Executables.HEAD_BYTES);
        if (head.isEmpty()) {
            return Optional.empty();
        }
        long at = Executables.peOffset(head.get());
        if (at < 0) {
            return Optional.empty();
        }
        Optional<byte[]> more = g.readHead(exe, (int) at + 26);
        if (more.isEmpty() || more.get().length < at + 26) {
            return Optional.empty();
        }
        byte[] pe = java.util.Arrays.copyOfRange(more.get(), (int) at, (int) at + 26);
        return Executables.pe(pe);
    }

    static List<Application> applications(GuestFiles g, OsData d, List<String> notes) throws IOException {
        return WindowsRegistry.applications(g, d, notes);
    }

    static Optional<WindowsInfo> info(GuestFiles g, OsData d, List<String> notes) throws IOException {
        return WindowsRegistry.info(g, d, notes);
    }

    private static boolean isFile(GuestFiles g, String p) {
        try {
            return g.isFile(p);
        } catch (IOException e) {
            return false;
        }
    }
}
