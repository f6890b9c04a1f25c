package org.jv2v.fs;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * An extended attribute's full name ("security.selinux", as {@link FileSystem#xattrs} gives it)
 * split into the namespace that ext and XFS store as a number or flag, and the rest of the name.
 *
 * @param namespace the namespace its prefix names
 * @param name      the name after the prefix, in UTF-8 as stored
 */
public record XattrName(Namespace namespace, byte[] name) {
    /** The namespaces the filesystem editors store for new files. */
    public enum Namespace {
        USER, TRUSTED, SECURITY;

        /** "user.", "trusted.", "security.". */
        public String prefix() {
            return name().toLowerCase(java.util.Locale.ROOT) + ".";
        }
    }

    /** The name split after its namespace prefix; empty when it has none of {@link Namespace}'s. */
    public static Optional<XattrName> parse(String fullName) {
        for (Namespace ns : Namespace.values()) {
            String prefix = ns.prefix();
            if (fullName.startsWith(prefix)) {
                return Optional.of(new XattrName(ns, fullName.substring(prefix.length())
                        .getBytes(StandardCharsets.UTF_8)));
            }
        }
        return Optional.empty();
    }
}
