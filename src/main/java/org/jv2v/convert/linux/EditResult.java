package org.jv2v.convert.linux;

import java.util.ArrayList;
import java.util.List;

/**
 * What a transformation did to one file's text: the new text, one line per change saying what and
 * why ("line 12: /dev/sda5 -> /dev/vda5 (disk 1 ...)"), and what it noticed but left alone.
 */
record EditResult(String text, List<String> reasons, List<String> warnings) {
    EditResult {
        reasons = List.copyOf(reasons);
        warnings = List.copyOf(warnings);
    }

    static EditResult unchanged(String text) {
        return new EditResult(text, List.of(), List.of());
    }

    boolean changed(String before) {
        return !text.equals(before);
    }

    /** Collects changes while a transformation walks a file. */
    static final class Builder {
        final List<String> reasons = new ArrayList<>();
        final List<String> warnings = new ArrayList<>();

        /** Records the device renames of {@code r} on 1-based {@code line} and its unknown names. */
        void devices(int line, DeviceMap.Remapped r, String where) {
            for (DeviceMap.Change c : r.changes()) {
                reasons.add("line " + line + ": " + c.describe());
            }
            for (String u : r.unknown()) {
                warnings.add(where + " line " + line + " names " + u + ", which is not one of the guest's disks: "
                        + "left as it is; check it after conversion");
            }
        }

        EditResult build(String text) {
            return new EditResult(text, reasons, warnings);
        }
    }
}
