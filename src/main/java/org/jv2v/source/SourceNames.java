package org.jv2v.source;

import java.nio.file.Path;

/** Guest names derived from file names. */
public final class SourceNames {
    /** Suffixes of disk images and VM files that are not part of a guest's name (as virt-v2v strips them). */
    private static final String[] SUFFIXES = {".img", ".ova", ".qcow2", ".raw", ".vmdk", ".vmx", "-sda"};

    private SourceNames() {}

    /** {@code /x/guest.qcow2} is called "guest"; an unknown suffix is kept. */
    public static String fromFile(Path file) {
        String name = file.getFileName().toString();
        for (String s : SUFFIXES) {
            if (name.endsWith(s) && name.length() > s.length()) {
                return name.substring(0, name.length() - s.length());
            }
        }
        return name;
    }
}
