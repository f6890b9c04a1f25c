package org.jv2v.model;

import java.util.Optional;

/**
 * The source's remote display (libvirt {@code <graphics>}), as virt-v2v carries it over.
 *
 * @param type     "window", "vnc" or "spice"
 * @param keymap   keyboard map, if set
 * @param hasPassword whether a password is set (the password itself is never kept)
 * @param listen   virt-v2v's listen description (" listening on address 127.0.0.1"), or ""
 * @param port     a fixed port, if not automatic
 */
public record Display(String type, Optional<String> keymap, boolean hasPassword, String listen,
                      Optional<Integer> port) {

    /** As virt-v2v prints it. */
    public String describe() {
        return type + keymap.map(k -> " " + k).orElse("") + (hasPassword ? " with password" : "") + listen;
    }
}
