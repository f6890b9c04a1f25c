package org.jv2v.fs;

import java.nio.charset.StandardCharsets;

/**
 * A path that an edit creates or removes, split into its parent directory and its last name,
 * the name checked to be one a Linux filesystem's directory can hold.
 *
 * @param path      the absolute path as given
 * @param parent    the parent directory ("/" for a name at the root)
 * @param name      the last name
 * @param nameBytes the last name in UTF-8, as a directory entry stores it
 */
public record EditPath(String path, String parent, String name, byte[] nameBytes) {
    /** NAME_MAX: the longest name, in bytes, that ext and XFS directory entries hold. */
    public static final int MAX_NAME = 255;

    /**
     * Splits an absolute path (trailing slashes ignored). Refuses, as IllegalArgumentException, a
     * relative path and a last name that is empty, "." or "..", holds a NUL or is over {@link #MAX_NAME} bytes.
     */
    public static EditPath of(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("not an absolute path: " + path);
        }
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        int slash = p.lastIndexOf('/');
        String name = p.substring(slash + 1);
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('\0') >= 0
                || bytes.length > MAX_NAME) {
            throw new IllegalArgumentException("not a name a file can have: \"" + name + "\" in " + path);
        }
        return new EditPath(path, slash == 0 ? "/" : p.substring(0, slash), name, bytes);
    }
}
