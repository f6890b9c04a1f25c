package org.jv2v.convert.linux;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * INI-style files as NetworkManager keyfiles and systemd units/.network/.link files are:
 * {@code [Section]} headers and {@code key=value} lines, '#' and ';' comments. Keys may repeat
 * (systemd); lookups return the last value. Line numbers are 1-based.
 */
final class IniFile {
    record Item(String section, String key, String value, int line) {}

    private final List<Item> items;

    private IniFile(List<Item> items) {
        this.items = items;
    }

    static IniFile parse(String text) {
        List<Item> items = new ArrayList<>();
        String section = "";
        List<String> lines = TextFile.parse(text).lines();
        for (int i = 0; i < lines.size(); i++) {
            String t = lines.get(i).strip();
            if (t.isEmpty() || t.startsWith("#") || t.startsWith(";")) {
                continue;
            }
            if (t.startsWith("[") && t.endsWith("]")) {
                section = t.substring(1, t.length() - 1).strip();
                continue;
            }
            int eq = t.indexOf('=');
            if (eq > 0) {
                items.add(new Item(section, t.substring(0, eq).strip(), t.substring(eq + 1).strip(), i + 1));
            }
        }
        return new IniFile(items);
    }

    List<Item> items() {
        return items;
    }

    Optional<Item> last(String section, String key) {
        Item found = null;
        for (Item it : items) {
            if (it.section().equalsIgnoreCase(section) && it.key().equals(key)) {
                found = it;
            }
        }
        return Optional.ofNullable(found);
    }

    Optional<String> get(String section, String key) {
        return last(section, key).map(Item::value);
    }

    List<Item> all(String section, String key) {
        return items.stream().filter(it -> it.section().equalsIgnoreCase(section) && it.key().equals(key)).toList();
    }
}
