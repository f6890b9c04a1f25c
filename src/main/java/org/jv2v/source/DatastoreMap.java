package org.jv2v.source;

import org.jv2v.Jv2vException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where VMware datastores are on this machine. A VM on a NAS names its disks
 * {@code /vmfs/volumes/NAME/dir/disk.vmdk} or {@code [NAME] dir/disk.vmdk}; with {@code NAME} mapped
 * to the folder where the NAS is mounted, jv2v finds them. An absolute folder may be mapped too
 * ({@code /data/vmware=/mnt/old-host/vmware}), for a .vmx written on another host.
 */
public final class DatastoreMap {
    private final Map<String, Path> map;

    private DatastoreMap(Map<String, Path> map) {
        this.map = Collections.unmodifiableMap(map);
    }

    public static DatastoreMap empty() {
        return new DatastoreMap(new LinkedHashMap<>());
    }

    /** Parses {@code NAME=FOLDER} options; the folders must exist. */
    public static DatastoreMap parse(List<String> specs) {
        Map<String, Path> m = new LinkedHashMap<>();
        for (String spec : specs) {
            int eq = spec.lastIndexOf('=');
            if (eq <= 0 || eq == spec.length() - 1) {
                throw new Jv2vException("--datastore '" + spec + "': expected NAME=FOLDER");
            }
            String name = spec.substring(0, eq);
            Path dir = Path.of(spec.substring(eq + 1)).toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new Jv2vException("--datastore '" + spec + "': " + dir + " is not a folder");
            }
            String key = normalizeKey(name);
            if (m.putIfAbsent(key, dir) != null) {
                throw new Jv2vException("--datastore: '" + name + "' is mapped twice");
            }
        }
        return new DatastoreMap(m);
    }

    public static DatastoreMap of(Map<String, Path> m) {
        Map<String, Path> copy = new LinkedHashMap<>();
        m.forEach((k, v) -> copy.put(normalizeKey(k), v.toAbsolutePath().normalize()));
        return new DatastoreMap(copy);
    }

    private static String normalizeKey(String name) {
        String n = name.replace('\\', '/');
        while (n.length() > 1 && n.endsWith("/")) {
            n = n.substring(0, n.length() - 1);
        }
        return n;
    }

    public Map<String, Path> entries() {
        return map;
    }

    public List<Path> folders() {
        return List.copyOf(map.values());
    }

    /** The folder of datastore {@code name}, if mapped. */
    public Optional<Path> datastore(String name) {
        return Optional.ofNullable(map.get(name));
    }

    /** For an absolute path as written, the mapped folder prefix that applies (longest first). */
    public Optional<Path> mapAbsolute(String writtenPath) {
        String p = writtenPath.replace('\\', '/');
        String best = null;
        for (String k : map.keySet()) {
            if (!(k.startsWith("/") || k.matches("[A-Za-z]:.*"))) {
                continue;
            }
            if ((p.equals(k) || p.startsWith(k.endsWith("/") ? k : k + "/"))
                    && (best == null || k.length() > best.length())) {
                best = k;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        String rest = p.substring(best.length());
        while (rest.startsWith("/")) {
            rest = rest.substring(1);
        }
        return Optional.of(rest.isEmpty() ? map.get(best) : map.get(best).resolve(rest));
    }
}
