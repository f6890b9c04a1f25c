package org.jv2v.convert.linux;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The edits being planned: several steps may change the same file (disk names and the default
 * entry in grub.cfg), so text edits accumulate per file (by its resolved path) and become one
 * {@link FileEdit.Rewrite} each, in the order files were first touched.
 */
final class Changes {
    private final GuestFiles files;
    private final Map<String, TextChange> texts = new LinkedHashMap<>();
    /** Every edit in order; a text edit holds its place by its path until {@link #edits()}. */
    private final List<Object> order = new ArrayList<>();
    final List<String> warnings = new ArrayList<>();
    final List<String> notes = new ArrayList<>();

    private static final class TextChange {
        final String path;
        final String before;
        String after;
        final List<String> reasons = new ArrayList<>();

        TextChange(String path, String before) {
            this.path = path;
            this.before = before;
            this.after = before;
        }
    }

    Changes(GuestFiles files) {
        this.files = files;
    }

    /** The current text of a file (with the edits planned so far), empty if it does not exist. */
    Optional<String> text(String path) throws IOException {
        String r = files.resolve(path);
        TextChange c = texts.get(r);
        return c != null ? Optional.of(c.after) : files.readText(r);
    }

    /** Applies {@code edit} to a file's current text; no-op when the file is missing or nothing changes. */
    boolean edit(String path, Function<String, EditResult> edit) throws IOException {
        String r = files.resolve(path);
        Optional<String> current = text(r);
        if (current.isEmpty()) {
            return false;
        }
        EditResult e = edit.apply(current.get());
        warnings.addAll(e.warnings());
        if (!e.changed(current.get())) {
            return false;
        }
        TextChange c = texts.get(r);
        if (c == null) {
            c = new TextChange(r, files.readText(r).orElseThrow());
            texts.put(r, c);
            order.add(r);
        }
        c.after = e.text();
        c.reasons.addAll(e.reasons());
        return true;
    }

    /** Replaces a file's text outright (grubenv), with reasons. */
    void replace(String path, String text, List<String> reasons) throws IOException {
        edit(path, before -> new EditResult(text, reasons, List.of()));
    }

    void add(FileEdit e) {
        order.add(e);
    }

    boolean touched(String path) throws IOException {
        String r = files.resolve(path);
        return texts.containsKey(r) || order.stream().anyMatch(o -> o instanceof FileEdit f && f.path().equals(r));
    }

    List<FileEdit> edits() {
        List<FileEdit> out = new ArrayList<>();
        for (Object o : order) {
            if (o instanceof String path) {
                TextChange c = texts.get(path);
                out.add(new FileEdit.Rewrite(c.path, TextFile.bytes(c.before), TextFile.bytes(c.after), c.reasons));
            } else {
                out.add((FileEdit) o);
            }
        }
        return out;
    }
}
